// The audit log's hash chain (docs/api.md): each event holds the sha256 of the
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
#include <string_view>

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

// A point of the log an auditor kept: the number of events then and the
// hash of the last one. The chain alone cannot show that events were cut
// from its end (what remains still links); a checkpoint kept outside the
// registry can.
struct AuditCheckpoint {
  int64_t count = 0;      // events in the log then (0: empty log)
  std::string head_hash;  // hash of event `count` (kAuditGenesisHash if 0)
  int64_t at_ms = 0;
};

// The DSSE payload type of a signed checkpoint, and its payload (JSON:
// {"count","head_hash","time"}).
inline constexpr char kAuditCheckpointPayloadType[] = "application/vnd.modelreg.audit-checkpoint.v1+json";
std::string SerializeAuditCheckpoint(const AuditCheckpoint& c);
// 64 lowercase hex digits.
bool IsAuditHash(std::string_view s);
// False (with *error set) if malformed.
bool ParseAuditCheckpoint(const std::string& json_text, AuditCheckpoint* out, std::string* error);

// The answer of an audit verification (RegistryService::VerifyAudit).
struct AuditVerifyResult {
  bool ok = true;
  uint64_t checked = 0;
  int64_t first_bad_seq = 0;
  std::string problem;
  std::string head_hash;
};

// Checks events fed in seq order. The first problem found is kept.
class AuditChainVerifier {
 public:
  // Also check the log against a checkpoint (call before the first Feed).
  void ExpectCheckpoint(AuditCheckpoint c) { checkpoint_ = std::move(c); }
  // Returns false once a break was found (further events are ignored).
  bool Feed(const AuditEvent& e);
  // Call after the last event: checks the checkpoint, if any.
  void Finish();
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
  std::optional<AuditCheckpoint> checkpoint_;
  bool checkpoint_matched_ = false;
};

}  // namespace modelreg
