// Results of the auditor's questions (docs/api.md): the lineage of a version,
// what a dataset or commit fed, what was live at a time, and everything
// behind one decision. Plain structs filled by RegistryService; the API
// encodes them (codec/json_codec.h), the CLI and client decode and render them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/lineage_record.h"
#include "core/records.h"
#include "core/version_diff_record.h"

namespace modelreg {

// Parent chains and fine-tune trees are walked at most this far.
inline constexpr int kMaxLineageHops = 64;

struct VersionRef {
  std::string model;
  int64_t version = 0;
  std::string digest;
  std::string stage;
};

// Upstream of a version: its lineage record, the chain of parents it was
// fine-tuned from, its direct fine-tunes, and the agents serving it now.
struct VersionLineage {
  VersionRecord version;
  LineageRecord record;
  std::vector<VersionRef> parents;   // nearest first
  std::string unresolved_parent;     // a parent digest not found (or not visible)
  bool parents_truncated = false;    // the chain is longer than kMaxLineageHops
  std::vector<VersionRef> children;  // versions naming this one as parent
  std::vector<AgentInfo> serving;    // agents whose current state names this digest
};

// Downstream of a dataset digest or a code commit (prefix).
struct DownstreamQuery {
  std::string dataset;  // sha256:...
  std::string commit;   // 7 to 40 lowercase hex
  int64_t offset = 0;
  int64_t limit = 100;
};

struct DownstreamEntry {
  VersionRecord version;
  int depth = 0;    // 0: trained on it directly; n: n fine-tunes away
  std::string via;  // "dataset NAME", "commit", or "parent sha256:..."
  std::vector<AgentInfo> serving;
};

struct DownstreamPage {
  std::vector<DownstreamEntry> entries;
  int64_t total = 0;  // after the token's model scope
  std::optional<int64_t> next_offset;
  bool truncated = false;  // more than kMaxDownstream matched
};

// One agent's state at a time, from its state history. A state counts from
// the report that began it until AgentSilenceLimitMs after the last report
// that confirmed it; past that the agent is in a gap: state "unknown".
struct AgentStateAt {
  std::string agent;
  std::string state;  // as reported, or "unknown" in a gap
  bool gap = false;
  std::optional<int64_t> version;
  std::string digest, error;
  int64_t since_ms = 0;                   // when the state began
  int64_t confirmed_until_ms = 0;         // the last report confirming it
  std::string last_state;                 // in a gap: the state it reported last
  std::optional<int64_t> heard_again_ms;  // in a gap: its next report, if any
};

struct LiveAt {
  std::string model;
  int64_t at_ms = 0;
  std::optional<VersionRef> production;  // the registry's production release then
  int64_t production_since_ms = 0;
  std::vector<AgentStateAt> agents;  // every agent that had reported by then
};

struct DecisionAudit {
  DecisionRecord decision;
  std::optional<VersionLineage> lineage;  // empty: the digest is no version of the model
  std::vector<ApprovalInfo> approvals;
  std::vector<StageChange> promotions;  // this version entering production
  std::optional<AgentStateAt> agent_at_time;
  std::optional<VersionRef> production_at_time;
};

struct VersionDiffResult {
  VersionRef from, to;
  VersionDiff diff;
};

}  // namespace modelreg
