// Rollout judge: see rollout_judge.h for the contract and the formulas.
#include "core/rollout_judge.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace modelreg {

int LatencyBucketIndex(double ms) {
  auto it = std::lower_bound(kLatencyBoundsMs.begin(), kLatencyBoundsMs.end(), ms);
  return static_cast<int>(it - kLatencyBoundsMs.begin());
}

void AddLatencySample(std::vector<int64_t>& buckets, double ms) {
  if (buckets.empty()) buckets.assign(kLatencyBucketCount, 0);
  ++buckets[LatencyBucketIndex(ms)];
}

double LatencyQuantileMs(const std::vector<int64_t>& buckets, double q) {
  int64_t total = 0;
  for (int64_t c : buckets) total += c;
  if (total == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  double rank = q * static_cast<double>(total);
  int64_t seen = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] == 0) continue;
    if (static_cast<double>(seen + buckets[i]) >= rank) {
      if (i >= kLatencyBoundsMs.size()) return kLatencyBoundsMs.back();
      double lo = i == 0 ? 0.0 : kLatencyBoundsMs[i - 1];
      double hi = kLatencyBoundsMs[i];
      double frac = (rank - static_cast<double>(seen)) / static_cast<double>(buckets[i]);
      return lo + std::clamp(frac, 0.0, 1.0) * (hi - lo);
    }
    seen += buckets[i];
  }
  return kLatencyBoundsMs.back();
}

const char* JudgeDecisionName(JudgeDecision d) {
  switch (d) {
    case JudgeDecision::kContinue:
      return "continue";
    case JudgeDecision::kAbortErrors:
      return "abort_errors";
    case JudgeDecision::kAbortLatency:
      return "abort_latency";
  }
  return "continue";
}

double MixtureLogE(int64_t x, int64_t e, double q0) {
  constexpr int kGrid = 24;
  if (e <= 0 || q0 <= 0 || q0 >= 1) return 0;
  const double odds0 = q0 / (1 - q0);
  const double xs = static_cast<double>(x), fs = static_cast<double>(e - x);
  double terms[kGrid];
  double mx = -INFINITY;
  for (int k = 1; k <= kGrid; ++k) {
    double odds = odds0 * std::exp(k / 8.0);
    double theta = odds / (1 + odds);
    double t = xs * std::log(theta / q0) + fs * std::log1p(-theta) - fs * std::log1p(-q0);
    terms[k - 1] = t;
    mx = std::max(mx, t);
  }
  double sum = 0;
  for (double t : terms) sum += std::exp(t - mx);
  return mx + std::log(sum / kGrid);
}

double BinomialUpperTail(int64_t x, int64_t e, double q0) {
  if (x <= 0) return 1;
  if (x > e || e <= 0) return 0;
  if (q0 <= 0) return 0;
  if (q0 >= 1) return 1;
  const double n = static_cast<double>(e);
  const double log_odds = std::log(q0) - std::log1p(-q0);
  const double mode = std::floor((n + 1) * q0);
  // log pmf(x), then the ratio pmf(y + 1) / pmf(y) = (e - y) / (y + 1) * odds.
  double lp = std::lgamma(n + 1) - std::lgamma(double(x) + 1) - std::lgamma(n - double(x) + 1) +
              double(x) * std::log(q0) + (n - double(x)) * std::log1p(-q0);
  double mx = lp, sum = 0;  // sum of exp(lp_y - mx), rescaled when mx grows
  for (int64_t y = x;; ++y) {
    if (lp > mx) {
      sum *= std::exp(mx - lp);
      mx = lp;
    }
    sum += std::exp(lp - mx);
    if (y >= e) break;
    if (double(y) > mode && lp < mx - 40) break;  // the rest is < e^-40 of the sum
    lp += std::log(double(e - y)) - std::log(double(y + 1)) + log_odds;
  }
  return std::min(1.0, std::exp(mx) * sum);
}

int64_t HorizonLookRequests(int64_t h, int k) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(double(h) * kHorizonLookFractions[k])));
}

namespace {

Status CheckArm(const ArmStats& a, const char* name) {
  std::string n(name);
  if (a.requests < 0 || a.errors < 0) return Status::InvalidArgument(n + ": negative request or error count");
  if (a.errors > a.requests) return Status::InvalidArgument(n + ": more errors than requests");
  if (!a.latency_buckets.empty() && a.latency_buckets.size() != static_cast<size_t>(kLatencyBucketCount))
    return Status::InvalidArgument(n + ": latency histogram has " + std::to_string(a.latency_buckets.size()) +
                                   " buckets, want " + std::to_string(kLatencyBucketCount));
  for (int64_t c : a.latency_buckets)
    if (c < 0) return Status::InvalidArgument(n + ": negative latency bucket count");
  return Status::OK();
}

int64_t Total(const std::vector<int64_t>& b) {
  int64_t t = 0;
  for (int64_t c : b) t += c;
  return t;
}

std::string Fmt(const char* f, double a, double b, double c, double d) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c, d);
  return buf;
}

}  // namespace

Result<Verdict> Judge(const ArmStats& baseline, const ArmStats& candidate, const JudgeOptions& o) {
  MR_RETURN_IF_ERROR(CheckArm(baseline, "baseline"));
  MR_RETURN_IF_ERROR(CheckArm(candidate, "candidate"));
  if (!(o.alpha > 0 && o.alpha < 1)) return Status::InvalidArgument("alpha must be in (0, 1)");
  if (o.min_requests < 0 || o.min_latency_samples < 0) return Status::InvalidArgument("negative minimum sample");
  if (o.horizon_requests < 0) return Status::InvalidArgument("horizon_requests must be >= 0 (0: no planned horizon)");
  if (o.prev_requests < 0) return Status::InvalidArgument("prev_requests must be >= 0");
  if (!(o.error_ratio_tolerance >= 0) || !(o.latency_rel_tolerance >= 0) || !(o.latency_abs_tolerance_ms >= 0))
    return Status::InvalidArgument("tolerances must be >= 0");

  Verdict v;
  const double error_budget = o.alpha / 2;
  const bool planned = o.horizon_requests > 0;
  v.error_log_threshold = std::log(1 / (planned ? kHorizonMixtureShare * error_budget : error_budget));
  v.horizon_requests = o.horizon_requests;
  v.judged_requests = o.prev_requests;
  v.latency_log_threshold = std::log(4 / o.alpha);
  if (baseline.requests > 0) v.baseline_error_rate = double(baseline.errors) / double(baseline.requests);
  if (candidate.requests > 0) v.candidate_error_rate = double(candidate.errors) / double(candidate.requests);
  v.baseline_p50_ms = LatencyQuantileMs(baseline.latency_buckets, 0.5);
  v.baseline_p99_ms = LatencyQuantileMs(baseline.latency_buckets, 0.99);
  v.candidate_p50_ms = LatencyQuantileMs(candidate.latency_buckets, 0.5);
  v.candidate_p99_ms = LatencyQuantileMs(candidate.latency_buckets, 0.99);

  // Error test.
  bool errors_ran = false;
  if (baseline.requests >= o.min_requests && candidate.requests >= o.min_requests && baseline.requests > 0 &&
      candidate.requests > 0) {
    errors_ran = true;
    double w = double(candidate.requests) / double(baseline.requests + candidate.requests);
    double rho = 1 + o.error_ratio_tolerance;
    v.error_null_share = w * rho / (w * rho + 1 - w);
    const int64_t x = candidate.errors, e = baseline.errors + candidate.errors;
    v.error_log_e = MixtureLogE(x, e, v.error_null_share);
    // The planned looks passed since the previous judged call: one test at
    // the sum of their levels (same data).
    const int64_t n = baseline.requests + candidate.requests;
    v.judged_requests = std::max(o.prev_requests, n);
    for (int k = 0; planned && k < kHorizonLooks; ++k) {
      const int64_t nk = HorizonLookRequests(o.horizon_requests, k);
      if (o.prev_requests < nk && nk <= n) {
        v.error_look = k + 1;
        v.error_look_requests = nk;
        v.error_look_level += kHorizonLookShares[k] * error_budget;
      }
    }
    if (v.error_look > 0) v.error_look_p = BinomialUpperTail(x, e, v.error_null_share);
    if (v.error_log_e >= v.error_log_threshold) {
      v.decision = JudgeDecision::kAbortErrors;
      v.reason = Fmt("candidate error rate %.4f vs baseline %.4f: sequential test log e-value %.2f >= %.2f",
                     v.candidate_error_rate, v.baseline_error_rate, v.error_log_e, v.error_log_threshold);
      return v;
    }
    if (v.error_look > 0 && v.error_look_p <= v.error_look_level) {
      v.decision = JudgeDecision::kAbortErrors;
      v.reason = Fmt("candidate error rate %.4f vs baseline %.4f: planned look %.0f of 3 (at %.0f requests): ",
                     v.candidate_error_rate, v.baseline_error_rate, v.error_look, double(v.error_look_requests)) +
                 Fmt("exact binomial p %.2g <= level %.2g (%.0f of %.0f errors in the candidate)", v.error_look_p,
                     v.error_look_level, double(x), double(e));
      return v;
    }
  }

  // Latency tests.
  int64_t nb = Total(baseline.latency_buckets), nc = Total(candidate.latency_buckets);
  bool latency_ran = false;
  if (nb >= o.min_latency_samples && nc >= o.min_latency_samples && nb > 0 && nc > 0) {
    latency_ran = true;
    double best = -INFINITY, best_q = 0;
    for (double q : {0.5, 0.99}) {
      double qb = LatencyQuantileMs(baseline.latency_buckets, q);
      double target = std::max(qb * (1 + o.latency_rel_tolerance), qb + o.latency_abs_tolerance_ms);
      int idx = LatencyBucketIndex(target);
      if (idx >= static_cast<int>(kLatencyBoundsMs.size())) continue;  // beyond the histogram
      int64_t above = 0;
      for (size_t i = idx + 1; i < candidate.latency_buckets.size(); ++i) above += candidate.latency_buckets[i];
      double le = MixtureLogE(above, nc, 1 - q);
      if (le > best) {
        best = le;
        best_q = q;
        v.latency_threshold_ms = kLatencyBoundsMs[idx];
      }
    }
    if (best > -INFINITY) v.latency_log_e = best;
    if (v.latency_log_e >= v.latency_log_threshold) {
      v.decision = JudgeDecision::kAbortLatency;
      v.reason = Fmt("candidate p%.0f above %.1f ms too often (p50 %.1f ms, p99 %.1f ms)", best_q * 100,
                     v.latency_threshold_ms, v.candidate_p50_ms, v.candidate_p99_ms) +
                 Fmt(" vs baseline p50 %.1f ms, p99 %.1f ms: log e-value %.2f >= %.2f", v.baseline_p50_ms,
                     v.baseline_p99_ms, v.latency_log_e, v.latency_log_threshold);
      return v;
    }
  }

  if (!errors_ran && !latency_ran) {
    v.reason = "too few samples: " + std::to_string(baseline.requests) + " baseline and " +
               std::to_string(candidate.requests) + " candidate requests";
  } else {
    v.reason = Fmt("no significant regression: error rate %.4f vs %.4f (log e %.2f), latency log e %.2f",
                   v.candidate_error_rate, v.baseline_error_rate, v.error_log_e, v.latency_log_e);
    if (v.error_look > 0)
      v.reason += Fmt("; planned look %.0f (at %.0f requests): p %.2g > level %.2g", v.error_look,
                      double(v.error_look_requests), v.error_look_p, v.error_look_level);
  }
  return v;
}

}  // namespace modelreg
