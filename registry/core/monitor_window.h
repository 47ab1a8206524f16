// One monitoring window of a serving agent (docs/monitoring.md): what the
// agent saw on the inputs (and outputs) of one model version during a
// wall-clock-aligned window, binned with the version's reference profile
// (core/profile.h). The agent sends completed windows with its status
// report; the registry stores them and computes the drift statistics
// (core/drift_stats.h) from the counts.
//
// Windows are aligned: start_ms is a multiple of (end_ms - start_ms) since
// the epoch, so windows of different agents line up. A window is identified
// by (agent id, run, version, arm, start_ms); resending it is harmless (the
// registry keeps the first copy).
//
// Wire form (the "monitoring" member of POST /api/v1/agents/{id}/status):
//   {"run": "16 hex", "windows": [{
//      "version": 4, "digest": "sha256:...", "arm": "" | "baseline" | "candidate",
//      "start_ms": ..., "end_ms": ..., "reference": true|false,
//      "requests": N, "rows": N, "unreadable": N, "violations": N, "rejected": N,
//      "features": [{"name", "n", "missing", "out_of_range", "type_errors",
//                    "unknown_category", "counts": [Bins() ints]}],
//      "output": {same as a feature} (absent when the answers were not read)
//   }], "dropped": N}
// dropped (absent when 0): windows this run dropped unsent, oldest first,
// because more than kMaxWindowsPerReport waited for the registry.
// requests: requests seen; rows: rows read from them; unreadable: requests
// whose body was not a format the agent reads (docs/monitoring.md);
// violations: rows breaking at least one schema rule; rejected: requests
// refused under --validate reject. Per feature: n = values binned (present
// and of the right type), missing, type_errors, out_of_range (numeric),
// unknown_category (categorical with a closed category list). counts is
// empty when the version has no reference profile ("reference": false).
//
// ParseMonitorReport is strict (bytes from the network): negative counts,
// counts that do not add up (sum(counts) != n), start_ms >= end_ms, more than
// kMaxWindowsPerReport windows or kMaxFeatures features, names that are not
// UTF-8 -> InvalidArgument naming the field. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace modelreg {

inline constexpr size_t kMaxWindowsPerReport = 64;
inline constexpr size_t kMaxFeatures = 4096;

struct FeatureWindow {
  std::string name;
  int64_t n = 0, missing = 0, out_of_range = 0, type_errors = 0, unknown_category = 0;
  std::vector<int64_t> counts;
};

struct MonitorWindow {
  int64_t version = 0;
  std::string digest;
  std::string arm;  // "" when no rollout
  int64_t start_ms = 0, end_ms = 0;
  bool reference = false;
  int64_t requests = 0, rows = 0, unreadable = 0, violations = 0, rejected = 0;
  std::vector<FeatureWindow> features;
  std::optional<FeatureWindow> output;
};

struct MonitorReport {
  std::string run;
  std::vector<MonitorWindow> windows;
  int64_t dropped = 0;
};

std::string SerializeMonitorReport(const MonitorReport& r);
Result<MonitorReport> ParseMonitorReport(std::string_view json);

}  // namespace modelreg
