// core/traffic_split.h: the same key lands on the same arm everywhere,
// buckets are uniform, raising the weight only moves keys to the
// candidate, and traffic shares are parsed strictly.
#include "core/traffic_split.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace modelreg;

TEST_CASE("TrafficBucket: SHA-256 of salt, NUL, key, first 8 bytes mod 10 000") {
  // Computed independently: python3 -c "import hashlib; d=hashlib.sha256(b'r1\0user-42').digest();
  // print(int.from_bytes(d[:8],'big') % 10000)"
  CHECK(TrafficBucket("r1", "user-42") == 3988);
  CHECK(TrafficBucket("salt", "") == 7940);
  // The separator keeps salt and key apart: "ab"+"c" is not "a"+"bc".
  CHECK(TrafficBucket("ab", "c") != TrafficBucket("a", "bc"));
  CHECK(TrafficBucket("r1", "user-42") == TrafficBucket("r1", "user-42"));
}

TEST_CASE("TrafficBucket spreads keys uniformly, and another salt splits independently") {
  constexpr int kKeys = 100000;
  std::vector<int> deciles(10, 0);
  int both = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "req-" + std::to_string(i);
    const int b = TrafficBucket("rollout-7", key);
    REQUIRE(b >= 0);
    REQUIRE(b < kTrafficBuckets);
    ++deciles[b / 1000];
    both += ArmFor("rollout-7", key, 2000) == Arm::kCandidate && ArmFor("rollout-8", key, 2000) == Arm::kCandidate;
  }
  for (int n : deciles) {
    CHECK(n > kKeys / 10 * 0.95);
    CHECK(n < kKeys / 10 * 1.05);
  }
  // 20 % in each rollout, independent: about 4 % in both.
  CHECK(both > kKeys * 0.035);
  CHECK(both < kKeys * 0.045);
}

TEST_CASE("Raising the weight only moves keys from the baseline to the candidate") {
  const std::vector<int> steps = {0, 1, 500, 2500, 5000, 9999, 10000};
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "user-" + std::to_string(i);
    const int b = TrafficBucket("s", key);
    bool was_candidate = false;
    for (int w : steps) {
      const bool candidate = ArmForBucket(b, w) == Arm::kCandidate;
      if (was_candidate) REQUIRE(candidate);
      was_candidate = candidate;
    }
    CHECK(ArmForBucket(b, 0) == Arm::kBaseline);
    CHECK(ArmForBucket(b, 10000) == Arm::kCandidate);
    CHECK(ArmForBucket(b, -5) == Arm::kBaseline);
    CHECK(ArmForBucket(b, 20000) == Arm::kCandidate);
  }
  CHECK(std::string(ArmName(Arm::kCandidate)) == "candidate");
}

TEST_CASE("ParseTrafficPercent: basis points from 0.01 to 100, two decimals at most") {
  CHECK(ParseTrafficPercent("5", "--canary").value() == 500);
  CHECK(ParseTrafficPercent("12.5", "--canary").value() == 1250);
  CHECK(ParseTrafficPercent("0.01", "--canary").value() == 1);
  CHECK(ParseTrafficPercent("100", "--canary").value() == 10000);
  CHECK(ParseTrafficPercent("25%", "--ab").value() == 2500);
  for (const char* bad :
       {"", "0", "0.00", "100.01", "101", "-5", "5.", ".5x", "1.234", "abc", "5%%", "1e2", "99999999999"}) {
    INFO(bad);
    auto r = ParseTrafficPercent(bad, "--canary");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("--canary") != std::string::npos);
  }
  CHECK(ParseTrafficPercent(".5", "--canary").value() == 50);
}
