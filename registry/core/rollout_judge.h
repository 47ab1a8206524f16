// Rollout judge: decides from per-arm counts whether a canary candidate is
// significantly worse than its baseline (docs: issue #26 item 4). Pure
// functions, no clock, no database; the caller aggregates counts.
//
// Contract
// - Input: cumulative counts of each arm over the SAME period (since the
//   current weight step began): requests, errors (5xx, timeouts, connection
//   failures) and a latency histogram in the fixed layout kLatencyBoundsMs
//   (bucket i counts samples in (bound[i-1], bound[i]] ms, bucket 0 samples
//   <= 0.5 ms, the last bucket (index kLatencyBoundsMs.size()) everything
//   above 60 s). An empty histogram means "no latency data".
// - Bad input (negative counts, errors > requests, histogram of the wrong
//   size, alpha outside (0,1), negative tolerances, negative horizon or
//   prev_requests) -> INVALID_ARGUMENT.
// - Fewer than min_requests in either arm: kContinue for errors; fewer than
//   min_latency_samples histogram samples in either arm: kContinue for
//   latency. Missing data never yields an abort.
// - The judge may be called after every poll, any number of times: with
//   probability >= 1 - alpha an A/A candidate (same error rate, same latency
//   distribution) is never aborted over the whole unbounded sequence of
//   looks (under the assumptions below). alpha is split: alpha/2 for the
//   error test (with a planned horizon: shared between the mixture and the
//   looks, below), alpha/4 for each latency test (p50, p99).
//
// Error test (mixture sequential probability ratio test on error shares).
//   Let w = n_c / (n_b + n_c) be the candidate's share of requests, and
//   rho = 1 + error_ratio_tolerance. If every request independently goes to
//   the candidate with probability w (sticky hashing of many keys at a fixed
//   weight) and errors happen with rate p_b, p_c in the arms, then each
//   error independently belongs to the candidate with probability
//   q = w p_c / (w p_c + (1 - w) p_b). H0: p_c <= rho p_b  <=>  q <= q0 with
//   q0 = w rho / (w rho + 1 - w). Among E = e_b + e_c errors, X = e_c are
//   the candidate's. For a grid of alternatives theta_k with
//   odds(theta_k) = odds(q0) * exp(k / 8), k = 1..24 (odds ratios 1.13 to
//   20, the range of regressions worth catching), the statistic is
//       M = (1/24) sum_k (theta_k/q0)^X ((1-theta_k)/(1-q0))^(E-X).
//   Each term is a nonnegative supermartingale in the error sequence under
//   any q <= q0 (theta_k > q0), so is their average, and by Ville's
//   inequality P(sup_t M_t >= 1/a) <= a (Wald 1945; Robbins 1970 "Statistical
//   methods related to the law of the iterated logarithm"; the discrete
//   mixture form as in Howard, Ramdas, McAuliffe, Sekhon 2021 "Time-uniform,
//   nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2)).
//   Abort (kAbortErrors) when log M >= log(2/alpha).
//   Assumptions: w is constant over the period (restart the counts when the
//   weight changes); w is estimated by the observed request shares, which is
//   exact in the limit and close for thousands of requests.
//
// Planned horizon (horizon_requests H > 0): the error budget alpha/2 is
//   split by Bonferroni between the mixture above and kHorizonLooks looks.
//   - The mixture keeps kHorizonMixtureShare of it: it aborts when
//     log M >= log(1 / (kHorizonMixtureShare alpha/2)), at any time, also
//     after H (gross regressions stop early; monitoring never ends).
//   - Look k (k = 1..3) is defined on the step's total request count
//     N = n_b + n_c at N_k = ceil(H f_k), f = kHorizonLookFractions (H/4,
//     H/2, H), with level alpha_k = kHorizonLookShares[k] alpha/2. The
//     caller passes prev_requests = N at the previous call whose error
//     test ran (Verdict::judged_requests of that call; 0 at the start of a
//     step), and look k is tested at this call iff prev_requests < N_k <= N:
//     at the first call at or past N_k, once, however often or rarely the
//     judge is called. A look passed by a big jump in N is tested at the
//     next call; looks passed at the same call are one test (same data) at
//     the sum of their levels.
//   - The test of a look is the exact one-sided binomial test of X among E
//     errors: p = P(Bin(E, q0) >= X), abort (kAbortErrors) when p <= the
//     level. Conditional on E and on when the look fires, X ~ Bin(E, q)
//     with q <= q0 under H0, so P(p <= a) <= a.
//   Why the bound holds under any polling: the mixture aborts with
//   probability <= its share (Ville, as above) and look k with probability
//   <= alpha_k whenever it is tested; each look is tested at most once per
//   step, so P(any error abort) <= kHorizonMixtureShare alpha/2 +
//   sum_k alpha_k = alpha/2 (the shares sum to 1). This needs (1) the
//   looks to be defined by traffic volume, not by outcomes: when a look
//   fires depends on N and on when the caller calls, never on which arm
//   the errors fell in, and the caller must not choose when to call from
//   the counts; (2) prev_requests to be the N of the previous judged call
//   (kept with the step's counts, under the same write lock, so two calls
//   never test one look twice), reset to 0 when the step changes; (3) the
//   assumptions of the mixture (constant w, w estimated by the shares).
//   Within the horizon the looks have far more power than the always-valid
//   mixture (docs/rollouts.md, bench/README.md "Rollout judge"): no test
//   valid over an unbounded horizon reaches a fixed-sample test's power at
//   N = H. horizon_requests = 0 is the always-valid-only test above, with
//   the whole alpha/2.
//
// Latency test (mixture SPRT on exceedances), for q in {0.5, 0.99}:
//   The baseline is the reference. Its quantile Qb (from its histogram) with
//   tolerance gives target = max(Qb (1 + latency_rel_tolerance),
//   Qb + latency_abs_tolerance_ms), rounded UP to a bucket bound T. Y of the
//   candidate's n samples are in buckets above T. H0: P_c(latency > T) <=
//   1 - q, i.e. the candidate's q-quantile is <= T. Same mixture as above
//   with X = Y, E = n, q0 = 1 - q; abort (kAbortLatency) when
//   log M >= log(4/alpha). T is treated as fixed (the baseline has ~20x the
//   samples of a canary); the tolerance keeps an A/A candidate strictly
//   inside H0, so the baseline's own noise is absorbed by the margin.
//
// Errors are judged before latency: a candidate failing both is reported
// as kAbortErrors.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace modelreg {

// Upper bounds (ms) of the latency buckets: 0.5 ms .. 60 s, log-spaced
// (ratio ~1.35). Histograms have kLatencyBucketCount = 41 entries: one per
// bound plus an overflow bucket.
inline constexpr std::array<double, 40> kLatencyBoundsMs = {
    0.5,  0.675, 0.911, 1.23, 1.66, 2.24, 3.02,  4.08,  5.51,  7.43,  10,    13.5, 18.3, 24.7,
    33.3, 44.9,  60.6,  81.8, 110,  149,  201,   272,   367,   495,   668,   901,  1220, 1640,
    2220, 2990,  4040,  5450, 7350, 9930, 13400, 18100, 24400, 32900, 44500, 60000};
inline constexpr int kLatencyBucketCount = static_cast<int>(kLatencyBoundsMs.size()) + 1;

// Index of the bucket that counts a sample of `ms` milliseconds.
int LatencyBucketIndex(double ms);
// Adds one sample; an empty `buckets` is first sized to kLatencyBucketCount.
void AddLatencySample(std::vector<int64_t>& buckets, double ms);
// Approximate q-quantile (q in [0,1]) in ms, linear within the bucket; the
// overflow bucket reports 60 000. 0 when the histogram is empty.
double LatencyQuantileMs(const std::vector<int64_t>& buckets, double q);

struct ArmStats {
  int64_t requests = 0;
  int64_t errors = 0;
  std::vector<int64_t> latency_buckets;  // empty or kLatencyBucketCount entries
};

// The planned horizon's looks (see the contract): N_k = ceil(H f_k), each
// at level share_k alpha/2; the mixture keeps kHorizonMixtureShare alpha/2.
inline constexpr int kHorizonLooks = 3;
inline constexpr std::array<double, kHorizonLooks> kHorizonLookFractions = {0.25, 0.5, 1.0};
inline constexpr std::array<double, kHorizonLooks> kHorizonLookShares = {0.04, 0.08, 0.76};
inline constexpr double kHorizonMixtureShare = 0.12;

struct JudgeOptions {
  double alpha = 0.01;                  // P(ever aborting an A/A candidate) bound
  int64_t horizon_requests = 0;         // H: planned looks at H/4, H/2, H total requests; 0 = none
  int64_t prev_requests = 0;            // N at the previous call whose error test ran (0 at step start)
  int64_t min_requests = 200;           // per arm, for the error test
  int64_t min_latency_samples = 50;     // per arm, for the latency tests
  double error_ratio_tolerance = 0.0;   // act only when p_c > (1 + tol) p_b
  double latency_rel_tolerance = 0.10;  // candidate quantile worse by > 10 %
  double latency_abs_tolerance_ms = 5;  // ... and by > 5 ms
};

enum class JudgeDecision { kContinue, kAbortErrors, kAbortLatency };
const char* JudgeDecisionName(JudgeDecision d);  // "continue", "abort_errors", "abort_latency"

struct Verdict {
  JudgeDecision decision = JudgeDecision::kContinue;
  double baseline_error_rate = 0;
  double candidate_error_rate = 0;
  double error_null_share = 0;      // q0 (0 when the test did not run)
  double error_log_e = 0;           // log M of the error test
  double error_log_threshold = 0;   // log(1 / the mixture's level): log(2/alpha) without a horizon
  int64_t horizon_requests = 0;     // H as given
  int64_t judged_requests = 0;      // pass as prev_requests next time: N if the error test ran, else prev
  int error_look = 0;               // the highest look tested at this call (1..kHorizonLooks), 0 none
  int64_t error_look_requests = 0;  // its N_k
  double error_look_p = 1;          // exact one-sided binomial p-value at this call (1 when none)
  double error_look_level = 0;      // the level it was tested at (sum over the looks tested)
  double baseline_p50_ms = 0, baseline_p99_ms = 0;
  double candidate_p50_ms = 0, candidate_p99_ms = 0;
  double latency_log_e = 0;          // max log M over the p50 and p99 tests
  double latency_log_threshold = 0;  // log(4/alpha)
  double latency_threshold_ms = 0;   // T of the test with the larger log M
  std::string reason;                // one line for humans and the audit log
};

Result<Verdict> Judge(const ArmStats& baseline, const ArmStats& candidate, const JudgeOptions& o = {});

// log M of the mixture test above for X successes in E trials against
// H0: success probability <= q0 (0 < q0 < 1). Exposed for the simulator.
double MixtureLogE(int64_t x, int64_t e, double q0);
// P(Bin(e, q0) >= x): the one-sided exact binomial p-value (0 < q0 < 1).
double BinomialUpperTail(int64_t x, int64_t e, double q0);
// N_k of look k (0-based) for horizon h > 0.
int64_t HorizonLookRequests(int64_t h, int k);

}  // namespace modelreg
