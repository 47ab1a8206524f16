// modelreg promote | approve | reject | archive | rollback | policy | history
#include "common.h"
#include "core/clock.h"
#include "core/flag_values.h"
#include "table.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

// Prints the registry's answer with --json, else `print`'s text; a refusal
// of a stage change exits 4 (FailStageChange).
template <typename T, typename F>
int Report(const Args& args, const Result<T>& r, const json& raw, F print) {
  if (!r.ok()) return FailStageChange(r.status());
  if (WantJson(args)) PrintJson(raw);
  else print(*r);
  return kExitOk;
}

}  // namespace

int CmdPromote(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--to", "--reason", "--override"}), GlobalBoolFlags());
  args.ExpectPositional(2, 2);
  auto to = args.Get("--to");
  if (!to) throw UsageError("--to staging|production is required");
  if (*to != "staging" && *to != "production")
    throw UsageError("--to '" + TerminalSafe(*to) + "': want staging or production");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto r = (*client)->Stage(args.Pos(0, "MODEL"), args.Pos(1, "VERSION"), *to, args.GetOr("--reason", ""),
                            args.GetOr("--override", ""), &raw);
  return Report(args, r, raw, [&](const StageOutcome& o) {
    std::cout << TerminalSafe(o.version.model) << " version " << o.version.number << " is now "
              << TerminalSafe(o.version.stage);
    if (o.replaced) std::cout << " (version " << o.replaced->number << " archived)";
    std::cout << "\n";
    for (const auto& g : o.overridden_gates) std::cout << "  overridden: " << TerminalSafe(g) << "\n";
  });
}

int CmdApprove(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--comment"}), GlobalBoolFlags());
  args.ExpectPositional(2, 2);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto r = (*client)->Approve(args.Pos(0, "MODEL"), args.Pos(1, "VERSION"), args.GetOr("--comment", ""), &raw);
  return Report(args, r, raw, [&](const ApproveOutcome& o) {
    std::string who;
    for (const auto& a : o.version.approvals) who += (who.empty() ? "" : ", ") + TerminalSafe(a.approver);
    std::cout << (o.added ? "approved " : "already approved ") << TerminalSafe(o.version.record.model) << " version "
              << o.version.record.number << " (approvals: " << who << ")\n";
  });
}

int CmdReject(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--reason"}), GlobalBoolFlags());
  args.ExpectPositional(2, 2);
  auto reason = args.Get("--reason");
  if (!reason || reason->empty()) throw UsageError("--reason TEXT is required");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto r = (*client)->Reject(args.Pos(0, "MODEL"), args.Pos(1, "VERSION"), *reason, &raw);
  return Report(args, r, raw, [&](const StageOutcome& o) {
    std::cout << "rejected " << TerminalSafe(o.version.model) << " version " << o.version.number << "\n";
  });
}

int CmdArchive(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--reason"}), GlobalBoolFlags());
  args.ExpectPositional(2, 2);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto r = (*client)->Archive(args.Pos(0, "MODEL"), args.Pos(1, "VERSION"), args.GetOr("--reason", ""), &raw);
  return Report(args, r, raw, [&](const StageOutcome& o) {
    std::cout << "archived " << TerminalSafe(o.version.model) << " version " << o.version.number << "\n";
  });
}

int CmdRollback(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--reason"}), GlobalBoolFlags());
  args.ExpectPositional(1, 1);
  auto reason = args.Get("--reason");
  if (!reason || reason->empty()) throw UsageError("--reason TEXT is required");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto r = (*client)->Rollback(args.Pos(0, "MODEL"), *reason, &raw);
  return Report(args, r, raw, [&](const RollbackOutcome& o) {
    std::cout << "rolled back " << TerminalSafe(o.restored.model) << ": version " << o.restored.number
              << " is production again (version " << o.demoted.number << " archived)\n";
  });
}

namespace {
std::string Decimal(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

int CmdPolicy(const std::vector<std::string>& argv) {
  Args args(
      argv,
      Merge(GlobalValueFlags(), {"--approvals", "--gate", "--drift-alpha", "--drift-min-psi", "--max-violation-rate"}),
      Merge(GlobalBoolFlags(), {"--require-clean-code", "--require-data-digests"}));
  const std::string& sub = args.Pos(0, "subcommand (set, show)");
  args.ExpectPositional(2, 2);
  const std::string& model = args.Pos(1, "MODEL");
  if (sub != "set" && sub != "show") throw UsageError("unknown policy subcommand '" + sub + "'");
  Policy want;
  if (sub == "set") {
    for (const auto& g : args.GetAll("--gate"))
      want.gates.push_back(Gate{g, "", std::nullopt});  // the registry parses it
    want.require_clean_code = args.Has("--require-clean-code");
    want.require_data_digests = args.Has("--require-data-digests");
    if (auto a = args.Get("--approvals")) {
      char* end = nullptr;
      long n = std::strtol(a->c_str(), &end, 10);
      if (a->empty() || *end || n < 0 || n > 1000) throw UsageError("--approvals wants a number from 0 to 1000");
      want.approvals_required = static_cast<int>(n);
    }
    // Monitoring (docs/monitoring.md); the registry checks the ranges too.
    auto number = [&](const char* flag, double lo, double hi) -> std::optional<double> {
      auto v = args.Get(flag);
      if (!v) return std::nullopt;
      auto x = ParseFiniteDecimal(*v);
      if (!x || *x < lo || *x > hi)
        throw UsageError(std::string(flag) + " wants a number from " + Decimal(lo) + " to " + Decimal(hi));
      return *x;
    };
    if (auto a = number("--drift-alpha", 1e-12, 0.5)) want.drift_alpha = *a;
    if (auto m = number("--drift-min-psi", 0, 1e6)) want.drift_min_psi = *m;
    want.max_violation_rate = number("--max-violation-rate", 0, 1);
  }
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto r = sub == "set" ? (*client)->SetPolicy(model, want, &raw) : (*client)->GetPolicy(model, &raw);
  return Report(args, r, raw, [&](const Policy& p) {
    std::cout << "policy of " << TerminalSafe(model) << ":\n"
              << "  approvals required:   " << p.approvals_required << "\n"
              << "  require clean code:   " << (p.require_clean_code ? "yes" : "no") << "\n"
              << "  require data digests: " << (p.require_data_digests ? "yes" : "no") << "\n";
    std::cout << "  drift alpha:          " << Decimal(p.drift_alpha) << "\n"
              << "  drift min PSI:        " << Decimal(p.drift_min_psi) << "\n"
              << "  max violation rate:   "
              << (p.max_violation_rate ? Decimal(*p.max_violation_rate) : std::string("none")) << "\n";
    for (const auto& g : p.gates)
      std::cout << "  gate:                 " << TerminalSafe(g.op.empty() ? g.metric : g.ToString()) << "\n";
  });
}

int CmdHistory(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"-o", "--output"}), GlobalBoolFlags());
  args.ExpectPositional(1, 1);
  const OutputFormat format = OutputFormatOf(args, false);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto r = (*client)->History(args.Pos(0, "MODEL"), &raw);
  if (!r.ok()) return Fail(r.status());
  if (PrintStructured(format, raw)) return kExitOk;
  Table t;
  t.Column("TIME").Column("VERSION").Column("CHANGE").Column("KIND").Column("BY", 16).Column("REASON");
  for (const auto& h : *r)
    t.Row({FormatIsoTime(h.at_ms), std::to_string(h.version), TerminalSafe(h.from_stage + " -> " + h.to_stage),
           TerminalSafe(h.kind), TerminalSafe(h.actor), TerminalSafe(h.reason)});
  t.Print(std::cout, format == OutputFormat::kWide);
  return kExitOk;
}

}  // namespace modelreg::cli
