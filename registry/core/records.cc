#include "core/records.h"

namespace modelreg {
namespace {
constexpr struct {
  Role role;
  const char* name;
} kRoles[] = {{Role::kAdmin, "admin"},
              {Role::kTrainer, "trainer"},
              {Role::kApprover, "approver"},
              {Role::kAgent, "agent"},
              {Role::kAuditor, "auditor"}};
}  // namespace

const char* RoleName(Role r) {
  for (const auto& x : kRoles)
    if (x.role == r) return x.name;
  return "unknown";
}

Result<Role> ParseRole(const std::string& s) {
  for (const auto& x : kRoles)
    if (s == x.name) return x.role;
  return Status::InvalidArgument("unknown role '" + s + "': want admin, trainer, approver, agent or auditor");
}

}  // namespace modelreg
