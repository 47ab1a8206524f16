// core/cpu_yield.h: bulk loops give the CPU away once per quantum of running.
#include "core/cpu_yield.h"

#include <catch2/catch.hpp>
#include <chrono>

namespace modelreg {
namespace {

void SpinFor(std::chrono::microseconds d, CpuYield& y) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) y.Tick();
}

TEST_CASE("CpuYield yields once a quantum has run and not before", "[core][cpu_yield]") {
  // A quantum longer than the loop: never yields (the check is on the clock,
  // so this holds on a slow or loaded machine too).
  CpuYield never(std::chrono::microseconds(60'000'000));
  SpinFor(std::chrono::microseconds(20'000), never);
  CHECK(never.yields() == 0);
  // 20 ms of ticks with a 100 us quantum: at least a few yields however
  // the machine schedules us (each yield restarts the quantum; at most one
  // per quantum of wall time).
  CpuYield often;
  SpinFor(std::chrono::microseconds(20'000), often);
  CHECK(often.yields() >= 5);
  CHECK(often.yields() <= 200);
}

}  // namespace
}  // namespace modelreg
