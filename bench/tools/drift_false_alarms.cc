// A/A replay of drift alarms (issue #27 item 4, docs/monitoring.md "Honest
// alarms"): for each configuration (reference bin fractions, reference size
// m, window size n), draws --windows windows with no drift and counts how
// many ComputeDrift alarms on, beside the naive fixed rule "PSI > 0.1" on
// the same windows (the baseline). Two ways to draw a window without drift:
//   replay:     the window is drawn from the reference's own fractions (the
//               profile's rows replayed, as a test split of the same data);
//   population: the reference itself is a sample of m rows from a
//               population and the window another sample of n rows from it
//               (the reference's sampling error counts too).
// Prints one line per configuration and mode; exits 1 when any measured
// false-alarm rate is above --target (default 0.01).
//
//   drift_false_alarms [--windows N] [--alpha A] [--seed S] [--target R] [--quantiles]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/drift_stats.h"

namespace {

using modelreg::ComputeDrift;
using modelreg::DriftOptions;

struct Config {
  std::string name;
  std::vector<double> fractions;
  int64_t m, n;
};

std::vector<double> Uniform(int k) { return std::vector<double>(k, 1.0 / k); }

std::vector<double> Normalized(std::vector<double> v) {
  double s = 0;
  for (double x : v) s += x;
  for (double& x : v) x /= s;
  return v;
}

// Geometric shares: a categorical's top values, most frequent first.
std::vector<double> Geometric(int k, double ratio) {
  std::vector<double> v;
  double x = 1;
  for (int i = 0; i < k; ++i, x *= ratio) v.push_back(x);
  return Normalized(v);
}

std::vector<int64_t> Multinomial(std::mt19937_64& rng, const std::vector<double>& p, int64_t n) {
  std::vector<int64_t> c(p.size());
  double left = 1;
  int64_t rest = n;
  for (size_t i = 0; i + 1 < p.size() && rest > 0; ++i) {
    double q = left > 0 ? std::min(1.0, p[i] / left) : 0;
    std::binomial_distribution<int64_t> b(rest, q);
    c[i] = b(rng);
    rest -= c[i];
    left -= p[i];
  }
  c.back() += rest;
  return c;
}

std::vector<double> Fractions(const std::vector<int64_t>& c) {
  double n = 0;
  for (auto x : c) n += x;
  std::vector<double> f;
  for (auto x : c) f.push_back(x / n);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int windows = 1000;
  double alpha = 0.001, target = 0.01;
  uint64_t seed = 27;
  bool quantiles = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s needs a value\n", a.c_str());
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--windows") windows = atoi(next());
    else if (a == "--alpha") alpha = atof(next());
    else if (a == "--seed") seed = strtoull(next(), nullptr, 10);
    else if (a == "--target") target = atof(next());
    else if (a == "--quantiles") quantiles = true;
    else {
      fprintf(stderr, "usage: drift_false_alarms [--windows N] [--alpha A] [--seed S] [--target R] [--quantiles]\n");
      return 2;
    }
  }
  std::vector<Config> configs;
  for (int k : {2, 5, 10, 20, 50})
    for (int64_t n : {50, 100, 200, 1000, 10000, 100000})
      configs.push_back({"uniform k=" + std::to_string(k), Uniform(k), 10000, n});
  for (int64_t n : {50, 100, 1000, 10000}) {
    configs.push_back({"boolean 0.95/0.05", {0.95, 0.05}, 10000, n});
    configs.push_back({"boolean 0.99/0.01", {0.99, 0.01}, 10000, n});
    configs.push_back({"categorical 8 geometric 0.5", Geometric(8, 0.5), 10000, n});
    configs.push_back({"categorical 21 geometric 0.7", Geometric(21, 0.7), 10000, n});
    configs.push_back({"numeric 20 bins, one 0.002",
                       Normalized({0.002, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}), 10000, n});
    configs.push_back({"uniform k=20 small ref", Uniform(20), 500, n});
  }
  DriftOptions opt;
  opt.alpha = alpha;
  std::mt19937_64 rng(seed);
  double worst = 0;
  long long total_windows = 0, total_alarms = 0, total_naive = 0;
  printf("%-30s %6s %7s %-10s %8s %9s %9s %9s\n", "reference", "m", "n", "mode", "windows", "threshold", "alarms",
         "naive>0.1");
  for (const auto& c : configs) {
    for (const char* mode : {"replay", "population"}) {
      bool population = strcmp(mode, "population") == 0;
      int alarms = 0, naive = 0;
      double threshold = 0;
      std::vector<double> psis;
      for (int w = 0; w < windows; ++w) {
        std::vector<double> ref = c.fractions;
        if (population) { ref = Fractions(Multinomial(rng, c.fractions, c.m)); }
        auto counts = Multinomial(rng, c.fractions, c.n);
        auto s = ComputeDrift(ref, c.m, counts, 0, 0, opt);
        if (!s.ok()) {
          fprintf(stderr, "%s: %s\n", c.name.c_str(), s.status().message().c_str());
          return 1;
        }
        alarms += s->alarm;
        naive += s->psi > 0.1;
        threshold = s->threshold;
        if (quantiles) psis.push_back(s->psi);
      }
      double rate = static_cast<double>(alarms) / windows;
      worst = std::max(worst, rate);
      total_windows += windows;
      total_alarms += alarms;
      total_naive += naive;
      printf("%-30s %6lld %7lld %-10s %8d %9.4f %8.2f%% %8.1f%%", c.name.c_str(), (long long)c.m, (long long)c.n, mode,
             windows, threshold, 100 * rate, 100.0 * naive / windows);
      if (quantiles) {
        std::sort(psis.begin(), psis.end());
        // The measured null quantile over the plain chi-square one: the
        // small-sample inflation this configuration needs.
        double chi2 = modelreg::ChiSquareQuantile(1 - alpha, c.fractions.size() - 1) * (1.0 / c.n + 1.0 / c.m);
        double rmin = *std::min_element(c.fractions.begin(), c.fractions.end());
        printf("  n*rmin %8.2f  measured/chi2 %.3f", c.n * rmin,
               psis[static_cast<size_t>((1 - alpha) * (psis.size() - 1))] / chi2);
      }
      printf("\n");
      fflush(stdout);
    }
  }
  printf("all configurations: %lld windows, false alarms %.3f%%, naive PSI > 0.1 %.1f%%\n", total_windows,
         100.0 * total_alarms / total_windows, 100.0 * total_naive / total_windows);
  printf("worst false-alarm rate %.3f%% (alpha %.3g, target <= %.3g%%)\n", 100 * worst, alpha, 100 * target);
  return worst <= target ? 0 : 1;
}
