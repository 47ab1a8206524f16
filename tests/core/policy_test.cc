// Unit tests for registry/core/policy.h: gate parsing and EvaluatePolicy,
// which lists every failing check with the actual value.
#include "core/policy.h"

#include <catch2/catch.hpp>

namespace modelreg {
namespace {

Gate G(const std::string& expr) {
  auto g = ParseGate(expr);
  INFO(expr << ": " << g.status().message());
  REQUIRE(g.ok());
  return *g;
}

TEST_CASE("policy: gates parse against a number or production") {
  CHECK(G("auc>=0.85").ToString() == "auc >= 0.85");
  CHECK(G("  logloss <= production ").ToString() == "logloss <= production");
  CHECK_FALSE(G("logloss <= production").threshold.has_value());
  CHECK(G("eval/f1 == 1").ToString() == "eval/f1 == 1");
  CHECK(ParseGate("auc => 0.8").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseGate("auc >= high").status().message() ==
        "bad gate 'auc >= high': 'high' is neither a number nor 'production'");
  CHECK_FALSE(ParseGate("auc >= nan").ok());
}

TEST_CASE("policy: a version that meets every check passes") {
  Policy p;
  p.approvals_required = 1;
  p.gates = {G("auc >= 0.8"), G("logloss <= production")};
  p.require_clean_code = true;
  p.require_data_digests = true;
  PromotionFacts f;
  f.metrics = {{"auc", 0.8}, {"logloss", 0.30}};
  f.production_metrics = std::map<std::string, double>{{"logloss", 0.31}};
  f.production_version = 2;
  f.has_code = true;
  f.dataset_count = 1;
  f.approvals = 1;
  CHECK(EvaluatePolicy(p, f).empty());
}

TEST_CASE("policy: every failing check is listed with the actual value") {
  Policy p;
  p.approvals_required = 2;
  p.gates = {G("auc > 0.9"), G("f1 >= 0.5"), G("logloss <= production"), G("latency < production")};
  p.require_clean_code = true;
  p.require_data_digests = true;
  PromotionFacts f;
  f.metrics = {{"auc", 0.85}, {"logloss", 0.4}, {"latency", 10}};
  f.production_metrics = std::map<std::string, double>{{"logloss", 0.3}};
  f.production_version = 4;
  f.has_code = true;
  f.code_dirty = true;
  f.dataset_count = 2;
  f.datasets_without_digest = {"eval"};
  f.approvals = 1;
  CHECK(EvaluatePolicy(p, f) == std::vector<std::string>{
                                    "approvals: 1 of 2 required (from approvers other than the registrant)",
                                    "auc > 0.9: actual 0.85",
                                    "f1 >= 0.5: the version has no metric 'f1'",
                                    "logloss <= production: actual 0.4 vs production 0.3 (version 4)",
                                    "latency < production: production version 4 has no metric 'latency'",
                                    "code.dirty == false: actual true (trained from a dirty working tree)",
                                    "data digests present: dataset 'eval' has no digest",
                                });
}

TEST_CASE("policy: production gates pass with nothing in production, and no code or data fails") {
  Policy p;
  p.approvals_required = 0;
  p.gates = {G("auc >= production")};
  p.require_clean_code = true;
  p.require_data_digests = true;
  PromotionFacts f;
  f.metrics = {{"auc", 0.1}};
  CHECK(EvaluatePolicy(p, f) == std::vector<std::string>{
                                    "code.dirty == false: the version records no code commit",
                                    "data digests present: the version records no datasets",
                                });
}

}  // namespace
}  // namespace modelreg

namespace modelreg {

TEST_CASE("policy: monitoring settings are checked") {
  Policy p;
  CHECK(ValidateMonitoringPolicy(p).ok());
  CHECK(p.drift_alpha == 0.001);
  CHECK(p.drift_min_psi == 0.02);
  CHECK_FALSE(p.max_violation_rate.has_value());
  p.max_violation_rate = 0.05;
  CHECK(ValidateMonitoringPolicy(p).ok());
  p.max_violation_rate = 1.5;
  CHECK(ValidateMonitoringPolicy(p).message() == "max_violation_rate must be a number in [0, 1], got 1.5");
  p.max_violation_rate.reset();
  p.drift_alpha = 0;
  CHECK(ValidateMonitoringPolicy(p).message() == "drift_alpha must be a number in (0, 0.5], got 0");
  p.drift_alpha = 0.01;
  p.drift_min_psi = -1;
  CHECK_FALSE(ValidateMonitoringPolicy(p).ok());
}

}  // namespace modelreg
