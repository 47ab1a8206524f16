#include "core/audit_chain.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/clock.h"
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
    return fail(expected_seq_,
                "event " + std::to_string(expected_seq_) + " is missing (next is " + std::to_string(e.seq) + ")");
  if (e.prev_hash != last_hash_)
    return fail(e.seq, "event " + std::to_string(e.seq) + " does not link to the previous event (prev_hash differs)");
  if (ComputeAuditHash(e) != e.hash)
    return fail(e.seq, "event " + std::to_string(e.seq) + " was altered (its hash does not match its content)");
  last_hash_ = e.hash;
  ++expected_seq_;
  if (checkpoint_ && e.seq == checkpoint_->count) {
    if (e.hash != checkpoint_->head_hash)
      return fail(e.seq, "event " + std::to_string(e.seq) + " is not the one the checkpoint of " +
                             FormatIsoTime(checkpoint_->at_ms) + " holds (its hash differs): the log was rewritten");
    checkpoint_matched_ = true;
  }
  return true;
}

void AuditChainVerifier::Finish() {
  if (first_bad_seq_ != 0 || !checkpoint_) return;
  if (checkpoint_->count == 0) {
    if (checkpoint_->head_hash != kAuditGenesisHash) {
      first_bad_seq_ = 1;
      problem_ = "the checkpoint of an empty log has a head other than the genesis hash";
    }
    return;
  }
  if (!checkpoint_matched_) {
    first_bad_seq_ = expected_seq_;
    problem_ = "the log ends at event " + std::to_string(expected_seq_ - 1) + " but the checkpoint of " +
               FormatIsoTime(checkpoint_->at_ms) + " holds " + std::to_string(checkpoint_->count) +
               " events: events were removed from its end";
  }
}

bool IsAuditHash(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); });
}

std::string SerializeAuditCheckpoint(const AuditCheckpoint& c) {
  nlohmann::json j = {{"count", c.count}, {"head_hash", c.head_hash}, {"time", FormatIsoTime(c.at_ms)}};
  return j.dump();
}

bool ParseAuditCheckpoint(const std::string& json_text, AuditCheckpoint* out, std::string* error) {
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  auto bad = [&](const std::string& why) {
    *error = "audit checkpoint: " + why;
    return false;
  };
  if (!j.is_object()) return bad("not a JSON object");
  if (!j.contains("count") || !j["count"].is_number_integer() || j["count"].get<int64_t>() < 0)
    return bad("count must be an integer >= 0");
  if (!j.contains("head_hash") || !j["head_hash"].is_string() || !IsAuditHash(j["head_hash"].get<std::string>()))
    return bad("head_hash must be 64 lowercase hex digits");
  out->count = j["count"].get<int64_t>();
  out->head_hash = j["head_hash"].get<std::string>();
  out->at_ms = 0;
  if (j.contains("time") && j["time"].is_string()) {
    auto t = ParseTimeMs(j["time"].get<std::string>());
    if (t.ok()) out->at_ms = *t;
  }
  return true;
}

}  // namespace modelreg
