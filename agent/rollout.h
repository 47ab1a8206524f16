// A rollout as the agent serves it (issue #26; docs/agent.md "Rollouts"):
// what the signed release says (RolloutSpec, parsed and checked by
// registry_link.cc), and the per-arm counts the proxy keeps while it serves
// one and the agent reports (RolloutCounts; the report's "rollout" object of
// POST /api/v1/agents/{id}/status).
//
// Counts are cumulative since this process began serving (rollout id,
// step): a new step starts a new RolloutCounts. The hot path only does
// relaxed atomic increments (and a CAS loop for max_abs_diff). Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rollout.h"
#include "core/rollout_judge.h"
#include "core/status.h"
#include "core/traffic_split.h"

namespace modelreg::agent {

// The modes and their names are the registry's (core/rollout.h).
using modelreg::ParseRolloutMode;
using modelreg::RolloutMode;
using modelreg::RolloutModeName;

struct RolloutSpec {
  int64_t id = 0;
  RolloutMode mode = RolloutMode::kCanary;
  int step = 0;
  int weight_bp = 0;  // candidate share, 0..10 000 (shadow: 0)
  std::string salt;
  std::string key_header;  // "": the request id is the routing key
  int64_t baseline_version = 0, candidate_version = 0;
  std::string baseline_digest, candidate_digest;
};

// Checks the `rollout` object of a release predicate (JSON text of that
// object) against the release's own digest; InvalidArgument says what is
// wrong. (Exposed for tests; registry_link.cc calls it.)
Result<RolloutSpec> ParseRolloutSpec(const std::string& json_object, const std::string& release_digest);

// How a shadow copy's answer compared with the primary's.
enum class ShadowOutcome { kEqual, kNumeric, kDiffer };
// Equal bytes and status: kEqual; else both JSON with the same shape (keys,
// array lengths, types) where only numbers differ: kNumeric with the
// largest absolute difference in *max_abs_diff; else kDiffer.
ShadowOutcome CompareOutputs(int status_a, const std::string& a, int status_b, const std::string& b,
                             double* max_abs_diff);

struct ArmCounts {
  std::atomic<int64_t> requests{0}, errors{0};
  std::array<std::atomic<int64_t>, kLatencyBucketCount> latency{};
  void Add(bool error, double latency_ms);  // latency < 0: no answer to time
  ArmStats Snapshot() const;
};

class RolloutCounts {
 public:
  RolloutCounts(int64_t id, int step, RolloutMode mode) : id_(id), step_(step), mode_(mode) {}
  int64_t id() const { return id_; }
  int step() const { return step_; }
  RolloutMode mode() const { return mode_; }
  ArmCounts& arm(Arm a) { return a == Arm::kCandidate ? candidate_ : baseline_; }
  const ArmCounts& arm(Arm a) const { return a == Arm::kCandidate ? candidate_ : baseline_; }
  // Shadow mode.
  void AddComparison(ShadowOutcome o, double abs_diff);
  void AddShadowCandidateError() { ++shadow_candidate_errors_; }
  void AddShadowDropped() { ++shadow_dropped_; }
  // The report's "rollout" object (docs/agent.md), with this process's run id.
  std::string ReportJson(const std::string& run) const;

 private:
  const int64_t id_;
  const int step_;
  const RolloutMode mode_;
  ArmCounts baseline_, candidate_;
  std::atomic<int64_t> compared_{0}, equal_{0}, differ_{0}, numeric_{0};
  std::atomic<int64_t> shadow_candidate_errors_{0}, shadow_dropped_{0};
  std::atomic<double> max_abs_diff_{0};
};

// 16 random hex characters, chosen once per process (the report's "run").
const std::string& ProcessRunId();

}  // namespace modelreg::agent
