// Simulation benchmark of the rollout judge (registry/core/rollout_judge.h)
// on seeded traffic: false aborts over A/A rollouts, detection of a +2 pp
// error regression at a canary share, and beside them a naive fixed-threshold
// rule checked at every look (abort if candidate error rate > baseline + 1 pp
// once the candidate has 100 requests). Prints a table; see bench/README.md.
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

constexpr int kLookEvery = 500;  // total requests between two looks

struct Outcome {
  long judge_at = -1;  // total requests at the judge's first abort, -1 if none
  long naive_at = -1;  // same for the naive rule
};

// One rollout up to `horizon` total requests; latency 10 ms + Exp(mean 5 ms)
// in both arms, so only the error rates differ.
Outcome Run(std::mt19937_64& rng, double w, double pb, double pc, long horizon) {
  std::exponential_distribution<double> tail(1 / 5.0);
  ArmStats b, c;
  Outcome out;
  for (long done = 0; done < horizon && (out.judge_at < 0 || out.naive_at < 0); done += kLookEvery) {
    int64_t nc = std::binomial_distribution<int64_t>(kLookEvery, w)(rng);
    int64_t nb = kLookEvery - nc;
    c.requests += nc;
    b.requests += nb;
    c.errors += std::binomial_distribution<int64_t>(nc, pc)(rng);
    b.errors += std::binomial_distribution<int64_t>(nb, pb)(rng);
    for (int64_t i = 0; i < nb; ++i) AddLatencySample(b.latency_buckets, 10 + tail(rng));
    for (int64_t i = 0; i < nc; ++i) AddLatencySample(c.latency_buckets, 10 + tail(rng));
    long now = done + kLookEvery;
    if (out.judge_at < 0) {
      auto v = Judge(b, c);
      if (!v.ok()) {
        std::fprintf(stderr, "judge: %s\n", v.status().ToString().c_str());
        std::exit(1);
      }
      if (v->decision != JudgeDecision::kContinue) out.judge_at = now;
    }
    if (out.naive_at < 0 && c.requests >= 100 &&
        double(c.errors) / double(c.requests) > double(b.errors) / double(b.requests) + 0.01)
      out.naive_at = now;
  }
  return out;
}

double Median(std::vector<long> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double Quantile(std::vector<long> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(q * double(v.size())))];
}

// Detection statistics over `runs` rollouts of `horizon` requests.
struct Detect {
  double judge_within = 0, naive_within = 0;  // fraction detected within `within`
  std::vector<long> judge_at, naive_at;       // detection times (detected runs)
};

Detect Power(std::mt19937_64& rng, int runs, double w, double pb, double pc, long within, long horizon) {
  Detect d;
  int jw = 0, nw = 0;
  for (int r = 0; r < runs; ++r) {
    Outcome o = Run(rng, w, pb, pc, horizon);
    if (o.judge_at >= 0) {
      d.judge_at.push_back(o.judge_at);
      if (o.judge_at <= within) ++jw;
    }
    if (o.naive_at >= 0) {
      d.naive_at.push_back(o.naive_at);
      if (o.naive_at <= within) ++nw;
    }
  }
  d.judge_within = double(jw) / runs;
  d.naive_within = double(nw) / runs;
  return d;
}

// Power of the error test at the final look only, with counts at their
// expectations: P(X >= x*) for X ~ Binomial(E, q1), E = expected errors,
// x* the smallest X whose log e-value crosses log(2/alpha). A lower bound on
// detection by that look (earlier crossings only add).
double AnalyticPower(double w, double pb, double pc, long n, double alpha) {
  long e = std::lround(n * (w * pc + (1 - w) * pb));
  double q1 = w * pc / (w * pc + (1 - w) * pb);
  long xs = -1;
  for (long x = 0; x <= e; ++x)
    if (MixtureLogE(x, e, w) >= std::log(2 / alpha)) {
      xs = x;
      break;
    }
  if (xs < 0) return 0;
  double p = 0;
  for (long x = xs; x <= e; ++x)
    p += std::exp(std::lgamma(e + 1.0) - std::lgamma(x + 1.0) - std::lgamma(e - x + 1.0) + x * std::log(q1) +
                  (e - x) * std::log1p(-q1));
  std::printf(
      "    analytic, final look at %ld requests (w %.0f %%): E = %ld errors, need X >= %ld of them in the "
      "candidate (expected %.1f): power %.3f\n",
      n, w * 100, e, xs, e * q1, p);
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
  JudgeOptions defaults;
  std::printf(
      "rollout judge simulation: %d runs per row, seed %lu, looks every %d requests, alpha %.2f, "
      "min %lld requests per arm\n",
      runs, seed, kLookEvery, defaults.alpha, (long long)defaults.min_requests);

  // (a) A/A: 1 % errors in both arms, 5 % canary, 100 000 requests (200 looks).
  Detect aa = Power(rng, runs, 0.05, 0.01, 0.01, 100000, 100000);
  std::printf(
      "(a) A/A, 1 %% errors, 5 %% canary, 200 looks to 100 000 requests: false aborts judge %.3f "
      "(target <= 0.010) | naive rule %.3f\n",
      aa.judge_within, aa.naive_within);
  Detect aa50 = Power(rng, runs, 0.5, 0.01, 0.01, 100000, 100000);
  std::printf("    A/A at 50 %% traffic: false aborts judge %.3f | naive rule %.3f\n", aa50.judge_within,
              aa50.naive_within);

  // (b) +2 pp: baseline 1 %, candidate 3 %, 5 % canary; detection within 20 000.
  Detect pw = Power(rng, runs, 0.05, 0.01, 0.03, 20000, 400000);
  std::printf(
      "(b) +2 pp (1 %% -> 3 %%), 5 %% canary: detected within 20 000 requests judge %.3f (target >= 0.95) "
      "| naive rule %.3f\n",
      pw.judge_within, pw.naive_within);
  std::printf(
      "    requests to detection (runs continued to 400 000): judge median %.0f, 95th percentile %.0f "
      "(detected %zu/%d) | naive median %.0f\n",
      Median(pw.judge_at), Quantile(pw.judge_at, 0.95), pw.judge_at.size(), runs, Median(pw.naive_at));
  AnalyticPower(0.05, 0.01, 0.03, 20000, defaults.alpha);

  // What meets the target: other canary shares at 20 000 requests.
  for (double w : {0.10, 0.20, 0.50}) {
    Detect d = Power(rng, runs, w, 0.01, 0.03, 20000, 20000);
    std::printf("    %2.0f %% canary: detected within 20 000 judge %.3f | naive %.3f\n", w * 100, d.judge_within,
                d.naive_within);
    AnalyticPower(w, 0.01, 0.03, 20000, defaults.alpha);
  }
  return 0;
}
