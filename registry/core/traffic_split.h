// Sticky traffic split for rollouts (issue #26): which arm — the baseline
// or the candidate — answers a request. Every agent computes the same
// answer for the same key without talking to the others, and after a
// restart:
//
//   bucket = first 8 bytes of SHA-256(salt || 0x00 || key), big-endian,
//            modulo kTrafficBuckets (10 000)
//   arm    = candidate if bucket < weight (in basis points, 0..10 000)
//
// `key` is the request's routing key (the rollout's key header, else the
// request id); `salt` is the rollout's own, so two rollouts split traffic
// independently. Raising the weight only moves keys from the baseline to
// the candidate, never back (the buckets below the old weight stay below
// the new one). Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace modelreg {

inline constexpr int kTrafficBuckets = 10000;

enum class Arm { kBaseline, kCandidate };
const char* ArmName(Arm a);  // "baseline", "candidate"

// 0 .. kTrafficBuckets-1.
int TrafficBucket(std::string_view salt, std::string_view key);
// `weight_bp`: the candidate's share in basis points (clamped to 0..10 000).
Arm ArmForBucket(int bucket, int weight_bp);
inline Arm ArmFor(std::string_view salt, std::string_view key, int weight_bp) {
  return ArmForBucket(TrafficBucket(salt, key), weight_bp);
}

// A traffic share as given on the command line ("5", "12.5", "100",
// optionally with a trailing '%'): basis points, more than 0 and at most
// 10 000, at most two decimals. InvalidArgument naming `flag` otherwise.
Result<int> ParseTrafficPercent(std::string_view text, std::string_view flag);

}  // namespace modelreg
