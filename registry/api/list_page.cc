// Filtering, sorting and paging of the REST lists (api/list_page.h).
#include "api/list_page.h"

#include <algorithm>
#include <cctype>

namespace modelreg::api {
namespace {

using json = nlohmann::json;

json SortKey(const json& row, const std::string& sort) {
  if (sort.rfind("metric:", 0) == 0) {
    const auto m = row.find("metrics");
    if (m == row.end() || !m->is_object()) return nullptr;
    const auto v = m->find(sort.substr(7));
    return v == m->end() ? json(nullptr) : *v;
  }
  const auto v = row.find(sort);
  return v == row.end() ? json(nullptr) : *v;
}

// A total order on keys: nulls (a missing metric, no production version)
// always last, then the JSON order (numbers by value, strings by bytes).
int CompareKeys(const json& a, const json& b) {
  if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : (a.is_null() ? 1 : -1);
  if (a < b) return -1;
  if (b < a) return 1;
  return 0;
}

}  // namespace

std::string EncodePageToken(const json& position) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string s = position.dump();
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char ch : s) {
    out.push_back(kHex[ch >> 4]);
    out.push_back(kHex[ch & 15]);
  }
  return out;
}

Result<json> DecodePageToken(const std::string& token) {
  auto bad = [] {
    return Status::InvalidArgument("page_token is not one this server gave out: start again without it");
  };
  if (token.empty() || token.size() % 2 != 0 || token.size() > 4096) return bad();
  std::string s;
  for (size_t i = 0; i < token.size(); i += 2) {
    auto nib = [](char ch) -> int {
      if (ch >= '0' && ch <= '9') return ch - '0';
      if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
      return -1;
    };
    const int hi = nib(token[i]), lo = nib(token[i + 1]);
    if (hi < 0 || lo < 0) return bad();
    s.push_back(static_cast<char>(hi * 16 + lo));
  }
  json j = json::parse(s, nullptr, false);
  if (!j.is_object()) return bad();
  return j;
}

Status PageRows(const Ctx& c, const ListSpec& spec, std::vector<json> rows, const char* array_key, json* out) {
  std::string sort = c.req.has_param("sort") ? c.req.get_param_value("sort") : spec.default_sort;
  const bool metric = spec.metric_sort && sort.rfind("metric:", 0) == 0 && sort.size() > 7;
  if (!metric && std::find(spec.sort_fields.begin(), spec.sort_fields.end(), sort) == spec.sort_fields.end()) {
    std::string names;
    for (const auto& f : spec.sort_fields) names += (names.empty() ? "" : ", ") + f;
    if (spec.metric_sort) names += ", metric:NAME";
    return Status::InvalidArgument("sort must be one of " + names + ", got '" + sort + "'");
  }
  const std::string order = c.req.has_param("order") ? c.req.get_param_value("order") : spec.default_order;
  if (order != "asc" && order != "desc")
    return Status::InvalidArgument("order must be asc or desc, got '" + order + "'");
  const bool desc = order == "desc";
  MR_ASSIGN_OR_RETURN(const int64_t limit, IntParam(c, "limit", 1, kMaxListLimit, 0));

  // (key, id) ascending or descending; nulls last either way.
  auto cmp = [&](const json& ka, const json& ia, const json& kb, const json& ib) {
    int r = CompareKeys(ka, kb);
    if (r != 0 && !ka.is_null() && !kb.is_null()) return desc ? -r : r;
    if (r != 0) return r;
    r = CompareKeys(ia, ib);
    return desc ? -r : r;
  };
  // Each row's sort key and id taken out once: looking them up in the
  // row's object at every comparison was most of a 10 000-row list's time.
  struct Keyed {
    json key, id;
    json* row;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(rows.size());
  for (auto& r : rows) {
    auto id = r.find(spec.id_field);
    keyed.push_back({SortKey(r, sort), id == r.end() ? json() : *id, &r});
  }
  std::sort(keyed.begin(), keyed.end(),
            [&](const Keyed& a, const Keyed& b) { return cmp(a.key, a.id, b.key, b.id) < 0; });

  size_t start = 0;
  if (c.req.has_param("page_token")) {
    MR_ASSIGN_OR_RETURN(json pos, DecodePageToken(c.req.get_param_value("page_token")));
    if (pos.value("sort", "") != sort || pos.value("order", "") != order || !pos.contains("key") || !pos.contains("id"))
      return Status::InvalidArgument("page_token was made for another sort or order: start again without it");
    while (start < keyed.size() && cmp(keyed[start].key, keyed[start].id, pos["key"], pos["id"]) <= 0) ++start;
  }
  const size_t end = limit > 0 ? std::min(keyed.size(), start + static_cast<size_t>(limit)) : keyed.size();
  json arr = json::array();
  for (size_t i = start; i < end; ++i) arr.push_back(std::move(*keyed[i].row));
  (*out)["total"] = keyed.size();
  if (end < keyed.size() && end > start) {
    (*out)["next_page_token"] =
        EncodePageToken({{"sort", sort}, {"order", order}, {"key", keyed[end - 1].key}, {"id", keyed[end - 1].id}});
  }
  (*out)[array_key] = std::move(arr);
  return Status::OK();
}

std::string LowerQuery(const Ctx& c) {
  std::string q = c.req.get_param_value("q");
  std::transform(q.begin(), q.end(), q.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return q;
}

bool MatchesQuery(const std::string& needle, const std::vector<std::string>& fields) {
  if (needle.empty()) return true;
  for (std::string f : fields) {
    std::transform(f.begin(), f.end(), f.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (f.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace modelreg::api
