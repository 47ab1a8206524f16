// Unit tests for registry/core/drift_stats.h: PSI and Jensen-Shannon
// distance on known counts, rates, argument checks, and the threshold's
// promise: a seeded A/A simulation (windows drawn from the reference's own
// fractions) alarms on at most 1 % of windows, a shifted window alarms.
#include "core/drift_stats.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

namespace modelreg {
namespace {

std::vector<int64_t> Draw(std::mt19937_64& rng, const std::vector<double>& p, int64_t n) {
  std::vector<int64_t> c(p.size());
  std::discrete_distribution<size_t> d(p.begin(), p.end());
  for (int64_t i = 0; i < n; ++i) ++c[d(rng)];
  return c;
}

TEST_CASE("drift: chi-square quantiles match the tables") {
  CHECK(ChiSquareQuantile(0.95, 1) == Approx(3.841).epsilon(1e-3));
  CHECK(ChiSquareQuantile(0.999, 1) == Approx(10.828).epsilon(1e-3));
  CHECK(ChiSquareQuantile(0.999, 19) == Approx(43.820).epsilon(1e-3));
  CHECK(ChiSquareQuantile(0.99, 9) == Approx(21.666).epsilon(1e-3));
  CHECK(std::isnan(ChiSquareQuantile(1.0, 3)));
}

TEST_CASE("drift: identical shares give zero, known shares give the textbook values") {
  auto same = ComputeDrift({0.25, 0.25, 0.25, 0.25}, 1000000, {25000, 25000, 25000, 25000}, 0, 0);
  REQUIRE(same.ok());
  CHECK(same->psi == Approx(0).margin(1e-9));
  CHECK(same->js == Approx(0).margin(1e-9));
  CHECK_FALSE(same->alarm);
  // Disjoint supports: JS distance (base 2) is exactly 1.
  auto disjoint = ComputeDrift({0.5, 0.5, 0, 0}, 1000, {0, 0, 500, 500}, 0, 0);
  REQUIRE(disjoint.ok());
  CHECK(disjoint->js == Approx(1.0).epsilon(1e-9));
  CHECK(disjoint->alarm);
  // Large samples: the smoothing is negligible and PSI is sum (w-r) ln(w/r).
  auto shifted = ComputeDrift({0.5, 0.5}, 10000000, {6000000, 4000000}, 0, 0);
  REQUIRE(shifted.ok());
  CHECK(shifted->psi == Approx(0.1 * std::log(0.6 / 0.5) - 0.1 * std::log(0.4 / 0.5)).epsilon(1e-4));
  // An empty bin stays finite.
  auto empty = ComputeDrift({0.5, 0.5}, 1000, {100, 0}, 0, 0);
  REQUIRE(empty.ok());
  CHECK(std::isfinite(empty->psi));
  CHECK(empty->alarm);
}

TEST_CASE("drift: rates, min_n and the min_psi floor") {
  auto s = ComputeDrift({0.5, 0.5}, 1000, {30, 10}, 10, 4);
  REQUIRE(s.ok());
  CHECK(s->n == 40);
  CHECK(s->missing_rate == Approx(0.2));
  CHECK(s->out_of_range_rate == Approx(0.1));
  CHECK_FALSE(s->alarm);  // 40 < min_n = 50, however different
  DriftOptions few;
  few.min_n = 10;
  CHECK(ComputeDrift({0.5, 0.5}, 1000, {40, 0}, 0, 0, few)->alarm);
  // The floor: a tiny but real shift on a huge window does not alarm.
  auto huge = ComputeDrift({0.5, 0.5}, 100000000, {50500000, 49500000}, 0, 0);
  REQUIRE(huge.ok());
  CHECK(huge->threshold == Approx(0.02));
  CHECK_FALSE(huge->alarm);
  // The threshold shrinks as the window grows.
  CHECK(PsiThreshold({0.5, 0.5}, 100000, 100, {}) > PsiThreshold({0.5, 0.5}, 100000, 1000, {}));
  auto none = ComputeDrift({0.5, 0.5}, 10, {0, 0}, 0, 0);
  REQUIRE(none.ok());
  CHECK(none->psi == 0);
  CHECK_FALSE(none->alarm);
}

TEST_CASE("drift: bad arguments are InvalidArgument") {
  CHECK(ComputeDrift({0.5, 0.5}, 10, {1, 2, 3}, 0, 0).status().code() == StatusCode::kInvalidArgument);
  CHECK(ComputeDrift({0.5, 0.4}, 10, {1, 2}, 0, 0).status().message() == "drift: reference fractions do not sum to 1");
  CHECK_FALSE(ComputeDrift({0.5, 0.5}, 10, {1, -2}, 0, 0).ok());
  CHECK_FALSE(ComputeDrift({1.0}, 10, {1}, 0, 0).ok());
  CHECK_FALSE(ComputeDrift({0.5, 0.5}, 0, {1, 2}, 0, 0).ok());
  CHECK_FALSE(ComputeDrift({0.5, 0.5}, 10, {1, 2}, -1, 0).ok());
  DriftOptions bad;
  bad.alpha = 0;
  CHECK_FALSE(ComputeDrift({0.5, 0.5}, 10, {1, 2}, 0, 0, bad).ok());
  CHECK_FALSE(ComputeDrift({0.5, std::nan("")}, 10, {1, 2}, 0, 0).ok());
}

// The promise of the threshold. alpha is raised to 0.01 so that a few
// thousand windows measure the rate: the same inflation that keeps the rate
// under 0.001 at the default keeps it under 0.01 here.
TEST_CASE("drift: A/A windows alarm at most alpha of the time, a shift alarms") {
  std::mt19937_64 rng(27);
  DriftOptions opt;
  opt.alpha = 0.01;
  struct Ref {
    std::vector<double> p;
    int64_t m;
  };
  const std::vector<Ref> refs = {
      {std::vector<double>(20, 0.05), 100000},                          // numeric, quantile bins
      {{0.97, 0.03}, 5000},                                             // a rare boolean
      {{0.4, 0.25, 0.15, 0.1, 0.05, 0.03, 0.02}, 2000},                 // categorical top values
      {{0.001, 0.049, 0.1, 0.2, 0.3, 0.2, 0.1, 0.049, 0.001}, 100000},  // near-empty end bins
  };
  for (const auto& ref : refs) {
    for (int64_t n : {50, 60, 200, 2000}) {
      const int windows = 2000;
      int alarms = 0;
      for (int w = 0; w < windows; ++w) {
        auto s = ComputeDrift(ref.p, ref.m, Draw(rng, ref.p, n), 0, 0, opt);
        REQUIRE(s.ok());
        alarms += s->alarm;
      }
      INFO("k=" << ref.p.size() << " n=" << n << " alarms " << alarms << " of " << windows);
      CHECK(alarms <= windows * 0.01);
    }
  }
  // A shift of one numeric feature (x 1.5 moves mass to the upper bins).
  std::vector<double> ref(10, 0.1), shifted = {0.05, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.14, 0.16, 0.2};
  int detected = 0;
  for (int w = 0; w < 100; ++w) detected += ComputeDrift(ref, 100000, Draw(rng, shifted, 1000), 0, 0)->alarm;
  CHECK(detected >= 95);
}

}  // namespace
}  // namespace modelreg
