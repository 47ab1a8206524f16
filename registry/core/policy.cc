#include "core/policy.h"

#include <cmath>
#include <cstdio>
#include <regex>

#include "core/flag_values.h"

namespace modelreg {
namespace {

std::string Num(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

bool Compare(double a, const std::string& op, double b) {
  if (op == ">=") return a >= b;
  if (op == ">") return a > b;
  if (op == "<=") return a <= b;
  if (op == "<") return a < b;
  return a == b;
}

}  // namespace

std::string Gate::ToString() const { return metric + " " + op + " " + (threshold ? Num(*threshold) : "production"); }

Result<Gate> ParseGate(const std::string& expr) {
  static const std::regex kRe(R"(^\s*([A-Za-z0-9_.:/-]+)\s*(>=|<=|==|>|<)\s*(\S+)\s*$)");
  std::smatch m;
  if (!std::regex_match(expr, m, kRe))
    return Status::InvalidArgument("bad gate '" + expr +
                                   "': want METRIC OP NUMBER or METRIC OP production, OP one of >= > <= < ==");
  Gate g{m[1], m[2], std::nullopt};
  std::string rhs = m[3];
  if (rhs != "production") {
    auto v = ParseFiniteDecimal(rhs);
    if (!v)
      return Status::InvalidArgument("bad gate '" + expr + "': '" + rhs + "' is neither a number nor 'production'");
    g.threshold = *v;
  }
  return g;
}

Status ValidateMonitoringPolicy(const Policy& p) {
  if (!(p.drift_alpha > 0 && p.drift_alpha <= 0.5))
    return Status::InvalidArgument("drift_alpha must be a number in (0, 0.5], got " + Num(p.drift_alpha));
  if (!(p.drift_min_psi >= 0) || !std::isfinite(p.drift_min_psi))
    return Status::InvalidArgument("drift_min_psi must be a finite number >= 0, got " + Num(p.drift_min_psi));
  if (p.max_violation_rate && !(*p.max_violation_rate >= 0 && *p.max_violation_rate <= 1))
    return Status::InvalidArgument("max_violation_rate must be a number in [0, 1], got " + Num(*p.max_violation_rate));
  return Status::OK();
}

std::vector<std::string> EvaluatePolicy(const Policy& p, const PromotionFacts& f) {
  std::vector<std::string> fail;
  if (f.approvals < p.approvals_required)
    fail.push_back("approvals: " + std::to_string(f.approvals) + " of " + std::to_string(p.approvals_required) +
                   " required (from approvers other than the registrant)");
  for (const auto& g : p.gates) {
    auto it = f.metrics.find(g.metric);
    if (it == f.metrics.end()) {
      fail.push_back(g.ToString() + ": the version has no metric '" + g.metric + "'");
      continue;
    }
    double rhs;
    if (g.threshold) {
      rhs = *g.threshold;
    } else {
      if (!f.production_metrics) continue;  // nothing in production to compare with
      auto pit = f.production_metrics->find(g.metric);
      if (pit == f.production_metrics->end()) {
        fail.push_back(g.ToString() + ": production version " + std::to_string(f.production_version) +
                       " has no metric '" + g.metric + "'");
        continue;
      }
      rhs = pit->second;
    }
    if (!Compare(it->second, g.op, rhs))
      fail.push_back(g.ToString() + ": actual " + Num(it->second) +
                     (g.threshold
                          ? ""
                          : " vs production " + Num(rhs) + " (version " + std::to_string(f.production_version) + ")"));
  }
  if (p.require_clean_code) {
    if (!f.has_code) fail.push_back("code.dirty == false: the version records no code commit");
    else if (f.code_dirty) fail.push_back("code.dirty == false: actual true (trained from a dirty working tree)");
  }
  if (p.require_data_digests) {
    if (f.dataset_count == 0) fail.push_back("data digests present: the version records no datasets");
    for (const auto& n : f.datasets_without_digest)
      fail.push_back("data digests present: dataset '" + n + "' has no digest");
  }
  return fail;
}

}  // namespace modelreg
