#include "core/rollout.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/traffic_split.h"

namespace modelreg {

const char* RolloutModeName(RolloutMode m) {
  switch (m) {
    case RolloutMode::kShadow:
      return "shadow";
    case RolloutMode::kCanary:
      return "canary";
    case RolloutMode::kAb:
      return "ab";
  }
  return "canary";
}

Result<RolloutMode> ParseRolloutMode(std::string_view s) {
  if (s == "shadow") return RolloutMode::kShadow;
  if (s == "canary") return RolloutMode::kCanary;
  if (s == "ab") return RolloutMode::kAb;
  return Status::InvalidArgument("rollout mode must be shadow, canary or ab, not '" + std::string(s.substr(0, 32)) +
                                 "'");
}

Result<std::vector<int>> ParseRolloutSteps(std::string_view text) {
  std::vector<int> out;
  if (text.empty()) return Status::InvalidArgument("--steps wants percentages separated by commas, e.g. 5,25,50,100");
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string_view part = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    MR_ASSIGN_OR_RETURN(int bp, ParseTrafficPercent(part, "--steps"));
    if (!out.empty() && bp <= out.back())
      return Status::InvalidArgument("--steps must increase: " + std::string(part) + " after " +
                                     std::to_string(out.back() / 100.0).substr(0, 6));
    out.push_back(bp);
    if (out.size() > 20) return Status::InvalidArgument("--steps takes at most 20 steps");
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Status ValidateKeyHeader(std::string_view name) {
  if (name.empty()) return Status::OK();
  if (name.size() > 64) return Status::InvalidArgument("--key-header must be at most 64 characters");
  for (unsigned char c : name)
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos))
      return Status::InvalidArgument("--key-header must be an HTTP header name (letters, digits, '-'), not '" +
                                     std::string(name) + "'");
  std::string lower;
  for (unsigned char c : name) lower += static_cast<char>(std::tolower(c));
  for (const char* hop : {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                          "proxy-authorization", "proxy-authenticate", "content-length"})
    if (lower == hop) return Status::InvalidArgument("--key-header cannot be " + std::string(name));
  return Status::OK();
}

std::string FormatStepsBp(const std::vector<int>& steps) {
  std::string out;
  for (int s : steps) out += (out.empty() ? "" : ",") + std::to_string(s);
  return out;
}

Result<std::vector<int>> ParseStepsBp(std::string_view stored) {
  std::vector<int> out;
  size_t start = 0;
  while (start < stored.size()) {
    size_t comma = stored.find(',', start);
    if (comma == std::string_view::npos) comma = stored.size();
    int v = 0;
    if (comma == start || comma - start > 5)
      return Status::DataLoss("rollout steps unreadable: " + std::string(stored));
    for (size_t i = start; i < comma; ++i) {
      if (stored[i] < '0' || stored[i] > '9')
        return Status::DataLoss("rollout steps unreadable: " + std::string(stored));
      v = v * 10 + (stored[i] - '0');
    }
    if (v > kTrafficBuckets) return Status::DataLoss("rollout steps unreadable: " + std::string(stored));
    out.push_back(v);
    start = comma + 1;
  }
  if (out.empty()) return Status::DataLoss("rollout has no steps");
  return out;
}

Status ValidateRolloutCounts(const RolloutCounts& c) {
  if (c.run.empty() || c.run.size() > 64)
    return Status::InvalidArgument("rollout counts need a run of 1..64 characters");
  if (c.step < 0 || c.rollout_id <= 0) return Status::InvalidArgument("rollout counts need a rollout id and a step");
  for (const ArmStats* a : {&c.baseline, &c.candidate}) {
    if (a->requests < 0 || a->errors < 0 || a->errors > a->requests)
      return Status::InvalidArgument("rollout counts: requests and errors must be >= 0, errors <= requests");
    if (!a->latency_buckets.empty() && a->latency_buckets.size() != static_cast<size_t>(kLatencyBucketCount))
      return Status::InvalidArgument("rollout counts: latency_buckets must have " +
                                     std::to_string(kLatencyBucketCount) + " entries");
    for (int64_t b : a->latency_buckets)
      if (b < 0) return Status::InvalidArgument("rollout counts: latency bucket counts must be >= 0");
  }
  const ShadowCounts& s = c.shadow;
  if (s.compared < 0 || s.equal < 0 || s.differ < 0 || s.dropped < 0 || s.equal + s.differ > s.compared ||
      !(s.max_abs_diff >= 0))
    return Status::InvalidArgument("rollout counts: shadow counts must be >= 0 and equal + differ <= compared");
  return Status::OK();
}

namespace {

void AddArm(ArmStats& into, const ArmStats& a) {
  into.requests += a.requests;
  into.errors += a.errors;
  if (a.latency_buckets.empty()) return;
  if (into.latency_buckets.empty()) into.latency_buckets.assign(a.latency_buckets.size(), 0);
  for (size_t i = 0; i < a.latency_buckets.size() && i < into.latency_buckets.size(); ++i)
    into.latency_buckets[i] += a.latency_buckets[i];
}

}  // namespace

RolloutCounts SumRolloutCounts(const std::vector<RolloutCounts>& rows) {
  RolloutCounts out;
  for (const auto& r : rows) {
    out.rollout_id = r.rollout_id;
    out.step = r.step;
    AddArm(out.baseline, r.baseline);
    AddArm(out.candidate, r.candidate);
    out.shadow.compared += r.shadow.compared;
    out.shadow.equal += r.shadow.equal;
    out.shadow.differ += r.shadow.differ;
    out.shadow.dropped += r.shadow.dropped;
    out.shadow.max_abs_diff = std::max(out.shadow.max_abs_diff, r.shadow.max_abs_diff);
    out.updated_at_ms = std::max(out.updated_at_ms, r.updated_at_ms);
  }
  return out;
}

std::string VerdictJson(const Verdict& v) {
  nlohmann::json j = {{"decision", JudgeDecisionName(v.decision)},
                      {"reason", v.reason},
                      {"baseline_error_rate", v.baseline_error_rate},
                      {"candidate_error_rate", v.candidate_error_rate},
                      {"error_log_e", v.error_log_e},
                      {"error_log_threshold", v.error_log_threshold},
                      {"baseline_p50_ms", v.baseline_p50_ms},
                      {"baseline_p99_ms", v.baseline_p99_ms},
                      {"candidate_p50_ms", v.candidate_p50_ms},
                      {"candidate_p99_ms", v.candidate_p99_ms},
                      {"latency_log_e", v.latency_log_e},
                      {"latency_log_threshold", v.latency_log_threshold},
                      {"latency_threshold_ms", v.latency_threshold_ms},
                      {"horizon_requests", v.horizon_requests},
                      {"judged_requests", v.judged_requests}};
  if (v.error_look > 0) {
    // The planned look tested by this verdict (core/rollout_judge.h).
    j["error_look"] = v.error_look;
    j["error_look_requests"] = v.error_look_requests;
    j["error_look_p"] = v.error_look_p;
    j["error_look_level"] = v.error_look_level;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace modelreg
