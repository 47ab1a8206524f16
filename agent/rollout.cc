#include "rollout.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/digest.h"

namespace modelreg::agent {
using nlohmann::json;

namespace {

Status Bad(const std::string& why) {
  return Status::InvalidArgument("signed release has an inconsistent rollout: " + why);
}

bool IsInt(const json& j, const char* k) { return j.contains(k) && j[k].is_number_integer(); }

Status ParseArm(const json& r, const char* name, int64_t* version, std::string* digest) {
  if (!r.contains(name) || !r[name].is_object()) return Bad(std::string("no ") + name + " object");
  const json& a = r[name];
  if (!IsInt(a, "version") || a["version"].get<int64_t>() <= 0)
    return Bad(std::string(name) + ".version is not a version number");
  if (!a.contains("digest") || !a["digest"].is_string() || !Digest::Parse(a["digest"].get<std::string>()).ok())
    return Bad(std::string(name) + ".digest is not a digest");
  *version = a["version"].get<int64_t>();
  *digest = a["digest"].get<std::string>();
  return Status::OK();
}

}  // namespace

Result<RolloutSpec> ParseRolloutSpec(const std::string& json_object, const std::string& release_digest) {
  json r = json::parse(json_object, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Bad("not an object");
  RolloutSpec s;
  if (!IsInt(r, "id") || r["id"].get<int64_t>() <= 0) return Bad("no id");
  s.id = r["id"].get<int64_t>();
  const std::string mode = r.contains("mode") && r["mode"].is_string() ? r["mode"].get<std::string>() : "";
  auto parsed_mode = ParseRolloutMode(mode);
  if (!parsed_mode.ok()) return Bad("unknown mode '" + mode.substr(0, 32) + "'");
  s.mode = *parsed_mode;
  if (!IsInt(r, "step") || r["step"].get<int64_t>() < 0 || r["step"].get<int64_t>() > 1000000) return Bad("no step");
  s.step = static_cast<int>(r["step"].get<int64_t>());
  if (!IsInt(r, "weight_bp") || r["weight_bp"].get<int64_t>() < 0 || r["weight_bp"].get<int64_t>() > kTrafficBuckets)
    return Bad("weight_bp is not 0..10000");
  s.weight_bp = s.mode == RolloutMode::kShadow ? 0 : static_cast<int>(r["weight_bp"].get<int64_t>());
  if (!r.contains("salt") || !r["salt"].is_string() || r["salt"].get<std::string>().empty()) return Bad("no salt");
  s.salt = r["salt"].get<std::string>();
  if (r.contains("key_header")) {
    if (!r["key_header"].is_string() || !ValidateKeyHeader(r["key_header"].get<std::string>()).ok())
      return Bad("key_header is not a header name");
    s.key_header = r["key_header"].get<std::string>();
  }
  MR_RETURN_IF_ERROR(ParseArm(r, "baseline", &s.baseline_version, &s.baseline_digest));
  MR_RETURN_IF_ERROR(ParseArm(r, "candidate", &s.candidate_version, &s.candidate_digest));
  if (s.baseline_digest != release_digest) return Bad("its baseline is not the release's version");
  if (s.candidate_digest == s.baseline_digest) return Bad("its candidate is its baseline");
  return s;
}

namespace {

// Same shape; numbers may differ (their largest absolute difference in *diff).
bool SameShape(const json& a, const json& b, double* diff) {
  if (a.is_number() && b.is_number()) {
    *diff = std::max(*diff, std::fabs(a.get<double>() - b.get<double>()));
    return true;
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!SameShape(a[i], b[i], diff)) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto jt = b.find(it.key());
      if (jt == b.end() || !SameShape(*it, *jt, diff)) return false;
    }
    return true;
  }
  return a == b;  // strings, booleans, null
}

}  // namespace

ShadowOutcome CompareOutputs(int status_a, const std::string& a, int status_b, const std::string& b,
                             double* max_abs_diff) {
  *max_abs_diff = 0;
  if (status_a != status_b) return ShadowOutcome::kDiffer;
  if (a == b) return ShadowOutcome::kEqual;
  json ja = json::parse(a, nullptr, false), jb = json::parse(b, nullptr, false);
  if (ja.is_discarded() || jb.is_discarded()) return ShadowOutcome::kDiffer;
  double diff = 0;
  if (!SameShape(ja, jb, &diff)) return ShadowOutcome::kDiffer;
  *max_abs_diff = diff;
  return diff > 0 ? ShadowOutcome::kNumeric : ShadowOutcome::kEqual;  // 1.0 vs 1: equal
}

void ArmCounts::Add(bool error, double latency_ms) {
  requests.fetch_add(1, std::memory_order_relaxed);
  if (error) errors.fetch_add(1, std::memory_order_relaxed);
  if (latency_ms >= 0) latency[LatencyBucketIndex(latency_ms)].fetch_add(1, std::memory_order_relaxed);
}

ArmStats ArmCounts::Snapshot() const {
  ArmStats s;
  s.requests = requests.load();
  s.errors = errors.load();
  s.latency_buckets.resize(kLatencyBucketCount);
  for (int i = 0; i < kLatencyBucketCount; ++i) s.latency_buckets[i] = latency[i].load();
  return s;
}

void RolloutCounts::AddComparison(ShadowOutcome o, double abs_diff) {
  ++compared_;
  if (o == ShadowOutcome::kEqual) {
    ++equal_;
    return;
  }
  ++differ_;  // a numeric difference is a difference (and counted as such in "numeric")
  if (o != ShadowOutcome::kNumeric) return;
  ++numeric_;
  double cur = max_abs_diff_.load();
  while (abs_diff > cur && !max_abs_diff_.compare_exchange_weak(cur, abs_diff)) {}
}

std::string RolloutCounts::ReportJson(const std::string& run) const {
  auto arm = [](const ArmCounts& a) {
    ArmStats s = a.Snapshot();
    return json{{"requests", s.requests}, {"errors", s.errors}, {"latency_buckets", s.latency_buckets}};
  };
  json j = {{"id", id_},
            {"step", step_},
            {"run", run},
            {"arms", {{"baseline", arm(baseline_)}, {"candidate", arm(candidate_)}}}};
  if (mode_ == RolloutMode::kShadow)
    j["shadow"] = {{"compared", compared_.load()},
                   {"equal", equal_.load()},
                   {"differ", differ_.load()},
                   {"numeric", numeric_.load()},
                   {"candidate_errors", shadow_candidate_errors_.load()},
                   {"dropped", shadow_dropped_.load()},
                   {"max_abs_diff", max_abs_diff_.load()}};
  return j.dump();
}

const std::string& ProcessRunId() {
  static const std::string run = [] {
    std::random_device rd;
    std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd());
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(g()));
    return std::string(buf);
  }();
  return run;
}

}  // namespace modelreg::agent
