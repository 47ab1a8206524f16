// Waiting in tests for a condition that another thread or process brings
// about: poll it, never sleep a fixed time (the machine may be loaded).
#pragma once

#include <chrono>
#include <functional>

namespace modelreg::testing {

// Polls `cond` every `poll` until it holds or `seconds` pass, with a last
// look at the deadline; returns whether it held. The deadline only matters
// when a test fails: make it generous.
bool WaitFor(const std::function<bool()>& cond, double seconds = 30,
             std::chrono::milliseconds poll = std::chrono::milliseconds(2));

}  // namespace modelreg::testing
