// What the registry keeps of model monitoring (docs/monitoring.md): an
// agent's monitoring window as stored, the drift statistics of one feature
// in it, and the newest statistics per feature for /metrics. Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace modelreg {

struct MonitorWindowRecord {
  int64_t id = 0;
  int64_t model_id = 0, version_id = 0;
  int64_t version = 0;  // the version's number
  std::string agent_id, run, arm;
  int64_t start_ms = 0, end_ms = 0;
  bool reference = false;  // the version has a reference profile
  int64_t requests = 0, rows = 0, unreadable = 0, violations = 0, rejected = 0;
  int64_t received_at_ms = 0;
};

// One feature (or the model's output, feature kOutputFeature) of one
// window. psi, js and threshold are none without a reference profile.
struct DriftStatRecord {
  std::string feature;
  bool is_output = false;
  int64_t n = 0, missing = 0, out_of_range = 0, type_errors = 0, unknown_category = 0;
  std::string counts;  // JSON array of bin counts
  std::optional<double> psi, js, threshold;
  double missing_rate = 0, out_of_range_rate = 0;
  bool alarm = false;
};

inline constexpr char kOutputFeature[] = "(output)";

struct DriftPointRecord {
  MonitorWindowRecord window;
  DriftStatRecord stat;
};

struct LatestDriftRecord {
  std::string model;
  int64_t version = 0;
  std::string feature;
  double psi = 0, js = 0, missing_rate = 0, out_of_range_rate = 0, threshold = 0;
};

}  // namespace modelreg
