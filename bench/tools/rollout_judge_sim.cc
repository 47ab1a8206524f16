// Simulation benchmark of the rollout judge (registry/core/rollout_judge.h)
// on seeded traffic. On the SAME simulated rollouts it runs three rules:
//   - planned: the judge with a planned horizon (horizon_requests 20 000,
//     the default of `modelreg rollout start`),
//   - always-valid: the judge without a horizon (horizon_requests 0: the
//     mixture SPRT only, the design before the planned horizon),
//   - naive: a fixed-threshold rule checked at every look (abort if the
//     candidate's error rate > the baseline's + 1 pp once the candidate has
//     100 requests).
// It prints false aborts over A/A rollouts (also polled every 100 and every
// 5 000 requests, and at other canary shares), detection of a +2 pp error
// regression at 5 % canary within 20 000 requests, and `summary` lines
// that bench/rollout_judge.sh turns into summary rows. See bench/README.md.
//   rollout_judge_sim [RUNS=1000] [SEED=26]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/rollout_judge.h"

using namespace modelreg;

namespace {

constexpr long kHorizon = 20000;  // the planned horizon judged (per step)
constexpr int kRules = 3;         // planned, always-valid, naive
const char* const kRuleNames[kRules] = {"planned", "always-valid", "naive"};

struct Outcome {
  long at[kRules] = {-1, -1, -1};  // total requests at each rule's first abort, -1 if none
};

// One rollout (one weight step) up to `length` total requests, judged every
// `look_every` requests; latency 10 ms + Exp(mean 5 ms) in both arms, so
// only the error rates differ.
Outcome Run(std::mt19937_64& rng, double w, double pb, double pc, long length, int look_every) {
  std::exponential_distribution<double> tail(1 / 5.0);
  ArmStats b, c;
  Outcome out;
  int64_t prev = 0;  // Verdict::judged_requests of the planned judge's last call
  for (long done = 0; done < length && (out.at[0] < 0 || out.at[1] < 0 || out.at[2] < 0); done += look_every) {
    int64_t nc = std::binomial_distribution<int64_t>(look_every, w)(rng);
    int64_t nb = look_every - nc;
    c.requests += nc;
    b.requests += nb;
    c.errors += std::binomial_distribution<int64_t>(nc, pc)(rng);
    b.errors += std::binomial_distribution<int64_t>(nb, pb)(rng);
    for (int64_t i = 0; i < nb; ++i) AddLatencySample(b.latency_buckets, 10 + tail(rng));
    for (int64_t i = 0; i < nc; ++i) AddLatencySample(c.latency_buckets, 10 + tail(rng));
    const long now = done + look_every;
    for (int rule = 0; rule < 2; ++rule) {
      if (out.at[rule] >= 0) continue;
      JudgeOptions o;
      o.horizon_requests = rule == 0 ? kHorizon : 0;
      o.prev_requests = rule == 0 ? prev : 0;
      auto v = Judge(b, c, o);
      if (!v.ok()) {
        std::fprintf(stderr, "judge: %s\n", v.status().ToString().c_str());
        std::exit(1);
      }
      if (rule == 0) prev = v->judged_requests;
      if (v->decision != JudgeDecision::kContinue) out.at[rule] = now;
    }
    if (out.at[2] < 0 && c.requests >= 100 &&
        double(c.errors) / double(c.requests) > double(b.errors) / double(b.requests) + 0.01)
      out.at[2] = now;
  }
  return out;
}

double Quantile(std::vector<long> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return double(v[std::min(v.size() - 1, size_t(q * double(v.size())))]);
}

// Per rule: the fraction of `runs` rollouts aborted within `within` total
// requests, and the requests to abort of the aborted ones.
struct Rates {
  double within[kRules] = {0, 0, 0};
  std::vector<long> at[kRules];
};

Rates Many(std::mt19937_64& rng, int runs, double w, double pb, double pc, long within, long length, int look_every) {
  Rates r;
  int n[kRules] = {0, 0, 0};
  for (int i = 0; i < runs; ++i) {
    Outcome o = Run(rng, w, pb, pc, length, look_every);
    for (int k = 0; k < kRules; ++k) {
      if (o.at[k] < 0) continue;
      r.at[k].push_back(o.at[k]);
      if (o.at[k] <= within) ++n[k];
    }
  }
  for (int k = 0; k < kRules; ++k) r.within[k] = double(n[k]) / runs;
  return r;
}

void Row(const char* what, const Rates& r) {
  std::printf("  %-62s planned %.3f | always-valid %.3f | naive %.3f\n", what, r.within[0], r.within[1], r.within[2]);
}

// Power of the planned horizon's last look alone, with the errors at their
// expectation: P(p <= its level) for X ~ Binomial(E, q1). A lower bound on
// detection by H (the earlier looks and the mixture only add).
double AnalyticLastLook(double w, double pb, double pc, long n, double alpha) {
  long e = std::lround(double(n) * (w * pc + (1 - w) * pb));
  double q1 = w * pc / (w * pc + (1 - w) * pb);
  double level = kHorizonLookShares[kHorizonLooks - 1] * alpha / 2;
  long xs = -1;
  for (long x = 0; x <= e; ++x)
    if (BinomialUpperTail(x, e, w) <= level) {
      xs = x;
      break;
    }
  if (xs < 0) return 0;
  double p = BinomialUpperTail(xs, e, q1);
  std::printf(
      "    analytic, last look alone at %ld requests (w %.0f %%, level %.4f): E = %ld errors, needs X >= %ld in the "
      "candidate (expected %.1f): power %.3f\n",
      n, w * 100, level, e, xs, double(e) * q1, p);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 1000;
  unsigned long seed = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 26;
  if (runs <= 0) {
    std::fprintf(stderr, "usage: rollout_judge_sim [RUNS] [SEED]\n");
    return 2;
  }
  std::mt19937_64 rng(seed);
  JudgeOptions d;
  std::printf(
      "rollout judge simulation: %d runs per row, seed %lu, alpha %.2f, min %lld requests per arm; planned "
      "horizon %ld (looks at %lld, %lld, %lld; levels %.4f, %.4f, %.4f; mixture %.4f)\n",
      runs, seed, d.alpha, (long long)d.min_requests, kHorizon, (long long)HorizonLookRequests(kHorizon, 0),
      (long long)HorizonLookRequests(kHorizon, 1), (long long)HorizonLookRequests(kHorizon, 2),
      kHorizonLookShares[0] * d.alpha / 2, kHorizonLookShares[1] * d.alpha / 2, kHorizonLookShares[2] * d.alpha / 2,
      kHorizonMixtureShare * d.alpha / 2);

  std::printf(
      "(a) A/A, 1 %% errors in both arms, 100 000 requests (5 x the horizon): false aborts (target <= 0.010)\n");
  Rates aa = Many(rng, runs, 0.05, 0.01, 0.01, 100000, 100000, 500);
  Row("5 % canary, judged every 500 requests", aa);
  Rates aa100 = Many(rng, runs, 0.05, 0.01, 0.01, 100000, 100000, 100);
  Row("5 % canary, judged every 100 requests", aa100);
  Rates aa5000 = Many(rng, runs, 0.05, 0.01, 0.01, 100000, 100000, 5000);
  Row("5 % canary, judged every 5 000 requests", aa5000);
  Rates aa20 = Many(rng, runs, 0.20, 0.01, 0.01, 100000, 100000, 500);
  Row("20 % canary, judged every 500 requests", aa20);
  Rates aa50 = Many(rng, runs, 0.50, 0.01, 0.01, 100000, 100000, 500);
  Row("50 % canary, judged every 500 requests", aa50);
  double worst_aa = 0;
  for (const Rates* r : {&aa, &aa100, &aa5000, &aa20, &aa50}) worst_aa = std::max(worst_aa, r->within[0]);

  std::printf("(b) +2 pp (1 %% -> 3 %%): detected within 20 000 requests (target >= 0.95)\n");
  Rates pw = Many(rng, runs, 0.05, 0.01, 0.03, 20000, 400000, 500);
  Row("5 % canary, judged every 500 requests", pw);
  std::printf(
      "    requests to detection (runs continued to 400 000): median / 95th percentile planned %.0f / %.0f "
      "(%zu/%d detected) | always-valid %.0f / %.0f (%zu/%d) | naive median %.0f\n",
      Quantile(pw.at[0], 0.5), Quantile(pw.at[0], 0.95), pw.at[0].size(), runs, Quantile(pw.at[1], 0.5),
      Quantile(pw.at[1], 0.95), pw.at[1].size(), runs, Quantile(pw.at[2], 0.5));
  AnalyticLastLook(0.05, 0.01, 0.03, kHorizon, d.alpha);
  Rates pw100 = Many(rng, runs, 0.05, 0.01, 0.03, 20000, 20000, 100);
  Row("5 % canary, judged every 100 requests", pw100);
  Rates pw5000 = Many(rng, runs, 0.05, 0.01, 0.03, 20000, 20000, 5000);
  Row("5 % canary, judged every 5 000 requests", pw5000);
  for (double w : {0.10, 0.20, 0.50}) {
    Rates r = Many(rng, runs, w, 0.01, 0.03, 20000, 20000, 500);
    char what[80];
    std::snprintf(what, sizeof what, "%.0f %% canary, judged every 500 requests", w * 100);
    Row(what, r);
  }

  // Machine-readable headline figures for bench/rollout_judge.sh.
  std::printf("figure aa_false_aborts %.3f %.3f %.3f\n", aa.within[0], aa.within[1], aa.within[2]);
  std::printf("figure aa_false_aborts_worst_polling %.3f\n", worst_aa);
  std::printf("figure detect_2pp_5pct_20k %.3f %.3f %.3f\n", pw.within[0], pw.within[1], pw.within[2]);
  return 0;
}
