// Unit tests for registry/core/rollout_judge.h: the sequential canary judge
// on seeded simulated traffic (no clock, no database).
#include "core/rollout_judge.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

namespace modelreg {
namespace {

struct Arm {
  double error_rate;
  double extra_ms;  // added to every latency sample
};

// Simulates one rollout: `total` requests, candidate share `w`, the judge
// looks every `look_every` requests. Returns the first abort or kContinue.
JudgeDecision Simulate(std::mt19937_64& rng, double w, Arm base, Arm cand, int total, int look_every) {
  std::bernoulli_distribution to_cand(w);
  std::uniform_real_distribution<double> u(0, 1);
  std::exponential_distribution<double> tail(1 / 5.0);
  ArmStats b, c;
  for (int i = 1; i <= total; ++i) {
    bool is_c = to_cand(rng);
    ArmStats& s = is_c ? c : b;
    const Arm& a = is_c ? cand : base;
    ++s.requests;
    if (u(rng) < a.error_rate) ++s.errors;
    AddLatencySample(s.latency_buckets, 10 + tail(rng) + a.extra_ms);
    if (i % look_every == 0) {
      auto v = Judge(b, c);
      REQUIRE(v.ok());
      if (v->decision != JudgeDecision::kContinue) return v->decision;
    }
  }
  return JudgeDecision::kContinue;
}

TEST_CASE("latency buckets: index, add, quantile", "[rollout_judge]") {
  REQUIRE(kLatencyBucketCount == 41);
  CHECK(LatencyBucketIndex(0.1) == 0);
  CHECK(LatencyBucketIndex(0.5) == 0);
  CHECK(LatencyBucketIndex(0.6) == 1);
  CHECK(LatencyBucketIndex(1e9) == 40);
  std::vector<int64_t> h;
  CHECK(LatencyQuantileMs(h, 0.5) == 0);
  for (int i = 0; i < 100; ++i) AddLatencySample(h, 12);  // bucket (10, 13.5]
  REQUIRE(h.size() == 41u);
  double p50 = LatencyQuantileMs(h, 0.5);
  CHECK(p50 > 10);
  CHECK(p50 <= 13.5);
  AddLatencySample(h, 1e6);
  CHECK(LatencyQuantileMs(h, 1.0) == 60000);
}

TEST_CASE("A/A rollouts are not aborted over many looks", "[rollout_judge]") {
  std::mt19937_64 rng(26);
  int aborts = 0;
  for (int r = 0; r < 200; ++r)
    if (Simulate(rng, 0.05, {0.01, 0}, {0.01, 0}, 20000, 500) != JudgeDecision::kContinue) ++aborts;
  // alpha = 0.01 bounds the rate at 1 % (2 of 200); with this seed none abort.
  CHECK(aborts == 0);
}

TEST_CASE("5 % errors vs 1 % at 5 % traffic is aborted on errors", "[rollout_judge]") {
  std::mt19937_64 rng(1);
  CHECK(Simulate(rng, 0.05, {0.01, 0}, {0.05, 0}, 20000, 500) == JudgeDecision::kAbortErrors);
}

TEST_CASE("20 ms slower candidate is aborted on latency", "[rollout_judge]") {
  std::mt19937_64 rng(2);
  CHECK(Simulate(rng, 0.05, {0.01, 0}, {0.01, 20}, 20000, 500) == JudgeDecision::kAbortLatency);
}

TEST_CASE("too few samples never abort", "[rollout_judge]") {
  ArmStats b{1000, 0, {}}, c{100, 100, {}};  // every candidate request failed, but only 100
  for (int i = 0; i < 1000; ++i) AddLatencySample(b.latency_buckets, 1);
  for (int i = 0; i < 40; ++i) AddLatencySample(c.latency_buckets, 50000);
  auto v = Judge(b, c);
  REQUIRE(v.ok());
  CHECK(v->decision == JudgeDecision::kContinue);
  // The same candidate with enough samples is aborted.
  c = {300, 300, {}};
  auto v2 = Judge(b, c);
  REQUIRE(v2.ok());
  CHECK(v2->decision == JudgeDecision::kAbortErrors);
  CHECK(!v2->reason.empty());
  CHECK(v2->error_log_e >= v2->error_log_threshold);
}

TEST_CASE("error tolerance: a small relative increase is tolerated", "[rollout_judge]") {
  ArmStats b{100000, 1000, {}}, c{100000, 1500, {}};  // +50 %
  JudgeOptions o;
  auto strict = Judge(b, c, o);
  REQUIRE(strict.ok());
  CHECK(strict->decision == JudgeDecision::kAbortErrors);
  o.error_ratio_tolerance = 1.0;  // act only on a doubling
  auto lax = Judge(b, c, o);
  REQUIRE(lax.ok());
  CHECK(lax->decision == JudgeDecision::kContinue);
}

TEST_CASE("bad input is rejected", "[rollout_judge]") {
  ArmStats ok{1000, 10, {}};
  CHECK(Judge(ArmStats{10, 11, {}}, ok).status().code() == StatusCode::kInvalidArgument);
  CHECK(Judge(ok, ArmStats{-1, 0, {}}).status().code() == StatusCode::kInvalidArgument);
  CHECK(Judge(ok, ArmStats{10, -1, {}}).status().code() == StatusCode::kInvalidArgument);
  CHECK(Judge(ok, ArmStats{10, 1, std::vector<int64_t>(7, 1)}).status().code() == StatusCode::kInvalidArgument);
  std::vector<int64_t> neg(kLatencyBucketCount, 0);
  neg[3] = -1;
  CHECK(Judge(ArmStats{10, 1, neg}, ok).status().code() == StatusCode::kInvalidArgument);
  JudgeOptions o;
  o.alpha = 0;
  CHECK(Judge(ok, ok, o).status().code() == StatusCode::kInvalidArgument);
  o.alpha = 0.01;
  o.latency_rel_tolerance = -1;
  CHECK(Judge(ok, ok, o).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("binomial upper tail: exact values", "[rollout_judge]") {
  CHECK(BinomialUpperTail(0, 10, 0.3) == 1);
  CHECK(BinomialUpperTail(11, 10, 0.3) == 0);
  CHECK(BinomialUpperTail(10, 10, 0.5) == Approx(1.0 / 1024));
  CHECK(BinomialUpperTail(9, 10, 0.5) == Approx(11.0 / 1024));
  // P(Bin(220, 0.05) >= 21), summed term by term.
  double p = 0;
  for (int k = 21; k <= 220; ++k)
    p += std::exp(std::lgamma(221.0) - std::lgamma(k + 1.0) - std::lgamma(221.0 - k) + k * std::log(0.05) +
                  (220 - k) * std::log(0.95));
  CHECK(BinomialUpperTail(21, 220, 0.05) == Approx(p).epsilon(1e-9));
}

TEST_CASE("planned horizon: the levels sum to the error budget", "[rollout_judge]") {
  double sum = kHorizonMixtureShare;
  for (double s : kHorizonLookShares) sum += s;
  CHECK(sum == Approx(1.0).epsilon(1e-12));
  CHECK(HorizonLookRequests(20000, 0) == 5000);
  CHECK(HorizonLookRequests(20000, 1) == 10000);
  CHECK(HorizonLookRequests(20000, 2) == 20000);
  CHECK(HorizonLookRequests(3, 0) == 1);
  // Every look tested at its own call: the levels add up to the budget
  // minus the mixture's share.
  ArmStats b{19000, 190, {}}, c{1000, 10, {}};
  JudgeOptions o;
  o.horizon_requests = 20000;
  double levels = 0;
  for (int64_t n : {5000, 10000, 20000}) {
    ArmStats bn{n * 19 / 20, n / 100, {}}, cn{n / 20, n / 2000, {}};
    auto v = Judge(bn, cn, o);
    REQUIRE(v.ok());
    CHECK(v->error_look > 0);
    levels += v->error_look_level;
    o.prev_requests = v->judged_requests;
  }
  CHECK(levels == Approx((1 - kHorizonMixtureShare) * o.alpha / 2));
  CHECK(std::log(1 / (kHorizonMixtureShare * o.alpha / 2)) == Approx(Judge(b, c, o)->error_log_threshold));
}

TEST_CASE("planned horizon: each look fires once, a skipped look at the next call", "[rollout_judge]") {
  JudgeOptions o;
  o.horizon_requests = 20000;
  auto at = [&](int64_t n) {
    ArmStats b{n - n / 20, (n - n / 20) / 100, {}}, c{n / 20, n / 2000, {}};
    auto v = Judge(b, c, o);
    REQUIRE(v.ok());
    return *v;
  };
  Verdict v = at(4000);  // before the first look
  CHECK(v.error_look == 0);
  CHECK(v.judged_requests == 4000);
  o.prev_requests = v.judged_requests;
  v = at(5000);  // look 1 at exactly N_1
  CHECK(v.error_look == 1);
  CHECK(v.error_look_requests == 5000);
  CHECK(v.error_look_level == Approx(kHorizonLookShares[0] * o.alpha / 2));
  o.prev_requests = v.judged_requests;
  v = at(6000);  // look 1 does not fire again
  CHECK(v.error_look == 0);
  CHECK(v.error_look_p == 1);
  o.prev_requests = v.judged_requests;
  v = at(25000);  // a jump past looks 2 and 3: both tested now, at the sum of their levels
  CHECK(v.error_look == 3);
  CHECK(v.error_look_requests == 20000);
  CHECK(v.error_look_level == Approx((kHorizonLookShares[1] + kHorizonLookShares[2]) * o.alpha / 2));
  CHECK(v.error_look_p < 1);
  o.prev_requests = v.judged_requests;
  v = at(40000);  // past the horizon: only the mixture
  CHECK(v.error_look == 0);
  // Too few requests for the error test: no look consumed.
  o.prev_requests = 0;
  ArmStats b{4900, 49, {}}, c{100, 1, {}};
  auto few = Judge(b, c, o);
  REQUIRE(few.ok());
  CHECK(few->error_look == 0);
  CHECK(few->judged_requests == 0);
}

TEST_CASE("planned horizon: a +2 pp regression at 5 % is caught at the last look", "[rollout_judge]") {
  // 20 000 requests at 5 %: 19 000 baseline requests with 190 errors, 1 000
  // candidate requests with 21 errors (3 % would be 30). The always-valid
  // test alone does not abort; the planned look at H does.
  ArmStats b{19000, 190, {}}, c{1000, 21, {}};
  JudgeOptions o;
  auto old = Judge(b, c, o);
  REQUIRE(old.ok());
  CHECK(old->decision == JudgeDecision::kContinue);
  o.horizon_requests = 20000;
  o.prev_requests = 19500;
  auto v = Judge(b, c, o);
  REQUIRE(v.ok());
  CHECK(v->decision == JudgeDecision::kAbortErrors);
  CHECK(v->error_look == 3);
  CHECK(v->error_look_p <= v->error_look_level);
  CHECK(v->reason.find("planned look 3") != std::string::npos);
  // The same counts once the look has fired: no abort.
  o.prev_requests = 20000;
  CHECK(Judge(b, c, o)->decision == JudgeDecision::kContinue);
}

TEST_CASE("horizon 0 is the always-valid test alone", "[rollout_judge]") {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int64_t> u(0, 60);
  for (int i = 0; i < 200; ++i) {
    ArmStats b{20000, 150 + u(rng), {}}, c{1000, u(rng) / 2, {}};
    JudgeOptions o;
    o.prev_requests = i % 2 ? 0 : 7000;
    auto v = Judge(b, c, o);
    REQUIRE(v.ok());
    CHECK(v->error_look == 0);
    CHECK(v->error_log_threshold == Approx(std::log(2 / o.alpha)));
    CHECK((v->decision == JudgeDecision::kAbortErrors) == (v->error_log_e >= v->error_log_threshold));
  }
}

TEST_CASE("planned horizon: A/A rollouts polled often or rarely are not aborted", "[rollout_judge]") {
  // The bound is alpha = 1 % whatever the polling; with this seed none abort.
  for (int every : {100, 5000}) {
    std::mt19937_64 rng(26);
    int aborts = 0;
    for (int r = 0; r < 100; ++r) {
      ArmStats b, c;
      JudgeOptions o;
      o.horizon_requests = 20000;
      for (int n = every; n <= 40000; n += every) {
        int64_t nc = std::binomial_distribution<int64_t>(every, 0.05)(rng);
        c.requests += nc;
        b.requests += every - nc;
        c.errors += std::binomial_distribution<int64_t>(nc, 0.01)(rng);
        b.errors += std::binomial_distribution<int64_t>(every - nc, 0.01)(rng);
        auto v = Judge(b, c, o);
        REQUIRE(v.ok());
        o.prev_requests = v->judged_requests;
        if (v->decision != JudgeDecision::kContinue) {
          ++aborts;
          break;
        }
      }
    }
    CHECK(aborts == 0);
  }
}

TEST_CASE("planned horizon: bad options are rejected", "[rollout_judge]") {
  ArmStats ok{1000, 10, {}};
  JudgeOptions o;
  o.horizon_requests = -1;
  CHECK(Judge(ok, ok, o).status().code() == StatusCode::kInvalidArgument);
  o.horizon_requests = 20000;
  o.prev_requests = -5;
  CHECK(Judge(ok, ok, o).status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace modelreg
