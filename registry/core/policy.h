// Promotion policy (docs/api.md): approvals required, metric gates (against a
// number or the current production version), clean code, data digests.
// EvaluatePolicy lists every failing gate with the actual value. Pure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace modelreg {

struct Gate {
  std::string metric;
  std::string op;                   // ">=", ">", "<=", "<", "=="
  std::optional<double> threshold;  // nullopt: compare with production
  std::string ToString() const;     // "auc >= 0.85", "logloss <= production"
};

// Parses "METRIC OP NUMBER" or "METRIC OP production" (spaces optional).
Result<Gate> ParseGate(const std::string& expr);

struct Policy {
  int approvals_required = 1;
  bool require_clean_code = false;
  bool require_data_digests = false;
  std::vector<Gate> gates;
  // Monitoring (docs/monitoring.md): the false-alarm probability per
  // feature-window and the PSI floor of drift alarms (core/drift_stats.h),
  // and the share of a window's rows breaking the input schema above which
  // a window raises schema.violations (none: never).
  double drift_alpha = 0.001;
  double drift_min_psi = 0.02;
  std::optional<double> max_violation_rate;
};

// InvalidArgument unless drift_alpha is in (0, 0.5], drift_min_psi a finite
// number >= 0 and max_violation_rate (when set) in [0, 1].
Status ValidateMonitoringPolicy(const Policy& p);

struct PromotionFacts {
  std::map<std::string, double> metrics;
  std::optional<std::map<std::string, double>> production_metrics;  // none in production
  int64_t production_version = 0;
  bool has_code = false;
  bool code_dirty = false;
  std::vector<std::string> datasets_without_digest;  // names
  size_t dataset_count = 0;
  int approvals = 0;  // distinct, not by the registrant
};

// Every failing check, one line each; empty means the promotion may go on.
std::vector<std::string> EvaluatePolicy(const Policy& p, const PromotionFacts& f);

}  // namespace modelreg
