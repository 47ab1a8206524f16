// Data access for the approval workflow: approvals, policies, stage changes.
// Call only inside Database::Transact.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/policy.h"
#include "core/records.h"
#include "store/database.h"

namespace modelreg::store {

struct StageChangeRow {
  int64_t id = 0;
  int64_t version = 0;  // version number
  std::string from_stage, to_stage, kind, actor, reason;
  int64_t at_ms = 0;
};

// Returns false if this approver had already approved the version.
bool InsertApproval(Tx& tx, int64_t version_id, const std::string& approver, const std::string& comment,
                    int64_t now_ms);
std::vector<ApprovalInfo> ListApprovals(Tx& tx, int64_t version_id);

// Every approval of one model's versions, by version number (one query).
std::map<int64_t, std::vector<ApprovalInfo>> ListModelApprovals(Tx& tx, int64_t model_id);

// The model's policy as stored, with who set it; nullopt when it has none
// (neither a policies row nor gates), and GetPolicy answers the default.
struct PolicyRow {
  Policy policy;
  std::string updated_by;  // empty when only gates are stored
};
std::optional<PolicyRow> FindPolicy(Tx& tx, int64_t model_id);
Policy GetPolicy(Tx& tx, int64_t model_id);
void SetPolicy(Tx& tx, int64_t model_id, const Policy& p, const std::string& actor, int64_t now_ms);

void SetVersionStage(Tx& tx, int64_t version_id, const std::string& stage);
std::optional<VersionRecord> FindProductionVersion(Tx& tx, const std::string& model);
std::optional<VersionRecord> FindVersionById(Tx& tx, int64_t version_id);
void InsertStageChange(Tx& tx, int64_t model_id, int64_t version_id, const std::string& from, const std::string& to,
                       const std::string& kind, const std::string& actor, const std::string& reason, int64_t now_ms);
std::vector<StageChangeRow> ListStageChanges(Tx& tx, int64_t model_id);
// Version ids in the order they entered production, with kind.
std::vector<std::pair<int64_t, std::string>> ProductionEntries(Tx& tx, int64_t model_id);

}  // namespace modelreg::store
