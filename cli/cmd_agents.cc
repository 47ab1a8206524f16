// modelreg agents [--model M] | key export
#include "common.h"
#include "table.h"

namespace modelreg::cli {

namespace {

// "12%" of the decision spool's bound, "84%!" when near it, "-" outside proxy mode.
std::string SpoolText(const AgentInfo& a) {
  if (a.spool_max_bytes <= 0) return "-";
  char b[16];
  snprintf(b, sizeof b, "%.0f%%%s",
           100.0 * static_cast<double>(a.spool_pending_bytes) / static_cast<double>(a.spool_max_bytes),
           a.SpoolNearBound() ? "!" : "");
  return b;
}

}  // namespace

int CmdAgents(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--model", "-o", "--output"}), GlobalBoolFlags());
  args.ExpectPositional(0, 0);
  const OutputFormat format = OutputFormatOf(args, true);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  nlohmann::json raw;
  auto agents = (*client)->Agents(args.GetOr("--model", ""), &raw);
  if (!agents.ok()) return Fail(agents.status());
  if (PrintStructured(format, raw)) return kExitOk;
  if (format == OutputFormat::kName) {
    for (const auto& a : *agents) std::cout << TerminalSafe(a.info.id) << "\n";
    return kExitOk;
  }
  const bool wide = format == OutputFormat::kWide;
  Table t;
  t.Column("AGENT", 20)
      .Column("HOST", 16)
      .Column("MODEL", 16)
      .Column("VERSION")
      .Column("STATE")
      .Column("HEARTBEAT")
      .Column("DIGEST")
      .Column("SPOOL")
      .Column("LAST ERROR");
  for (const auto& a : *agents) {
    char age[32];
    snprintf(age, sizeof age, "%.0fs ago", a.heartbeat_age_s);
    t.Row({TerminalSafe(a.info.id), TerminalSafe(a.info.host), TerminalSafe(a.info.model),
           a.info.version ? std::to_string(*a.info.version) : "-",
           // An agent that stopped reporting: its last state no longer counts.
           TerminalSafe(a.info.state) + (a.silent ? " (silent)" : ""), age,
           TerminalSafe(wide ? a.info.digest : ShortDigest(a.info.digest)), SpoolText(a.info),
           TerminalSafe(a.info.last_error)});
  }
  t.Print(std::cout, wide);
  return kExitOk;
}

int CmdKey(const std::vector<std::string>& argv) {
  Args args(argv, GlobalValueFlags(), GlobalBoolFlags());
  if (args.Pos(0, "subcommand (export)") != "export") throw UsageError("unknown key subcommand");
  args.ExpectPositional(1, 1);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  nlohmann::json raw;
  auto keys = (*client)->KeysPem(&raw);
  if (!keys.ok()) return Fail(keys.status());
  if (keys->empty()) return Fail(Status::NotFound("the registry serves no signing key"));
  if (WantJson(args)) PrintJson(raw);
  else std::cout << TerminalSafe(keys->front(), true);
  return kExitOk;
}

}  // namespace modelreg::cli
