#include "core/audit_chain.h"

#include "core/digest.h"

namespace modelreg {

const char kAuditGenesisHash[] = "0000000000000000000000000000000000000000000000000000000000000000";

namespace {
void Field(std::string* out, const std::string& s) {
  *out += std::to_string(s.size());
  *out += ':';
  *out += s;
  *out += ';';
}
}  // namespace

std::string ComputeAuditHash(const AuditEvent& e) {
  std::string b;
  b.reserve(160 + e.details.size() + e.actor.size() + e.model.size());
  b += "modelreg-audit-v1;";
  Field(&b, std::to_string(e.seq));
  Field(&b, std::to_string(e.at_ms));
  Field(&b, e.actor);
  Field(&b, e.action);
  Field(&b, e.model);
  Field(&b, e.version ? std::to_string(*e.version) : "");
  Field(&b, e.details);
  Field(&b, e.prev_hash);
  return Digest::Of(b).hex();
}

bool AuditChainVerifier::Feed(const AuditEvent& e) {
  if (first_bad_seq_ != 0) return false;
  ++checked_;
  auto fail = [&](int64_t seq, std::string why) {
    first_bad_seq_ = seq;
    problem_ = std::move(why);
    return false;
  };
  if (e.seq != expected_seq_)
    return fail(expected_seq_, "event " + std::to_string(expected_seq_) + " is missing (next is " +
                                   std::to_string(e.seq) + ")");
  if (e.prev_hash != last_hash_)
    return fail(e.seq, "event " + std::to_string(e.seq) +
                           " does not link to the previous event (prev_hash differs)");
  if (ComputeAuditHash(e) != e.hash)
    return fail(e.seq, "event " + std::to_string(e.seq) + " was altered (its hash does not match its content)");
  last_hash_ = e.hash;
  ++expected_seq_;
  return true;
}

}  // namespace modelreg
