#include "support/wait.h"

#include <thread>

namespace modelreg::testing {

bool WaitFor(const std::function<bool()>& cond, double seconds, std::chrono::milliseconds poll) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(poll);
  }
  return cond();
}

}  // namespace modelreg::testing
