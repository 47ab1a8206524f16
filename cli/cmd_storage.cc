// modelreg delete MODEL VERSION --reason TEXT | retention set|show MODEL |
// gc [--dry-run] [--grace SECONDS] [--no-retention] (docs/cli.md;
// docs/operations.md "Retention and garbage collection").
#include "common.h"
#include "core/clock.h"
#include "core/flag_values.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

std::string RuleText(const json& j, const char* key, const char* unit) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "keep all";
  return std::to_string(it->get<int64_t>()) + unit;
}

}  // namespace

// What a gc answer says, as text (also `admin gc --data`).
void PrintGcReport(const json& r) {
  const bool dry = r.value("dry_run", false);
  for (const auto& v : r.value("deleted_by_retention", json::array()))
    std::cout << (dry ? "would delete " : "deleted ") << TerminalSafe(v.value("model", "")) << " version "
              << v.value("version", 0) << " ("
              << TerminalSafe(v.contains("deleted") ? v["deleted"].value("reason", "") : std::string()) << ")\n";
  if (dry)
    for (const auto& b : r.value("removed", json::array()))
      std::cout << "would remove " << TerminalSafe(b.value("digest", "")) << " ("
                << HumanBytes(b.value("bytes", uint64_t{0})) << ")\n";
  std::cout << (dry ? "dry run: would remove " : "removed ") << r.value("blobs_removed", 0) << " blobs ("
            << HumanBytes(r.value("bytes_removed", uint64_t{0})) << ") of " << r.value("blobs_scanned", 0)
            << " stored; kept " << r.value("blobs_young", 0) << " unreferenced blobs ("
            << HumanBytes(r.value("bytes_young", uint64_t{0})) << ") younger than the grace period of "
            << r.value("grace_seconds", 0) << " s";
  if (r.value("blobs_in_use", 0) > 0) std::cout << ", " << r.value("blobs_in_use", 0) << " referenced meanwhile";
  std::cout << "\n";
}

int CmdDelete(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--reason"}), GlobalBoolFlags());
  args.ExpectPositional(2, 2);
  auto reason = args.Get("--reason");
  if (!reason || reason->empty()) throw UsageError("--reason TEXT is required");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto v = (*client)->DeleteVersion(args.Pos(0, "MODEL"), args.Pos(1, "VERSION"), *reason, &raw);
  if (!v.ok()) return Fail(v.status());
  if (WantJson(args)) PrintJson(raw);
  else
    std::cout << "deleted " << TerminalSafe(v->model) << " version " << v->number
              << " (its files go at the next `modelreg gc`; its record, lineage and history stay)\n";
  return kExitOk;
}

int CmdRetention(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--keep-archived", "--keep-rejected-days"}), GlobalBoolFlags());
  const std::string& sub = args.Pos(0, "subcommand (set, show)");
  if (sub != "set" && sub != "show") throw UsageError("unknown retention subcommand '" + sub + "'");
  args.ExpectPositional(2, 2);
  const std::string& model = args.Pos(1, "MODEL");
  json rule = {{"keep_archived", nullptr}, {"keep_rejected_days", nullptr}};
  if (sub == "set") {
    if (auto n = args.Get("--keep-archived"))
      rule["keep_archived"] = OrUsageError(ParseCountFlag(*n, "--keep-archived", 0, 1000000));
    if (auto d = args.Get("--keep-rejected-days"))
      rule["keep_rejected_days"] = OrUsageError(ParseCountFlag(*d, "--keep-rejected-days", 0, 36500));
  } else if (args.Has("--keep-archived") || args.Has("--keep-rejected-days")) {
    throw UsageError("--keep-archived and --keep-rejected-days are for `retention set`");
  }
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto r = sub == "set" ? (*client)->SetRetention(model, rule) : (*client)->Retention(model);
  if (!r.ok()) return Fail(r.status());
  if (WantJson(args)) {
    PrintJson(*r);
    return kExitOk;
  }
  std::cout << "retention of " << TerminalSafe(model) << ":\n"
            << "  archived versions:  " << RuleText(*r, "keep_archived", " newest kept") << "\n"
            << "  rejected versions:  " << RuleText(*r, "keep_rejected_days", " days kept") << "\n";
  if (r->contains("updated_by"))
    std::cout << "  set by " << TerminalSafe(r->value("updated_by", "")) << " at "
              << TerminalSafe(r->value("updated_at", "")) << "\n";
  std::cout << "  (applied by `modelreg gc`)\n";
  return kExitOk;
}

int CmdGc(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--grace"}), Merge(GlobalBoolFlags(), {"--dry-run", "--no-retention"}));
  args.ExpectPositional(0, 0);
  json opts = {{"dry_run", args.Has("--dry-run")}, {"retention", !args.Has("--no-retention")}};
  if (auto g = args.Get("--grace"))
    opts["grace_seconds"] = OrUsageError(ParseCountFlag(*g, "--grace", 0, 3650ll * 86400));
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto r = (*client)->CollectGarbage(opts);
  if (!r.ok()) return Fail(r.status());
  if (WantJson(args)) PrintJson(*r);
  else PrintGcReport(*r);
  return kExitOk;
}

}  // namespace modelreg::cli
