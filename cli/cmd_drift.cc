// modelreg drift MODEL [--version V] [--since TIME] [--agent ID] [--json]
// (docs/monitoring.md): the features of a model's monitored versions by
// drift in their newest window, with the alarm threshold at that window's
// size; --json: every feature-window object of GET /api/v1/models/{m}/drift.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "client/api_path.h"
#include "common.h"
#include "core/terminal_text.h"
#include "table.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

std::string Fixed(const json& v, int decimals) {
  if (!v.is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v.get<double>());
  return buf;
}

double Num(const json& j, const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0; }

// How far over (or under) its threshold a feature is: the sort key.
double Ratio(const json& w) {
  const double t = Num(w, "threshold");
  return t > 0 ? Num(w, "psi") / t : 0;
}

}  // namespace

int CmdDrift(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--version", "--since", "--agent"}), GlobalBoolFlags());
  args.ExpectPositional(1, 1);
  const std::string& model = args.Pos(0, "MODEL");
  std::vector<std::pair<std::string, std::string>> query;
  if (auto v = args.Get("--version")) query.emplace_back("version", *v);
  if (auto s = args.Get("--since")) query.emplace_back("since", *s);
  if (auto a = args.Get("--agent")) query.emplace_back("agent", *a);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto out = (*client)->GetJson(WithQuery(ApiPath({"models", model, "drift"}), query));
  if (!out.ok()) return Fail(out.status());
  const json windows = out->contains("windows") && (*out)["windows"].is_array() ? (*out)["windows"] : json::array();
  if (WantJson(args)) {
    PrintJson(windows);
    return kExitOk;
  }
  // The newest window of each (version, feature): later entries are newer.
  std::map<std::pair<int64_t, std::string>, json> latest;
  for (const auto& w : windows) {
    const auto key = std::make_pair(w.value("version", int64_t{0}), w.value("feature", std::string()));
    auto it = latest.find(key);
    if (it == latest.end() || Num(w, "start_ms") > Num(it->second, "start_ms") ||
        (Num(w, "start_ms") == Num(it->second, "start_ms") && Num(w, "n") > Num(it->second, "n")))
      latest[key] = w;
  }
  std::vector<json> rows;
  for (auto& [key, w] : latest)
    if (w.value("reference", false)) rows.push_back(w);
  std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) { return Ratio(a) > Ratio(b); });
  const json versions = out->contains("versions") && (*out)["versions"].is_array() ? (*out)["versions"] : json::array();
  for (const auto& v : versions)
    if (!v.value("reference", true))
      std::cout << "version " << v.value("version", int64_t{0}) << " of " << TerminalSafe(model)
                << ": no reference (registered without a profile; drift is not computed)\n";
  if (windows.empty()) {
    std::cout << "no monitoring windows for " << TerminalSafe(model) << (query.empty() ? "" : " matching the filters")
              << "\n";
    return kExitOk;
  }
  if (rows.empty()) return kExitOk;
  Table t;
  t.Column("VERSION")
      .Column("FEATURE", 32)
      .Column("PSI")
      .Column("JS")
      .Column("THRESHOLD")
      .Column("ALARM")
      .Column("N")
      .Column("MISSING")
      .Column("OUT OF RANGE")
      .Column("WINDOW");
  for (const auto& w : rows)
    t.Row({std::to_string(w.value("version", int64_t{0})), TerminalSafe(w.value("feature", std::string())),
           Fixed(w["psi"], 4), Fixed(w["js"], 4), Fixed(w["threshold"], 4), w.value("alarm", false) ? "ALARM" : "no",
           std::to_string(w.value("n", int64_t{0})), Fixed(w["missing_rate"], 3), Fixed(w["out_of_range_rate"], 3),
           TerminalSafe(w.value("start", std::string())) + " (" + TerminalSafe(w.value("agent", std::string())) + ")"});
  t.Print(std::cout, false);
  return kExitOk;
}

}  // namespace modelreg::cli
