// Who may do what (docs/roles.md): one table from role to actions, and model-name
// scopes. The API and the service consult only this file, and the
// authorization tests iterate the same table. Pure, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/glob.h"
#include "core/records.h"
#include "core/status.h"

namespace modelreg {

enum class Action {
  kReadModels,      // list models, versions, manifests, download blobs
  kRegister,        // create models, upload blobs, register versions
  kStageOwn,        // move one's own version to staging
  kApprove,         // approve, reject, promote, rollback, archive
  kReadRelease,     // read releases (agents)
  kReportAgent,     // report agent state, send decisions
  kReadAudit,       // audit log and lineage queries
  kManageTokens,    // create, list, revoke tokens
  kManagePolicies,  // set policy gates
  kOverride,        // override failing gates
  kManageWebhooks,  // create, list, test, delete webhooks and read their deliveries
  kManageStorage,   // delete versions, set retention, run garbage collection
};

const char* ActionName(Action a);
bool RoleAllows(Role role, Action action);
// Every action, for tests and docs.
const std::vector<Action>& AllActions();

// An authenticated caller.
struct Principal {
  std::string name;  // token name, recorded as the actor
  Role role = Role::kAuditor;
  std::vector<std::string> model_globs;  // empty: every model

  bool scoped() const { return !model_globs.empty(); }
  bool CanSeeModel(const std::string& model) const;
};

// PermissionDenied naming the role and action (and model) if not allowed.
Status Authorize(const Principal& p, Action action);
Status Authorize(const Principal& p, Action action, const std::string& model);

// A model glob as a token's scope or a webhook's filter may hold: 1 to 128
// characters of the model-name alphabet and glob characters. Matched with
// GlobMatch (core/glob.h).
Status ValidateGlob(const std::string& glob);

}  // namespace modelreg
