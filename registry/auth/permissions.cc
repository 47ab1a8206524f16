#include "auth/permissions.h"

namespace modelreg {
namespace {

struct Rule {
  Action action;
  const char* name;
  std::vector<Role> roles;  // admin is implied
};

const std::vector<Rule>& Rules() {
  using R = Role;
  static const std::vector<Rule> k = {
      {Action::kReadModels, "read-models", {R::kTrainer, R::kApprover, R::kAgent, R::kAuditor}},
      {Action::kRegister, "register", {R::kTrainer}},
      {Action::kStageOwn, "stage-own", {R::kTrainer}},
      {Action::kApprove, "approve", {R::kApprover}},
      {Action::kReadRelease, "read-release", {R::kAgent, R::kApprover, R::kAuditor}},
      {Action::kReportAgent, "report-agent", {R::kAgent}},
      {Action::kReadAudit, "read-audit", {R::kAuditor}},
      {Action::kManageTokens, "manage-tokens", {}},
      {Action::kManagePolicies, "manage-policies", {}},
      {Action::kOverride, "override", {}},
      {Action::kManageWebhooks, "manage-webhooks", {}},
      {Action::kManageStorage, "manage-storage", {}},
  };
  return k;
}

}  // namespace

const char* ActionName(Action a) {
  for (const auto& r : Rules())
    if (r.action == a) return r.name;
  return "unknown";
}

const std::vector<Action>& AllActions() {
  static const std::vector<Action> k = [] {
    std::vector<Action> v;
    for (const auto& r : Rules()) v.push_back(r.action);
    return v;
  }();
  return k;
}

bool RoleAllows(Role role, Action action) {
  if (role == Role::kAdmin) return true;
  for (const auto& r : Rules())
    if (r.action == action)
      for (Role x : r.roles)
        if (x == role) return true;
  return false;
}

Status ValidateGlob(const std::string& glob) {
  if (glob.empty() || glob.size() > 128) return Status::InvalidArgument("model glob must be 1 to 128 characters");
  for (char c : glob) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '*' ||
              c == '?' || c == '[' || c == ']' || c == '!';
    if (!ok) return Status::InvalidArgument("model glob '" + glob + "' has a character outside [a-z0-9._-*?[]!]");
  }
  return Status::OK();
}

bool Principal::CanSeeModel(const std::string& model) const {
  if (model_globs.empty()) return true;
  for (const auto& g : model_globs)
    if (GlobMatch(g, model)) return true;
  return false;
}

Status Authorize(const Principal& p, Action action) {
  if (!RoleAllows(p.role, action))
    return Status::PermissionDenied("token '" + p.name + "' (role " + RoleName(p.role) + ") may not " +
                                    ActionName(action));
  return Status::OK();
}

Status Authorize(const Principal& p, Action action, const std::string& model) {
  MR_RETURN_IF_ERROR(Authorize(p, action));
  if (!p.CanSeeModel(model))
    return Status::PermissionDenied("token '" + p.name + "' is limited to models other than '" + model + "'");
  return Status::OK();
}

}  // namespace modelreg
