// modelreg agents [--model M] | key export
#include <iomanip>

#include "common.h"

namespace modelreg::cli {

namespace {

// "12%" of the decision spool's bound, "84%!" when near it, "-" outside proxy mode.
std::string SpoolText(const nlohmann::json& a) {
  if (!a.contains("spool")) return "-";
  const auto& s = a["spool"];
  const double max = s.value("max_bytes", 0.0);
  if (max <= 0) return "-";
  char b[16];
  snprintf(b, sizeof b, "%.0f%%%s", 100.0 * s.value("pending_bytes", 0.0) / max, s.value("near_bound", false) ? "!" : "");
  return b;
}

}  // namespace

int CmdAgents(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--model"}), GlobalBoolFlags());
  args.ExpectPositional(0, 0);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  std::string path = "/api/v1/agents";
  if (auto m = args.Get("--model")) path += "?model=" + UrlComponent(*m);
  auto r = (*client)->GetJson(path);
  if (!r.ok()) return Fail(r.status());
  if (WantJson(args)) {
    PrintJson(*r);
    return kExitOk;
  }
  std::cout << std::left << std::setw(20) << "AGENT" << std::setw(16) << "HOST" << std::setw(14) << "MODEL"
            << std::setw(9) << "VERSION" << std::setw(18) << "STATE" << std::setw(12) << "HEARTBEAT"
            << std::setw(22) << "DIGEST" << std::setw(8) << "SPOOL" << "LAST ERROR\n";
  for (const auto& a : (*r)["agents"]) {
    char age[32];
    snprintf(age, sizeof age, "%.0fs ago", a.value("heartbeat_age_s", 0.0));
    std::cout << std::setw(20) << FieldText(a, "id") << std::setw(16) << FieldText(a, "host") << std::setw(14)
              << FieldText(a, "model") << std::setw(9) << JsonText(a["version"])
              // An agent that stopped reporting: its last state no longer counts.
              << std::setw(18) << (FieldText(a, "state") + (a.value("silent", false) ? " (silent)" : ""))
              << std::setw(12) << age << std::setw(22)
              << TerminalSafe(a.value("digest", "").substr(0, 19)) << std::setw(8) << SpoolText(a) << FieldText(a, "last_error")
              << "\n";
  }
  return kExitOk;
}

int CmdKey(const std::vector<std::string>& argv) {
  Args args(argv, GlobalValueFlags(), GlobalBoolFlags());
  if (args.Pos(0, "subcommand (export)") != "export") throw UsageError("unknown key subcommand");
  args.ExpectPositional(1, 1);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto r = (*client)->GetJson("/api/v1/keys");
  if (!r.ok()) return Fail(r.status());
  if (WantJson(args)) PrintJson(*r);
  else std::cout << TerminalSafe((*r)["keys"][0].value("pem", ""), true);
  return kExitOk;
}

}  // namespace modelreg::cli
