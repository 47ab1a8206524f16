// RegistryService::WatchRelease (long polls, docs/agent.md) against the real
// service on real SQLite: a watch fires once when its release moves, a
// cancelled one never, and StopWaiting fires every watch left.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <thread>

#include "support/service_registry.h"
#include "support/wait.h"

namespace modelreg {
namespace {

struct Registry : testing::ServiceRegistry {
  int64_t Seq() {
    auto s = svc->GetReleaseSeq(agent, "churn", "production");
    REQUIRE(s.ok());
    return *s;
  }
};

using testing::WaitFor;

}  // namespace

TEST_CASE("WatchRelease: fires once when the release moves, never when cancelled, and at StopWaiting") {
  Registry r;
  r.Register(1);
  r.Register(2);
  r.Promote(1);
  const int64_t seq = r.Seq();
  // Not current any more: nothing is watched.
  auto stale = r.svc->WatchRelease(r.agent, "churn", "production", seq - 1, [] { FAIL("a stale watch fired"); });
  REQUIRE(stale.ok());
  CHECK(*stale == 0);
  // A stage without releases is refused, as the poll is.
  CHECK_FALSE(r.svc->WatchRelease(r.agent, "churn", "archived", seq, [] {}).ok());

  std::atomic<int> fired{0}, cancelled_fired{0}, left{0};
  auto id = r.svc->WatchRelease(r.agent, "churn", "production", seq, [&] { ++fired; });
  auto cancelled = r.svc->WatchRelease(r.agent, "churn", "production", seq, [&] { ++cancelled_fired; });
  REQUIRE(id.ok());
  REQUIRE(cancelled.ok());
  CHECK(*id != 0);
  r.svc->CancelReleaseWatch(*cancelled);
  r.Promote(2);
  REQUIRE(WaitFor([&] { return fired == 1; }));

  auto waiting = r.svc->WatchRelease(r.agent, "churn", "production", r.Seq(), [&] { ++left; });
  REQUIRE(waiting.ok());
  CHECK(*waiting != 0);
  r.svc->StopWaiting();
  CHECK(left == 1);
  auto after = r.svc->WatchRelease(r.agent, "churn", "production", r.Seq(), [&] { ++left; });
  REQUIRE(after.ok());
  CHECK(*after == 0);
  CHECK(fired == 1);
  CHECK(cancelled_fired == 0);
  CHECK(left == 1);
}

}  // namespace modelreg
