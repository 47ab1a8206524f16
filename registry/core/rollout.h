// Rollouts (docs/rollouts.md): a candidate version served beside the
// production version (the baseline) in one of three modes, and what agents
// report about each arm. Plain records and the pure rules about them; the
// store keeps them, the service changes them, core/rollout_judge.h judges
// the counts, core/traffic_split.h picks the arm of a request.
//
// Modes:
// - shadow: every request is answered by the baseline and copied to the
//   candidate off the client's path; the candidate's answers are compared
//   and counted, never returned. Needs the candidate approved only, and
//   finishing it promotes nothing.
// - canary: the candidate answers a share of traffic that grows by steps
//   (weights in basis points, e.g. 5 %, 25 %, 50 %, 100 %); finishing makes
//   it production. Needs what promotion to production needs.
// - ab: a fixed share for as long as it runs; finishing makes the
//   candidate production, aborting keeps the baseline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/rollout_judge.h"
#include "core/status.h"

namespace modelreg {

enum class RolloutMode { kShadow, kCanary, kAb };
const char* RolloutModeName(RolloutMode m);  // "shadow", "canary", "ab"
Result<RolloutMode> ParseRolloutMode(std::string_view s);

// `--steps 5,25,50,100`: percentages (ParseTrafficPercent's form), strictly
// increasing; basis points. InvalidArgument saying which one is wrong.
Result<std::vector<int>> ParseRolloutSteps(std::string_view text);
// A routing key header name (`--key-header`): an HTTP token of 1..64
// characters, not a hop-by-hop header. "" is allowed (the request id).
Status ValidateKeyHeader(std::string_view name);

struct RolloutArmVersion {
  int64_t version = 0;
  std::string digest;
};

struct RolloutRecord {
  int64_t id = 0;
  std::string model;
  RolloutMode mode = RolloutMode::kCanary;
  RolloutArmVersion baseline, candidate;
  std::vector<int> steps;  // basis points; shadow: {0}
  int step = 0;            // index into steps
  int64_t step_started_ms = 0;
  int64_t step_every_ms = 0;  // 0: by command
  bool auto_advance = false;
  std::string key_header, salt;
  std::string state = "active";  // active, aborted, finished
  int64_t revision = 1;
  std::string override_reason;
  int64_t started_at_ms = 0;
  std::string started_by;
  std::optional<int64_t> ended_at_ms;
  std::string ended_by, reason;
  std::string verdict;  // the verdict it ended with, JSON; "" while active
  // The judge's planned horizon (core/rollout_judge.h): H in total requests
  // per step (0: the always-valid test alone); the step's total requests at
  // the last report whose error test ran (the judge's prev_requests; 0 when
  // a step begins); the verdict of the step's last planned look (JSON, "").
  int64_t horizon_requests = 0;
  int64_t judged_requests = 0;
  std::string last_look;

  bool active() const { return state == "active"; }
  int WeightBp() const { return steps.empty() ? 0 : steps[static_cast<size_t>(step)]; }
  bool last_step() const { return static_cast<size_t>(step) + 1 >= steps.size(); }
};

// Steps as stored ("500,2500"), and back; Parse refuses anything else.
std::string FormatStepsBp(const std::vector<int>& steps);
Result<std::vector<int>> ParseStepsBp(std::string_view stored);

// The shadow comparisons an agent counted (shadow mode only).
struct ShadowCounts {
  int64_t compared = 0, equal = 0, differ = 0, dropped = 0;
  double max_abs_diff = 0;  // the largest numeric difference among outputs of the same shape
};

// One agent process's cumulative counts for one step of one rollout
// (docs/rollouts.md, the agent's report). In shadow mode `baseline` counts
// the primary requests and `candidate` the copies sent to the candidate.
struct RolloutCounts {
  int64_t rollout_id = 0;
  int step = 0;
  std::string agent_id, run;
  ArmStats baseline, candidate;
  ShadowCounts shadow;
  int64_t updated_at_ms = 0;
};

// Checks a report's counts: non-negative, errors <= requests, histograms
// empty or kLatencyBucketCount long, run 1..64 characters.
Status ValidateRolloutCounts(const RolloutCounts& c);
// Sums `rows` (one step of one rollout) into one.
RolloutCounts SumRolloutCounts(const std::vector<RolloutCounts>& rows);

// A verdict as JSON text (stored with the rollout, shown by its status,
// put in the audit event of an automatic abort): decision, reason, the
// rates and percentiles compared and the test statistics with their bounds.
std::string VerdictJson(const Verdict& v);

// The rollout as its status shows it: the record, the summed counts of the
// current step, how many agent processes reported, and the verdict now.
struct RolloutStatus {
  RolloutRecord rollout;
  RolloutCounts counts;
  int64_t reporters = 0;
  std::optional<Verdict> verdict;  // none when the counts do not parse
};

}  // namespace modelreg
