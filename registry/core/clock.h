// Wall-clock time in milliseconds since the epoch (UTC).
//
// Every layer reads time through NowMs(), so an in-process test can craft a
// history at exact instants (promotions, agent reports, gaps) by fixing the
// clock with SetFakeNowForTesting. Thread-safe (an atomic).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace modelreg {
int64_t NowMs();
// Fixes NowMs() at `ms`; 0 returns to the real clock. Tests only.
void SetFakeNowForTesting(int64_t ms);

// "2026-11-23T18:00:00.123Z" (UTC, milliseconds).
std::string FormatIsoTime(int64_t ms);
// "2026-11-23T18:00:00Z", "2026-11-23T18:00:00.123Z", "2026-11-23 18:00",
// "2026-11-23" (UTC) or epoch milliseconds -> epoch milliseconds.
// InvalidArgument otherwise.
Result<int64_t> ParseTimeMs(const std::string& text);
}  // namespace modelreg
