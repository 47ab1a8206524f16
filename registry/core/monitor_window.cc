#include "core/monitor_window.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/digest.h"
#include "core/utf8_text.h"

namespace modelreg {
namespace {
using nlohmann::json;

constexpr size_t kMaxNameBytes = 1024;

json FeatureJson(const FeatureWindow& f) {
  return json{{"name", f.name},
              {"n", f.n},
              {"missing", f.missing},
              {"out_of_range", f.out_of_range},
              {"type_errors", f.type_errors},
              {"unknown_category", f.unknown_category},
              {"counts", f.counts}};
}

json WindowJson(const MonitorWindow& w) {
  json features = json::array();
  for (const auto& f : w.features) features.push_back(FeatureJson(f));
  json j{{"version", w.version},       {"digest", w.digest},     {"arm", w.arm},
         {"start_ms", w.start_ms},     {"end_ms", w.end_ms},     {"reference", w.reference},
         {"requests", w.requests},     {"rows", w.rows},         {"unreadable", w.unreadable},
         {"violations", w.violations}, {"rejected", w.rejected}, {"features", std::move(features)}};
  if (w.output) j["output"] = FeatureJson(*w.output);
  return j;
}

// Strict: a misspelled field must not silently drop a count.
Status CheckFields(const json& o, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [k, v] : o.items())
    if (!known.count(k)) return Status::InvalidArgument(where + " has unknown field '" + k + "'");
  return Status::OK();
}

const json* Field(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

// A JSON integer >= 0 that fits int64 (floats, even 3.0, are refused).
Result<int64_t> Count(const json& o, const char* key, const std::string& where) {
  const json* v = Field(o, key);
  if (!v) return Status::InvalidArgument(where + "." + key + " is required");
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return Status::InvalidArgument(where + "." + key + " is too large");
    return static_cast<int64_t>(u);
  }
  if (v->is_number_integer()) return Status::InvalidArgument(where + "." + key + " must not be negative");
  return Status::InvalidArgument(where + "." + key + " must be a non-negative integer");
}

Result<std::string> Name(const json& o, const std::string& where, bool allow_empty) {
  const json* v = Field(o, "name");
  if (!v) return Status::InvalidArgument(where + ".name is required");
  if (!v->is_string()) return Status::InvalidArgument(where + ".name must be a string");
  std::string s = v->get<std::string>();
  if (s.empty() && !allow_empty) return Status::InvalidArgument(where + ".name must not be empty");
  if (s.size() > kMaxNameBytes)
    return Status::InvalidArgument(where + ".name is longer than " + std::to_string(kMaxNameBytes) + " bytes");
  if (!IsValidUtf8(s)) return Status::InvalidArgument(where + ".name is not UTF-8");
  return s;
}

Result<FeatureWindow> ParseFeature(const json& j, const std::string& where, bool reference, bool is_output) {
  if (!j.is_object()) return Status::InvalidArgument(where + " must be an object");
  MR_RETURN_IF_ERROR(
      CheckFields(j, {"name", "n", "missing", "out_of_range", "type_errors", "unknown_category", "counts"}, where));
  FeatureWindow f;
  MR_ASSIGN_OR_RETURN(f.name, Name(j, where, is_output));
  MR_ASSIGN_OR_RETURN(f.n, Count(j, "n", where));
  MR_ASSIGN_OR_RETURN(f.missing, Count(j, "missing", where));
  MR_ASSIGN_OR_RETURN(f.out_of_range, Count(j, "out_of_range", where));
  MR_ASSIGN_OR_RETURN(f.type_errors, Count(j, "type_errors", where));
  MR_ASSIGN_OR_RETURN(f.unknown_category, Count(j, "unknown_category", where));
  const json* counts = Field(j, "counts");
  if (!counts) return Status::InvalidArgument(where + ".counts is required");
  if (!counts->is_array()) return Status::InvalidArgument(where + ".counts must be an array");
  if (!reference && !counts->empty())
    return Status::InvalidArgument(where + ".counts must be empty in a window without a reference");
  f.counts.reserve(counts->size());
  int64_t sum = 0;
  for (size_t i = 0; i < counts->size(); ++i) {
    const json& c = (*counts)[i];
    const std::string at = where + ".counts[" + std::to_string(i) + "]";
    if (!c.is_number_unsigned()) {
      if (c.is_number_integer()) return Status::InvalidArgument(at + " must not be negative");
      return Status::InvalidArgument(at + " must be a non-negative integer");
    }
    const uint64_t u = c.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() - sum))
      return Status::InvalidArgument(where + ".counts add up to more than an int64");
    sum += static_cast<int64_t>(u);
    f.counts.push_back(static_cast<int64_t>(u));
  }
  if (!f.counts.empty() && sum != f.n)
    return Status::InvalidArgument(where + ".counts add up to " + std::to_string(sum) +
                                   ", not n = " + std::to_string(f.n));
  return f;
}

Result<MonitorWindow> ParseWindow(const json& j, const std::string& where) {
  if (!j.is_object()) return Status::InvalidArgument(where + " must be an object");
  MR_RETURN_IF_ERROR(CheckFields(j,
                                 {"version", "digest", "arm", "start_ms", "end_ms", "reference", "requests", "rows",
                                  "unreadable", "violations", "rejected", "features", "output"},
                                 where));
  MonitorWindow w;
  MR_ASSIGN_OR_RETURN(w.version, Count(j, "version", where));
  if (w.version < 1) return Status::InvalidArgument(where + ".version must be at least 1");
  const json* digest = Field(j, "digest");
  if (!digest || !digest->is_string()) return Status::InvalidArgument(where + ".digest must be a string");
  w.digest = digest->get<std::string>();
  if (!Digest::Parse(w.digest).ok()) return Status::InvalidArgument(where + ".digest is not sha256:<64 lowercase hex>");
  const json* arm = Field(j, "arm");
  if (!arm || !arm->is_string()) return Status::InvalidArgument(where + ".arm must be a string");
  w.arm = arm->get<std::string>();
  if (w.arm != "" && w.arm != "baseline" && w.arm != "candidate")
    return Status::InvalidArgument(where + ".arm must be \"\", \"baseline\" or \"candidate\"");
  MR_ASSIGN_OR_RETURN(w.start_ms, Count(j, "start_ms", where));
  MR_ASSIGN_OR_RETURN(w.end_ms, Count(j, "end_ms", where));
  if (w.start_ms >= w.end_ms) return Status::InvalidArgument(where + ".start_ms must be before end_ms");
  const json* reference = Field(j, "reference");
  if (!reference || !reference->is_boolean()) return Status::InvalidArgument(where + ".reference must be a boolean");
  w.reference = reference->get<bool>();
  MR_ASSIGN_OR_RETURN(w.requests, Count(j, "requests", where));
  MR_ASSIGN_OR_RETURN(w.rows, Count(j, "rows", where));
  MR_ASSIGN_OR_RETURN(w.unreadable, Count(j, "unreadable", where));
  MR_ASSIGN_OR_RETURN(w.violations, Count(j, "violations", where));
  MR_ASSIGN_OR_RETURN(w.rejected, Count(j, "rejected", where));
  if (w.unreadable > w.requests) return Status::InvalidArgument(where + ".unreadable is more than its requests");
  if (w.rejected > w.requests) return Status::InvalidArgument(where + ".rejected is more than its requests");
  if (w.violations > w.rows) return Status::InvalidArgument(where + ".violations is more than its rows");
  const json* features = Field(j, "features");
  if (!features || !features->is_array()) return Status::InvalidArgument(where + ".features must be an array");
  if (features->size() > kMaxFeatures)
    return Status::InvalidArgument(where + ".features has more than " + std::to_string(kMaxFeatures) + " entries");
  std::set<std::string> names;
  for (size_t i = 0; i < features->size(); ++i) {
    MR_ASSIGN_OR_RETURN(
        auto f, ParseFeature((*features)[i], where + ".features[" + std::to_string(i) + "]", w.reference, false));
    if (!names.insert(f.name).second) return Status::InvalidArgument(where + ".features has \"" + f.name + "\" twice");
    w.features.push_back(std::move(f));
  }
  if (const json* out = Field(j, "output"); out && !out->is_null()) {
    MR_ASSIGN_OR_RETURN(auto f, ParseFeature(*out, where + ".output", w.reference, true));
    w.output = std::move(f);
  }
  return w;
}

bool IsRunId(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string SerializeMonitorReport(const MonitorReport& r) {
  json windows = json::array();
  for (const auto& w : r.windows) windows.push_back(WindowJson(w));
  // Names come from the agent's reference profile and requests: replace
  // bytes that are not UTF-8 rather than throw (the parser refuses them).
  json j{{"run", r.run}, {"windows", std::move(windows)}};
  if (r.dropped > 0) j["dropped"] = r.dropped;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<MonitorReport> ParseMonitorReport(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("monitoring is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("monitoring must be an object");
  MR_RETURN_IF_ERROR(CheckFields(j, {"run", "windows", "dropped"}, "monitoring"));
  MonitorReport r;
  const json* run = Field(j, "run");
  if (!run || !run->is_string()) return Status::InvalidArgument("monitoring.run must be a string");
  r.run = run->get<std::string>();
  if (!IsRunId(r.run)) return Status::InvalidArgument("monitoring.run must be 1 to 64 lowercase hex characters");
  const json* windows = Field(j, "windows");
  if (!windows || !windows->is_array()) return Status::InvalidArgument("monitoring.windows must be an array");
  if (windows->size() > kMaxWindowsPerReport)
    return Status::InvalidArgument("monitoring.windows has more than " + std::to_string(kMaxWindowsPerReport) +
                                   " entries");
  if (Field(j, "dropped")) { MR_ASSIGN_OR_RETURN(r.dropped, Count(j, "dropped", "monitoring")); }
  for (size_t i = 0; i < windows->size(); ++i) {
    MR_ASSIGN_OR_RETURN(auto w, ParseWindow((*windows)[i], "monitoring.windows[" + std::to_string(i) + "]"));
    r.windows.push_back(std::move(w));
  }
  return r;
}

}  // namespace modelreg
