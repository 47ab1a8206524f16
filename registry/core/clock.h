// Wall-clock time in milliseconds since the epoch (UTC).
#pragma once

#include <cstdint>

namespace modelreg {
int64_t NowMs();
}  // namespace modelreg
