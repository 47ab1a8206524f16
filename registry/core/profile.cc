#include "core/profile.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

namespace modelreg {
namespace {
using nlohmann::json;

Status Bad(const std::string& where, const std::string& what) { return Status::InvalidArgument(where + " " + what); }

// Strict: a misspelled field must not silently drop a fact.
Status CheckFields(const json& o, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [k, v] : o.items())
    if (!known.count(k)) return Bad(where, "has unknown field '" + k + "'");
  return Status::OK();
}

Result<const json*> Field(const json& o, const char* key, const std::string& where, bool required) {
  auto it = o.find(key);
  if (it == o.end()) {
    if (required) return Bad(where + "." + key, "is required");
    return static_cast<const json*>(nullptr);
  }
  return &*it;
}

Result<double> Finite(const json& v, const std::string& where) {
  if (!v.is_number()) return Bad(where, "must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d)) return Bad(where, "must be a finite number");
  return d;
}

Result<int64_t> Count(const json& v, const std::string& where) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    return Bad(where, "must be a non-negative integer");
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return Bad(where, "is too large");
  return v.get<int64_t>();
}

Result<std::string> String(const json& v, const std::string& where) {
  if (!v.is_string()) return Bad(where, "must be a string");
  return v.get<std::string>();
}

Result<std::string> Name(const json& o, const std::string& where) {
  MR_ASSIGN_OR_RETURN(const json* n, Field(o, "name", where, true));
  MR_ASSIGN_OR_RETURN(std::string s, String(*n, where + ".name"));
  if (s.empty()) return Bad(where + ".name", "must not be empty");
  return s;
}

Result<std::vector<std::string>> Strings(const json& v, const std::string& where) {
  if (!v.is_array()) return Bad(where, "must be an array of strings");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < v.size(); ++i) {
    MR_ASSIGN_OR_RETURN(std::string s, String(v[i], where + "[" + std::to_string(i) + "]"));
    if (!seen.insert(s).second) return Bad(where, "lists \"" + s + "\" twice");
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<double>> Numbers(const json& v, const std::string& where) {
  if (!v.is_array()) return Bad(where, "must be an array of numbers");
  std::vector<double> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    MR_ASSIGN_OR_RETURN(double d, Finite(v[i], where + "[" + std::to_string(i) + "]"));
    out.push_back(d);
  }
  return out;
}

json ColumnJson(const ColumnProfile& c) {
  json j = {{"name", c.name},
            {"type", ColumnTypeName(c.type)},
            {"count", c.count},
            {"missing", c.missing},
            {"fractions", c.fractions}};
  if (c.type == ColumnType::kNumeric) {
    j["min"] = c.min;
    j["max"] = c.max;
    j["edges"] = c.edges;
  }
  if (c.type == ColumnType::kCategorical) j["categories"] = c.categories;
  return j;
}

Result<ColumnProfile> ColumnFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "must be an object");
  MR_RETURN_IF_ERROR(
      CheckFields(j, {"name", "type", "count", "missing", "min", "max", "edges", "categories", "fractions"}, where));
  ColumnProfile c;
  MR_ASSIGN_OR_RETURN(c.name, Name(j, where));
  const std::string at = where + " (\"" + c.name + "\")";
  MR_ASSIGN_OR_RETURN(const json* t, Field(j, "type", at, true));
  MR_ASSIGN_OR_RETURN(std::string ts, String(*t, at + ".type"));
  auto type = ParseColumnType(ts);
  if (!type.ok()) return type.status().WithContext(at + ".type");
  c.type = *type;
  MR_ASSIGN_OR_RETURN(const json* count, Field(j, "count", at, true));
  MR_ASSIGN_OR_RETURN(c.count, Count(*count, at + ".count"));
  MR_ASSIGN_OR_RETURN(const json* missing, Field(j, "missing", at, true));
  MR_ASSIGN_OR_RETURN(c.missing, Count(*missing, at + ".missing"));
  if (c.missing > c.count) return Bad(at + ".missing", "is larger than count");
  const bool numeric = c.type == ColumnType::kNumeric, categorical = c.type == ColumnType::kCategorical;
  for (const char* k : {"min", "max", "edges"})
    if (!numeric && j.contains(k)) return Bad(at + "." + k, "is only for numeric columns");
  if (!categorical && j.contains("categories")) return Bad(at + ".categories", "is only for categorical columns");
  if (numeric) {
    MR_ASSIGN_OR_RETURN(const json* mn, Field(j, "min", at, true));
    MR_ASSIGN_OR_RETURN(c.min, Finite(*mn, at + ".min"));
    MR_ASSIGN_OR_RETURN(const json* mx, Field(j, "max", at, true));
    MR_ASSIGN_OR_RETURN(c.max, Finite(*mx, at + ".max"));
    if (c.min > c.max) return Bad(at + ".min", "is larger than max");
    MR_ASSIGN_OR_RETURN(const json* e, Field(j, "edges", at, true));
    MR_ASSIGN_OR_RETURN(c.edges, Numbers(*e, at + ".edges"));
    for (size_t i = 1; i < c.edges.size(); ++i)
      if (!(c.edges[i - 1] < c.edges[i])) return Bad(at + ".edges", "must be strictly increasing");
  }
  if (categorical) {
    MR_ASSIGN_OR_RETURN(const json* cs, Field(j, "categories", at, true));
    MR_ASSIGN_OR_RETURN(c.categories, Strings(*cs, at + ".categories"));
  }
  MR_ASSIGN_OR_RETURN(const json* f, Field(j, "fractions", at, true));
  MR_ASSIGN_OR_RETURN(c.fractions, Numbers(*f, at + ".fractions"));
  if (c.fractions.size() != c.Bins())
    return Bad(at + ".fractions", "has " + std::to_string(c.fractions.size()) + " entries, want " +
                                      std::to_string(c.Bins()) + " (one per bin)");
  double sum = 0;
  for (double x : c.fractions) {
    if (x < 0 || x > 1) return Bad(at + ".fractions", "must each be in [0, 1]");
    sum += x;
  }
  // A column with no value at all (every row missing) has all-zero fractions.
  const bool empty = c.count == c.missing;
  if (empty ? sum != 0 : std::fabs(sum - 1) > 1e-6)
    return Bad(at + ".fractions", empty ? "must be all 0 when every value is missing" : "must sum to 1");
  return c;
}

json SchemaJson(const InputSchema& s) {
  json cols = json::array();
  for (const auto& c : s.columns) {
    json j = {{"name", c.name}, {"type", ColumnTypeName(c.type)}, {"required", c.required}};
    if (c.min) j["min"] = *c.min;
    if (c.max) j["max"] = *c.max;
    if (!c.categories.empty()) j["categories"] = c.categories;
    cols.push_back(std::move(j));
  }
  return {{"columns", std::move(cols)}, {"margin", s.margin}};
}

Result<InputSchema> SchemaFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "must be a JSON object");
  MR_RETURN_IF_ERROR(CheckFields(j, {"columns", "margin"}, where));
  InputSchema s;
  MR_ASSIGN_OR_RETURN(const json* cols, Field(j, "columns", where, true));
  if (!cols->is_array()) return Bad(where + ".columns", "must be an array");
  std::set<std::string> names;
  for (size_t i = 0; i < cols->size(); ++i) {
    const json& cj = (*cols)[i];
    const std::string w = where + ".columns[" + std::to_string(i) + "]";
    if (!cj.is_object()) return Bad(w, "must be an object");
    MR_RETURN_IF_ERROR(CheckFields(cj, {"name", "type", "min", "max", "categories", "required"}, w));
    SchemaColumn c;
    MR_ASSIGN_OR_RETURN(c.name, Name(cj, w));
    if (!names.insert(c.name).second) return Bad(where + ".columns", "lists \"" + c.name + "\" twice");
    const std::string at = w + " (\"" + c.name + "\")";
    MR_ASSIGN_OR_RETURN(const json* t, Field(cj, "type", at, true));
    MR_ASSIGN_OR_RETURN(std::string ts, String(*t, at + ".type"));
    auto type = ParseColumnType(ts);
    if (!type.ok()) return type.status().WithContext(at + ".type");
    c.type = *type;
    for (const char* k : {"min", "max"}) {
      MR_ASSIGN_OR_RETURN(const json* v, Field(cj, k, at, false));
      if (!v) continue;
      if (c.type != ColumnType::kNumeric) return Bad(at + "." + k, "is only for numeric columns");
      MR_ASSIGN_OR_RETURN(double d, Finite(*v, at + "." + k));
      (k[1] == 'i' ? c.min : c.max) = d;
    }
    if (c.min && c.max && *c.min > *c.max) return Bad(at + ".min", "is larger than max");
    MR_ASSIGN_OR_RETURN(const json* cs, Field(cj, "categories", at, false));
    if (cs) {
      if (c.type != ColumnType::kCategorical) return Bad(at + ".categories", "is only for categorical columns");
      MR_ASSIGN_OR_RETURN(c.categories, Strings(*cs, at + ".categories"));
    }
    MR_ASSIGN_OR_RETURN(const json* r, Field(cj, "required", at, false));
    if (r) {
      if (!r->is_boolean()) return Bad(at + ".required", "must be true or false");
      c.required = r->get<bool>();
    }
    s.columns.push_back(std::move(c));
  }
  MR_ASSIGN_OR_RETURN(const json* m, Field(j, "margin", where, false));
  if (m) {
    MR_ASSIGN_OR_RETURN(s.margin, Finite(*m, where + ".margin"));
    if (s.margin < 0) return Bad(where + ".margin", "must not be negative");
  }
  return s;
}

std::string Dump(const json& j) {
  // Column names and categories come from user data and may be invalid
  // UTF-8 (the builder refuses that, but a hand-made Profile may not):
  // replace such bytes rather than throw out of this module.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json ParseJson(std::string_view bytes) { return json::parse(bytes.begin(), bytes.end(), nullptr, false); }

}  // namespace

const char* ColumnTypeName(ColumnType t) {
  switch (t) {
    case ColumnType::kNumeric:
      return "numeric";
    case ColumnType::kCategorical:
      return "categorical";
    case ColumnType::kBoolean:
      return "boolean";
  }
  return "numeric";
}

Result<ColumnType> ParseColumnType(std::string_view s) {
  if (s == "numeric") return ColumnType::kNumeric;
  if (s == "categorical") return ColumnType::kCategorical;
  if (s == "boolean") return ColumnType::kBoolean;
  return Status::InvalidArgument("unknown column type '" + std::string(s) + "' (want numeric, categorical or boolean)");
}

size_t ColumnProfile::Bins() const {
  switch (type) {
    case ColumnType::kNumeric:
      return edges.size() + 1;
    case ColumnType::kBoolean:
      return 2;
    case ColumnType::kCategorical:
      return categories.size() + 1;
  }
  return 1;
}

size_t ColumnProfile::NumericBin(double x) const {
  switch (type) {
    case ColumnType::kNumeric:
      return std::upper_bound(edges.begin(), edges.end(), x) - edges.begin();
    case ColumnType::kBoolean:
      return x != 0 ? 1 : 0;
    case ColumnType::kCategorical:
      return categories.size();  // a number is no listed category
  }
  return 0;
}

size_t ColumnProfile::CategoryBin(std::string_view value) const {
  if (type == ColumnType::kBoolean) return value == "true" ? 1 : value == "false" ? 0 : Bins();
  if (type != ColumnType::kCategorical) return Bins();
  // Top-K is small (about 20): a linear scan beats hashing here.
  for (size_t i = 0; i < categories.size(); ++i)
    if (categories[i] == value) return i;
  return categories.size();
}

std::string SerializeProfile(const Profile& p) {
  json cols = json::array();
  for (const auto& c : p.columns) cols.push_back(ColumnJson(c));
  json j = {{"format", kProfileFormat},
            {"dataset", p.dataset},
            {"rows", p.rows},
            {"columns", std::move(cols)},
            {"schema", SchemaJson(p.schema)}};
  if (p.output) j["output"] = ColumnJson(*p.output);
  return Dump(j);
}

Result<Profile> ParseProfile(std::string_view bytes) {
  json j = ParseJson(bytes);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("profile is not a JSON object");
  MR_RETURN_IF_ERROR(CheckFields(j, {"format", "dataset", "rows", "columns", "output", "schema"}, "profile"));
  MR_ASSIGN_OR_RETURN(const json* f, Field(j, "format", "profile", true));
  MR_ASSIGN_OR_RETURN(std::string format, String(*f, "profile.format"));
  if (format != kProfileFormat)
    return Bad("profile.format", "is '" + format + "', want '" + std::string(kProfileFormat) + "'");
  Profile p;
  MR_ASSIGN_OR_RETURN(const json* d, Field(j, "dataset", "profile", true));
  MR_ASSIGN_OR_RETURN(p.dataset, String(*d, "profile.dataset"));
  MR_ASSIGN_OR_RETURN(const json* rows, Field(j, "rows", "profile", true));
  MR_ASSIGN_OR_RETURN(p.rows, Count(*rows, "profile.rows"));
  MR_ASSIGN_OR_RETURN(const json* cols, Field(j, "columns", "profile", true));
  if (!cols->is_array()) return Bad("profile.columns", "must be an array");
  std::set<std::string> names;
  for (size_t i = 0; i < cols->size(); ++i) {
    MR_ASSIGN_OR_RETURN(ColumnProfile c, ColumnFromJson((*cols)[i], "profile.columns[" + std::to_string(i) + "]"));
    if (!names.insert(c.name).second) return Bad("profile.columns", "lists \"" + c.name + "\" twice");
    if (c.count != p.rows) return Bad("profile.columns[" + std::to_string(i) + "].count", "differs from profile.rows");
    p.columns.push_back(std::move(c));
  }
  MR_ASSIGN_OR_RETURN(const json* out, Field(j, "output", "profile", false));
  if (out) {
    MR_ASSIGN_OR_RETURN(ColumnProfile c, ColumnFromJson(*out, "profile.output"));
    if (c.count != p.rows) return Bad("profile.output.count", "differs from profile.rows");
    p.output = std::move(c);
  }
  MR_ASSIGN_OR_RETURN(const json* s, Field(j, "schema", "profile", true));
  MR_ASSIGN_OR_RETURN(p.schema, SchemaFromJson(*s, "profile.schema"));
  return p;
}

InputSchema SchemaFromProfile(const std::vector<ColumnProfile>& columns) {
  InputSchema s;
  for (const auto& c : columns) {
    SchemaColumn sc;
    sc.name = c.name;
    sc.type = c.type;
    sc.required = true;
    if (c.type == ColumnType::kNumeric && c.count > c.missing) {
      sc.min = c.min;
      sc.max = c.max;
    }
    // Every distinct value was kept: anything else is a category the model
    // never saw. With an "other" share, unseen values are expected.
    if (c.type == ColumnType::kCategorical && !c.fractions.empty() && c.fractions.back() == 0)
      sc.categories = c.categories;
    s.columns.push_back(std::move(sc));
  }
  return s;
}

Result<InputSchema> ParseSchemaJson(std::string_view bytes) {
  json j = ParseJson(bytes);
  if (j.is_discarded()) return Status::InvalidArgument("schema is not valid JSON");
  return SchemaFromJson(j, "schema");
}

std::string SerializeSchemaJson(const InputSchema& s) { return Dump(SchemaJson(s)); }

}  // namespace modelreg
