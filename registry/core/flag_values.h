// Numbers, durations and sizes as the command line takes them (the CLI's
// and the agent's flags), parsed whole: "8x", or "1h" or "64M" where a
// bare number was read with atoi/atof/strtoull, used to pass as 8, 1 second
// or 64 bytes. Each refusal is InvalidArgument naming the flag and what to
// give. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/status.h"

namespace modelreg {

// A finite number as people write one: "0.91", "-3", "1e-4", ".5". No hex
// ("0x10"), no "inf"/"nan", no leading '+' or spaces, nothing after it.
// (strtod took all of those.) For metric values, gate thresholds, seconds.
std::optional<double> ParseFiniteDecimal(std::string_view text);

// A whole number in [min, max], decimal digits only.
Result<int64_t> ParseCountFlag(std::string_view text, std::string_view flag, int64_t min, int64_t max);

// Seconds: "30", "0.5", or a whole number with a unit: 45s, 30m, 12h, 90d.
// Refuses negative values, and 0 unless `zero_ok`.
Result<double> ParseSecondsFlag(std::string_view text, std::string_view flag, bool zero_ok = false);

// Bytes, > 0: "1048576", or a whole number with a unit: K, M, G, T (powers
// of 1024; KiB, MiB, GiB, TiB and KB, MB, GB, TB mean the same here).
Result<uint64_t> ParseBytesFlag(std::string_view text, std::string_view flag);

}  // namespace modelreg
