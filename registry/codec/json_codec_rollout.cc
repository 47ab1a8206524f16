// JSON forms of rollouts (docs/rollouts.md).
#include "codec/json_codec.h"
#include "core/clock.h"

namespace modelreg::codec {

using nlohmann::json;

namespace {

double Pct(int bp) { return bp / 100.0; }

json ArmJson(const RolloutArmVersion& v, const ArmStats& a) {
  json j = {{"version", v.version},
            {"digest", v.digest},
            {"requests", a.requests},
            {"errors", a.errors},
            {"error_rate", a.requests > 0 ? static_cast<double>(a.errors) / a.requests : 0.0}};
  int64_t samples = 0;
  for (int64_t b : a.latency_buckets) samples += b;
  j["latency_samples"] = samples;
  if (samples > 0) {
    j["p50_ms"] = LatencyQuantileMs(a.latency_buckets, 0.5);
    j["p99_ms"] = LatencyQuantileMs(a.latency_buckets, 0.99);
  }
  return j;
}

Status ReadCount(const json& j, const char* k, int64_t* out) {
  if (!j.contains(k)) return Status::OK();
  if (!j[k].is_number_integer()) return Status::InvalidArgument(std::string("rollout.") + k + ": want an integer");
  *out = j[k].get<int64_t>();
  return Status::OK();
}

Status ReadArm(const json& arms, const char* name, ArmStats* a) {
  if (!arms.contains(name)) return Status::OK();
  const json& j = arms[name];
  if (!j.is_object()) return Status::InvalidArgument(std::string("rollout.arms.") + name + ": want an object");
  MR_RETURN_IF_ERROR(ReadCount(j, "requests", &a->requests));
  MR_RETURN_IF_ERROR(ReadCount(j, "errors", &a->errors));
  if (j.contains("latency_buckets")) {
    const json& b = j["latency_buckets"];
    if (!b.is_array() || b.size() > static_cast<size_t>(kLatencyBucketCount))
      return Status::InvalidArgument(std::string("rollout.arms.") + name + ".latency_buckets: want an array of " +
                                     std::to_string(kLatencyBucketCount) + " integers");
    for (const auto& v : b) {
      if (!v.is_number_integer())
        return Status::InvalidArgument(std::string("rollout.arms.") + name + ".latency_buckets: want integers");
      a->latency_buckets.push_back(v.get<int64_t>());
    }
  }
  return Status::OK();
}

}  // namespace

json ToJson(const RolloutRecord& r) {
  json steps = json::array();
  for (int s : r.steps) steps.push_back(Pct(s));
  json j = {{"id", r.id},
            {"model", r.model},
            {"mode", RolloutModeName(r.mode)},
            {"state", r.state},
            {"baseline", {{"version", r.baseline.version}, {"digest", r.baseline.digest}}},
            {"candidate", {{"version", r.candidate.version}, {"digest", r.candidate.digest}}},
            {"steps_pct", steps},
            {"step", r.step},
            {"weight_pct", r.mode == RolloutMode::kShadow ? 0.0 : Pct(r.WeightBp())},
            {"step_started_at", FormatIsoTime(r.step_started_ms)},
            {"step_every_s", r.step_every_ms / 1000.0},
            {"auto_advance", r.auto_advance},
            {"key_header", r.key_header},
            {"horizon_requests", r.horizon_requests},
            {"started_at", FormatIsoTime(r.started_at_ms)},
            {"started_by", r.started_by}};
  if (!r.override_reason.empty()) j["override_reason"] = r.override_reason;
  if (r.ended_at_ms) {
    j["ended_at"] = FormatIsoTime(*r.ended_at_ms);
    j["ended_by"] = r.ended_by;
    j["reason"] = r.reason;
  }
  return j;
}

json ToJson(const RolloutStatus& s) {
  json j = {{"rollout", ToJson(s.rollout)},
            {"arms",
             {{"baseline", ArmJson(s.rollout.baseline, s.counts.baseline)},
              {"candidate", ArmJson(s.rollout.candidate, s.counts.candidate)}}},
            {"reporters", s.reporters}};
  if (s.rollout.mode == RolloutMode::kShadow) {
    const ShadowCounts& c = s.counts.shadow;
    j["shadow"] = {{"compared", c.compared},
                   {"equal", c.equal},
                   {"differ", c.differ},
                   {"numeric_diff", c.compared - c.equal - c.differ},
                   {"dropped", c.dropped},
                   {"max_abs_diff", c.max_abs_diff},
                   {"agreement", c.compared > 0 ? static_cast<double>(c.equal) / c.compared : 0.0}};
  }
  // The step's last planned look of the judge (core/rollout_judge.h).
  if (!s.rollout.last_look.empty()) {
    json look = json::parse(s.rollout.last_look, nullptr, false);
    if (look.is_object())
      j["last_look"] = {{"look", look.value("error_look", 0)},
                        {"at_requests", look.value("error_look_requests", int64_t{0})},
                        {"requests", look.value("judged_requests", int64_t{0})},
                        {"p_value", look.value("error_look_p", 1.0)},
                        {"level", look.value("error_look_level", 0.0)},
                        {"decision", look.value("decision", std::string())}};
  }
  // An ended rollout shows the verdict it ended with; an active one the
  // verdict on the counts now.
  if (!s.rollout.active() && !s.rollout.verdict.empty()) {
    j["verdict"] = json::parse(s.rollout.verdict, nullptr, false);
  } else if (s.verdict) {
    j["verdict"] = json::parse(VerdictJson(*s.verdict), nullptr, false);
  }
  return j;
}

Status FromJson(const json& j, RolloutCounts* out) {
  if (!j.is_object()) return Status::InvalidArgument("rollout: want an object");
  MR_RETURN_IF_ERROR(ReadCount(j, "id", &out->rollout_id));
  int64_t step = 0;
  MR_RETURN_IF_ERROR(ReadCount(j, "step", &step));
  if (step < 0 || step > 1000) return Status::InvalidArgument("rollout.step: out of range");
  out->step = static_cast<int>(step);
  if (j.contains("run")) {
    if (!j["run"].is_string()) return Status::InvalidArgument("rollout.run: want a string");
    out->run = j["run"].get<std::string>();
  }
  if (j.contains("arms")) {
    if (!j["arms"].is_object()) return Status::InvalidArgument("rollout.arms: want an object");
    MR_RETURN_IF_ERROR(ReadArm(j["arms"], "baseline", &out->baseline));
    MR_RETURN_IF_ERROR(ReadArm(j["arms"], "candidate", &out->candidate));
  }
  if (j.contains("shadow")) {
    const json& s = j["shadow"];
    if (!s.is_object()) return Status::InvalidArgument("rollout.shadow: want an object");
    MR_RETURN_IF_ERROR(ReadCount(s, "compared", &out->shadow.compared));
    MR_RETURN_IF_ERROR(ReadCount(s, "equal", &out->shadow.equal));
    MR_RETURN_IF_ERROR(ReadCount(s, "differ", &out->shadow.differ));
    MR_RETURN_IF_ERROR(ReadCount(s, "dropped", &out->shadow.dropped));
    // The agent counts a numeric difference in `differ` and again in
    // `numeric`; stored, `differ` is what is neither equal nor numeric.
    int64_t numeric = 0;
    MR_RETURN_IF_ERROR(ReadCount(s, "numeric", &numeric));
    if (numeric < 0 || numeric > out->shadow.differ)
      return Status::InvalidArgument("rollout.shadow.numeric: want 0..differ");
    out->shadow.differ -= numeric;
    if (s.contains("max_abs_diff")) {
      if (!s["max_abs_diff"].is_number()) return Status::InvalidArgument("rollout.shadow.max_abs_diff: want a number");
      out->shadow.max_abs_diff = s["max_abs_diff"].get<double>();
    }
  }
  return Status::OK();
}

}  // namespace modelreg::codec
