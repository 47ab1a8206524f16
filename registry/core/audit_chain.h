// The audit log's hash chain (SPEC §9): each event holds the sha256 of the
// previous event, and its own hash covers its fields and that link, so any
// changed, removed or reordered event breaks the chain from there on.
//
// The hashed bytes are a length-prefixed encoding of the fields, not JSON, so
// that they are unambiguous and cheap to recompute over millions of events.
// Pure, thread-safe (AuditChainVerifier: one per thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace modelreg {

struct AuditEvent {
  int64_t seq = 0;
  int64_t at_ms = 0;
  std::string actor;
  std::string action;  // "register", "promote", "approve", "token.create", ...
  std::string model;   // empty for non-model events
  std::optional<int64_t> version;
  std::string details;    // JSON object text
  std::string prev_hash;  // hex; kAuditGenesisHash for seq 1
  std::string hash;       // hex
};

// prev_hash of the first event.
extern const char kAuditGenesisHash[];

// Hex sha256 over the event's canonical bytes (every field but `hash`).
std::string ComputeAuditHash(const AuditEvent& e);

// Checks events fed in seq order. The first problem found is kept.
class AuditChainVerifier {
 public:
  // Returns false once a break was found (further events are ignored).
  bool Feed(const AuditEvent& e);
  bool ok() const { return first_bad_seq_ == 0; }
  int64_t first_bad_seq() const { return first_bad_seq_; }
  const std::string& problem() const { return problem_; }
  uint64_t checked() const { return checked_; }
  const std::string& last_hash() const { return last_hash_; }

 private:
  int64_t expected_seq_ = 1;
  std::string last_hash_ = kAuditGenesisHash;
  int64_t first_bad_seq_ = 0;
  std::string problem_;
  uint64_t checked_ = 0;
};

}  // namespace modelreg
