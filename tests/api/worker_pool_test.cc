// WorkerPool on its own: the server's thread pool, which reclaims idle
// keep-alive connections when a new one waits with every worker taken.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/connections.h"

namespace modelreg::api {
namespace {

using Clock = std::chrono::steady_clock;

// Stand-ins for connections: a kept-alive one holds its worker until the
// pool reclaims it, as an idle connection does until it is shut; a short
// one ends at once.
struct Connections {
  std::mutex mu;
  std::condition_variable cv;
  size_t held = 0, to_close = 0;
  std::atomic<size_t> started{0};

  void Reclaim(size_t waiting) {
    std::lock_guard<std::mutex> l(mu);
    to_close = std::min(held, to_close + waiting);
    cv.notify_all();
  }
  void KeptAlive() {
    ++started;
    std::unique_lock<std::mutex> l(mu);
    ++held;
    cv.wait(l, [&] { return to_close > 0; });
    --to_close;
    --held;
  }
  void Short() { ++started; }
  void CloseAll() {
    std::lock_guard<std::mutex> l(mu);
    to_close = held;
    cv.notify_all();
  }
};

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

}  // namespace

TEST_CASE("worker pool: connections waiting on a full pool get workers from idle kept-alive ones") {
  Connections c;
  std::atomic<size_t> asked{0}, max_asked{0};
  size_t enqueued = 0;
  WorkerPool pool(2, [&](size_t waiting) {
    ++asked;
    max_asked = std::max<size_t>(max_asked, waiting);
    c.Reclaim(waiting);
  });
  SECTION("one waits: one idle connection is closed for it") {
    for (int i = 0; i < 2; ++i) pool.enqueue([&] { c.KeptAlive(); });
    REQUIRE(WaitFor([&] { return c.started == 2; }, std::chrono::seconds(3)));
    CHECK(asked == 0);  // not full until someone waits
    pool.enqueue([&] { c.Short(); });
    REQUIRE(WaitFor([&] { return c.started == 3; }, std::chrono::seconds(3)));
    CHECK(max_asked == 1);  // not both idle connections
  }
  SECTION("bursts, while workers pass from one connection to the next") {
    // Workers pass between connections as new ones queue. A race lived
    // there: a connection queued while a worker was between two; the
    // worker then took an older queued one, which filled the pool with the
    // new one still waiting, and nothing woke the watcher until another
    // connection came (none came when every client kept its connection).
    // Its window is too narrow to hit on purpose: this checks that bursts
    // are served; the fix is that taking a connection wakes the watcher too.
    for (int round = 0; round < 8; ++round) {
      for (int i = 0; i < 3; ++i) {
        pool.enqueue([&] { c.Short(); });
        pool.enqueue([&] { c.KeptAlive(); });
        enqueued += 2;
      }
      INFO("round " << round << ": " << c.started << " of " << enqueued << " connections got a worker");
      REQUIRE(WaitFor([&] { return c.started == enqueued; }, std::chrono::seconds(3)));
    }
    CHECK(max_asked <= 6);
  }
  c.CloseAll();
  pool.shutdown();
}

}  // namespace modelreg::api
