// Data access for the audit log. Append is the only write; call it inside
// the same transaction as the change it records. Call only inside Transact.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/audit_chain.h"
#include "store/database.h"

namespace modelreg::store {

// Assigns seq, prev_hash and hash, and inserts. `e` is updated.
void AppendAudit(Tx& tx, AuditEvent* e);
// The log's length and last hash now (0 and the genesis hash when empty).
AuditCheckpoint AuditHead(Tx& tx);

struct AuditFilter {
  std::string model;               // empty: all
  std::optional<int64_t> version;  // with model: that version's events only
  std::optional<int64_t> since_ms;
  int64_t after_seq = 0;
  int64_t limit = 1000;
  // The last `limit` events that match (still returned oldest first)
  // instead of the first ones after `after_seq`.
  bool newest = false;
  std::string actor;                  // empty: all
  std::string action;                 // empty: all
  std::optional<int64_t> until_ms;    // events before this time only
  std::optional<int64_t> before_seq;  // events with a smaller seq only
};
std::vector<AuditEvent> ListAudit(Tx& tx, const AuditFilter& f);
// Every event in seq order, streamed to `fn` (return false to stop).
void ForEachAudit(Tx& tx, const std::function<bool(const AuditEvent&)>& fn);
// One model's events in seq order, streamed the same way.
void ForEachModelAudit(Tx& tx, const std::string& model, const std::function<bool(const AuditEvent&)>& fn);
// Model names the log has events about that have no row in models, sorted.
std::vector<std::string> AuditedModelsWithoutRow(Tx& tx);

}  // namespace modelreg::store
