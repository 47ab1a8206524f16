#include "core/stage.h"

#include <array>

namespace modelreg {
namespace {

struct StageInfo {
  Stage stage;
  const char* name;
};
constexpr std::array<StageInfo, 5> kStages = {{{Stage::kNone, "none"},
                                               {Stage::kStaging, "staging"},
                                               {Stage::kProduction, "production"},
                                               {Stage::kArchived, "archived"},
                                               {Stage::kRejected, "rejected"}}};

// Every move a direct request may make. Rejection is final; a version in
// production leaves it by archive (or by a newer promotion or a rollback,
// which archive it), never straight to rejected.
struct Transition {
  Stage from, to;
};
constexpr Transition kStageTransitions[] = {
    {Stage::kNone, Stage::kStaging},  {Stage::kArchived, Stage::kStaging}, {Stage::kStaging, Stage::kProduction},
    {Stage::kNone, Stage::kArchived}, {Stage::kStaging, Stage::kArchived}, {Stage::kProduction, Stage::kArchived},
    {Stage::kNone, Stage::kRejected}, {Stage::kStaging, Stage::kRejected}, {Stage::kArchived, Stage::kRejected},
};

}  // namespace

const char* StageName(Stage s) {
  for (const auto& i : kStages)
    if (i.stage == s) return i.name;
  return "none";
}

Result<Stage> ParseStage(std::string_view name) {
  for (const auto& i : kStages)
    if (name == i.name) return i.stage;
  return Status::InvalidArgument("unknown stage '" + std::string(name) + "'");
}

bool IsStage(std::string_view name) { return ParseStage(name).ok(); }

bool IsReleaseStage(Stage s) { return s == Stage::kStaging || s == Stage::kProduction; }

Status CheckStageTransition(Stage from, Stage to) {
  const std::string f = StageName(from), t = StageName(to);
  if (from == to)  // "already archived", "already in staging"
    return Status::FailedPrecondition("the version is already " +
                                      (to == Stage::kArchived || to == Stage::kRejected ? t : "in " + t));
  if (from == Stage::kRejected) return Status::FailedPrecondition("the version was rejected; rejection is final");
  for (const auto& tr : kStageTransitions)
    if (tr.from == from && tr.to == to) return Status::OK();
  std::string hint = to == Stage::kProduction ? " (promote it to staging first)"
                     : to == Stage::kRejected ? " (archive it or promote another version first)"
                                              : "";
  return Status::FailedPrecondition("cannot move a version from " + f + " to " + t + hint);
}

Status CheckStageTransition(const std::string& from, const std::string& to) {
  MR_ASSIGN_OR_RETURN(Stage t, ParseStage(to));
  MR_ASSIGN_OR_RETURN(Stage f, ParseStage(from));
  return CheckStageTransition(f, t);
}

std::vector<int64_t> ReplayProductionStack(const std::vector<std::pair<int64_t, std::string>>& entries) {
  std::vector<int64_t> stack;
  for (const auto& [version_id, kind] : entries) {
    if (kind == "rollback") {
      while (!stack.empty() && stack.back() != version_id) stack.pop_back();
      if (stack.empty()) stack.push_back(version_id);
    } else {
      stack.push_back(version_id);
    }
  }
  return stack;
}

}  // namespace modelreg
