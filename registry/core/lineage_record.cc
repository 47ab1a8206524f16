#include "core/lineage_record.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/bundle_path.h"
#include "core/flag_values.h"
#include "core/param_json.h"
#include "core/terminal_text.h"

namespace modelreg {
namespace {
using nlohmann::json;

Result<ParamValue> ParamFromJson(const std::string& key, const json& j) {
  if (j.is_null()) return ParamValue{std::monostate{}};
  if (j.is_boolean()) return ParamValue{j.get<bool>()};
  // is_number_integer() is also true for unsigned values: check those first,
  // or a value above INT64_MAX would wrap to a negative integer.
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return ParamValue{static_cast<double>(u)};  // as nlohmann does beyond uint64
    return ParamValue{static_cast<int64_t>(u)};
  }
  if (j.is_number_integer()) return ParamValue{j.get<int64_t>()};
  if (j.is_number_float()) return ParamValue{j.get<double>()};
  if (j.is_string()) return ParamValue{j.get<std::string>()};
  return Status::InvalidArgument("param '" + key + "' must be a JSON scalar, not " + j.type_name());
}

Status CheckKey(const char* what, const std::string& k) {
  if (k.empty() || k.size() > 256)
    return Status::InvalidArgument(std::string(what) + " name must be 1 to 256 characters");
  for (unsigned char c : k)
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument(std::string(what) + " name contains a control character");
  return Status::OK();
}

Result<std::string> GetString(const json& o, const char* key, const std::string& where, bool required) {
  auto it = o.find(key);
  if (it == o.end()) {
    if (required) return Status::InvalidArgument(where + "." + key + " is required");
    return std::string();
  }
  if (!it->is_string()) return Status::InvalidArgument(where + "." + key + " must be a string");
  return it->get<std::string>();
}

// Strict: a misspelled field ("digset") must not silently drop a fact.
Status CheckFields(const json& o, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [k, v] : o.items())
    if (!known.count(k)) return Status::InvalidArgument(where + " has unknown field '" + k + "'");
  return Status::OK();
}

bool IsHex40(const std::string& s) {
  return s.size() == 40 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
}  // namespace

std::string SerializeLineage(const LineageRecord& r) {
  json j = json::object();
  j["model"] = r.model;
  std::vector<DatasetRef> data = r.data;
  std::sort(data.begin(), data.end(), [](const DatasetRef& a, const DatasetRef& b) { return a.name < b.name; });
  json dj = json::array();
  for (const auto& d : data) {
    json e = {{"name", d.name}, {"uri", d.uri}};
    if (d.digest) e["digest"] = d.digest->str();
    dj.push_back(std::move(e));
  }
  j["data"] = std::move(dj);
  if (r.code) {
    json c = {{"repo", r.code->repo}, {"commit", r.code->commit}, {"dirty", r.code->dirty}};
    if (!r.code->branch.empty()) c["branch"] = r.code->branch;
    if (!r.code->entrypoint.empty()) c["entrypoint"] = r.code->entrypoint;
    j["code"] = std::move(c);
  }
  json p = json::object();
  for (const auto& [k, v] : r.params) p[k] = ParamJson(v);
  j["params"] = std::move(p);
  json m = json::object();
  for (const auto& [k, v] : r.metrics) m[k] = v;
  j["metrics"] = std::move(m);
  json e = json::object();
  for (const auto& [k, v] : r.environment) e[k] = v;
  j["environment"] = std::move(e);
  if (r.parent) j["parent"] = r.parent->str();
  if (r.profile) j["profile"] = {{"digest", r.profile->digest.str()}, {"size", r.profile->size}};
  // Text from the command line or git may be invalid UTF-8; plain dump()
  // would throw out of this module. Replace such bytes with U+FFFD instead.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<LineageRecord> ParseLineage(std::string_view bytes) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("lineage record is not a JSON object");
  static const std::set<std::string> kKeys = {"model",   "data",        "code",   "params",
                                              "metrics", "environment", "parent", "profile"};
  for (const auto& [k, v] : j.items())
    if (!kKeys.count(k)) return Status::InvalidArgument("lineage record has unknown field '" + k + "'");
  LineageRecord r;
  MR_ASSIGN_OR_RETURN(r.model, GetString(j, "model", "lineage", true));
  MR_RETURN_IF_ERROR(ValidateModelName(r.model));
  if (auto it = j.find("data"); it != j.end()) {
    if (!it->is_array()) return Status::InvalidArgument("lineage.data must be an array");
    std::set<std::string> names;
    for (size_t i = 0; i < it->size(); ++i) {
      const json& d = (*it)[i];
      std::string where = "lineage.data[" + std::to_string(i) + "]";
      if (!d.is_object()) return Status::InvalidArgument(where + " must be an object");
      MR_RETURN_IF_ERROR(CheckFields(d, {"name", "uri", "digest"}, where));
      DatasetRef ref;
      MR_ASSIGN_OR_RETURN(ref.name, GetString(d, "name", where, true));
      MR_RETURN_IF_ERROR(CheckKey("dataset", ref.name).WithContext(where));
      if (!names.insert(ref.name).second) return Status::InvalidArgument("dataset '" + ref.name + "' is listed twice");
      MR_ASSIGN_OR_RETURN(ref.uri, GetString(d, "uri", where, false));
      MR_ASSIGN_OR_RETURN(std::string dg, GetString(d, "digest", where, false));
      if (!dg.empty()) {
        auto p = Digest::Parse(dg);
        if (!p.ok()) return p.status().WithContext(where);
        ref.digest = *p;
      }
      r.data.push_back(std::move(ref));
    }
  }
  if (auto it = j.find("code"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Status::InvalidArgument("lineage.code must be an object");
    MR_RETURN_IF_ERROR(CheckFields(*it, {"repo", "commit", "branch", "dirty", "entrypoint"}, "lineage.code"));
    CodeRef c;
    MR_ASSIGN_OR_RETURN(c.repo, GetString(*it, "repo", "lineage.code", false));
    MR_ASSIGN_OR_RETURN(c.commit, GetString(*it, "commit", "lineage.code", true));
    if (!IsHex40(c.commit)) return Status::InvalidArgument("lineage.code.commit must be 40 lowercase hex characters");
    MR_ASSIGN_OR_RETURN(c.branch, GetString(*it, "branch", "lineage.code", false));
    MR_ASSIGN_OR_RETURN(c.entrypoint, GetString(*it, "entrypoint", "lineage.code", false));
    auto d = it->find("dirty");
    if (d != it->end()) {
      if (!d->is_boolean()) return Status::InvalidArgument("lineage.code.dirty must be true or false");
      c.dirty = d->get<bool>();
    }
    r.code = std::move(c);
  }
  if (auto it = j.find("params"); it != j.end()) {
    if (!it->is_object()) return Status::InvalidArgument("lineage.params must be an object");
    for (const auto& [k, v] : it->items()) {
      MR_RETURN_IF_ERROR(CheckKey("param", k));
      MR_ASSIGN_OR_RETURN(r.params[k], ParamFromJson(k, v));
    }
  }
  if (auto it = j.find("metrics"); it != j.end()) {
    if (!it->is_object()) return Status::InvalidArgument("lineage.metrics must be an object");
    for (const auto& [k, v] : it->items()) {
      MR_RETURN_IF_ERROR(CheckKey("metric", k));
      if (!v.is_number()) return Status::InvalidArgument("metric '" + k + "' must be a number");
      r.metrics[k] = v.get<double>();
    }
  }
  if (auto it = j.find("environment"); it != j.end()) {
    if (!it->is_object()) return Status::InvalidArgument("lineage.environment must be an object");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return Status::InvalidArgument("environment '" + k + "' must be a string");
      r.environment[k] = v.get<std::string>();
    }
  }
  MR_ASSIGN_OR_RETURN(std::string parent, GetString(j, "parent", "lineage", false));
  if (!parent.empty()) {
    auto p = Digest::Parse(parent);
    if (!p.ok()) return p.status().WithContext("lineage.parent");
    r.parent = *p;
  }
  if (auto it = j.find("profile"); it != j.end()) {
    if (!it->is_object()) return Status::InvalidArgument("lineage.profile must be an object");
    MR_RETURN_IF_ERROR(CheckFields(*it, {"digest", "size"}, "lineage.profile"));
    MR_ASSIGN_OR_RETURN(std::string dg, GetString(*it, "digest", "lineage.profile", true));
    auto d = Digest::Parse(dg);
    if (!d.ok()) return d.status().WithContext("lineage.profile.digest");
    auto size = it->find("size");
    if (size == it->end() || !size->is_number_unsigned())
      return Status::InvalidArgument("lineage.profile.size must be a non-negative integer");
    r.profile = ProfileRef{*d, size->get<uint64_t>()};
  }
  return r;
}

Status CheckLineageText(const LineageRecord& r) {
  auto check = [](const std::string& where, const std::string& what, const std::string& text) {
    const std::string c = FirstControlChar(text);
    if (c.empty()) return Status::OK();
    return Status::InvalidArgument(where + ": " + what + "\"" + TerminalSafe(text) +
                                   "\" contains a control character (" + c + ")");
  };
  for (size_t i = 0; i < r.data.size(); ++i) {
    const std::string where = "lineage.data[" + std::to_string(i) + "]";
    MR_RETURN_IF_ERROR(check(where + ".name", "", r.data[i].name));
    MR_RETURN_IF_ERROR(check(where + ".uri", "", r.data[i].uri));
  }
  if (r.code) {
    MR_RETURN_IF_ERROR(check("lineage.code.repo", "", r.code->repo));
    MR_RETURN_IF_ERROR(check("lineage.code.branch", "", r.code->branch));
    MR_RETURN_IF_ERROR(check("lineage.code.entrypoint", "", r.code->entrypoint));
  }
  for (const auto& [k, v] : r.params) MR_RETURN_IF_ERROR(check("lineage.params", "key ", k));
  for (const auto& [k, v] : r.metrics) MR_RETURN_IF_ERROR(check("lineage.metrics", "key ", k));
  for (const auto& [k, v] : r.environment) MR_RETURN_IF_ERROR(check("lineage.environment", "key ", k));
  return Status::OK();
}

ParamValue ParseParamText(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_discarded() && (j.is_number() || j.is_boolean() || j.is_null())) {
    auto v = ParamFromJson("", j);
    if (v.ok()) {
      if (auto* d = std::get_if<double>(&*v); d && !std::isfinite(*d)) return std::string(text);
      return *v;
    }
  }
  return std::string(text);
}

std::string ParamToString(const ParamValue& v) { return ParamJson(v).dump(); }

Result<std::map<std::string, ParamValue>> ParseParamsJson(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument("params file must hold a JSON object of scalars");
  std::map<std::string, ParamValue> out;
  for (const auto& [k, v] : j.items()) {
    MR_RETURN_IF_ERROR(CheckKey("param", k));
    MR_ASSIGN_OR_RETURN(out[k], ParamFromJson(k, v));
  }
  return out;
}

Result<std::map<std::string, double>> ParseMetricsJson(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument("metrics file must hold a JSON object of numbers");
  std::map<std::string, double> out;
  for (const auto& [k, v] : j.items()) {
    MR_RETURN_IF_ERROR(CheckKey("metric", k));
    if (!v.is_number()) return Status::InvalidArgument("metric '" + k + "' must be a number");
    out[k] = v.get<double>();
  }
  return out;
}

Result<double> ParseMetricText(std::string_view key, std::string_view text) {
  auto d = ParseFiniteDecimal(text);
  if (!d)
    return Status::InvalidArgument("metric '" + std::string(key) + "' value '" + std::string(text) +
                                   "' is not a finite number");
  return *d;
}

}  // namespace modelreg
