// modelreg audit log | audit verify
#include <iomanip>
#include <regex>

#include "common.h"
#include "service/registry_service.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

// "2026-11-23T18:00:00Z", "2026-11-23T18:00:00.123Z", "2026-11-23" or epoch
// milliseconds -> epoch milliseconds.
Result<int64_t> ParseTime(const std::string& s) {
  static const std::regex kIso(R"(^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?Z?$)");
  std::smatch m;
  if (std::regex_match(s, m, kIso)) {
    struct tm tm = {};
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = std::stoi(m[2]) - 1;
    tm.tm_mday = std::stoi(m[3]);
    if (m[4].matched) tm.tm_hour = std::stoi(m[4]);
    if (m[5].matched) tm.tm_min = std::stoi(m[5]);
    if (m[6].matched) tm.tm_sec = std::stoi(m[6]);
    int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    if (m[7].matched) {
      std::string frac = m[7].str();
      while (frac.size() < 3) frac += '0';
      ms += std::stoi(frac);
    }
    return ms;
  }
  if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit)) return std::stoll(s);
  return Status::InvalidArgument("bad time '" + s + "': want 2026-11-23T18:00:00Z or epoch milliseconds");
}

void PrintVerify(const json& r) {
  if (r.value("ok", false))
    std::cout << "audit log verified: " << r.value("checked", 0) << " events, head " << r.value("head_hash", "")
              << "\n";
}

// audit decision ID: the decision, the version that produced it with its
// lineage and approvals, who promoted it and when, and the agent.
int AuditDecision(const Args& args) {
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto d = (*client)->GetJson("/api/v1/decisions/" + args.Pos(1, "ID"));
  if (!d.ok()) return Fail(d.status());
  const std::string model = d->value("model", "");
  auto v = (*client)->GetJson("/api/v1/models/" + model + "/versions/" + d->value("digest", ""));
  auto h = (*client)->GetJson("/api/v1/models/" + model + "/history");
  json promotions = json::array();
  if (v.ok() && h.ok())
    for (const auto& c : (*h)["history"])
      if (c.value("to", "") == "production" && c.value("version", 0) == v->value("version", 0)) promotions.push_back(c);
  if (WantJson(args)) {
    json out = {{"decision", *d}, {"promotions", promotions}};
    out["version"] = v.ok() ? *v : json(nullptr);
    PrintJson(out);
    return kExitOk;
  }
  std::cout << "decision:  " << d->value("request_id", "") << " at " << d->value("time", "") << "\n"
            << "model:     " << model << " version " << (d->contains("version") ? (*d)["version"].dump() : "?")
            << "\n"
            << "digest:    " << d->value("digest", "") << "\n"
            << "agent:     " << d->value("agent_id", "") << "\n"
            << "input:     sha256:" << d->value("input_sha256", "") << "\n";
  if (v.ok()) {
    std::cout << "stage now: " << v->value("stage", "") << "\n";
    if (v->contains("code"))
      std::cout << "code:      " << (*v)["code"].value("repo", "") << " @ " << (*v)["code"].value("commit", "")
                << ((*v)["code"].value("dirty", false) ? " (dirty)" : "") << "\n";
    for (const auto& ds : (*v)["data"])
      std::cout << "data:      " << ds.value("name", "") << " " << ds.value("uri", "") << " " << ds.value("digest", "") << "\n";
    for (const auto& [k, m] : (*v)["metrics"].items()) std::cout << "metric:    " << k << " = " << m.dump() << "\n";
    for (const auto& a : (*v)["approvals"])
      std::cout << "approved:  by " << a.value("approver", "") << " at " << a.value("time", "") << "\n";
    for (const auto& p : promotions)
      std::cout << "promoted:  by " << p.value("actor", "") << " at " << p.value("time", "") << " ("
                << p.value("kind", "") << ")\n";
  }
  return kExitOk;
}

}  // namespace

int CmdAudit(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--model", "--since", "--data", "--limit"}), GlobalBoolFlags());
  const std::string& sub = args.Pos(0, "subcommand (log, verify, decision)");
  args.ExpectPositional(1, sub == "decision" ? 2 : 1);
  if (sub == "verify") {
    json r;
    if (auto data = args.Get("--data")) {
      auto svc = RegistryService::Open(*data);
      if (!svc.ok()) return Fail(svc.status());
      auto v = (*svc)->VerifyAudit(RegistryService::LocalOperator());
      if (!v.ok()) return Fail(v.status());
      r = {{"ok", v->ok}, {"checked", v->checked}, {"head_hash", v->head_hash}};
      if (!v->ok) r.update({{"first_bad_seq", v->first_bad_seq}, {"problem", v->problem}});
    } else {
      auto client = MakeClient(args);
      if (!client.ok()) return Fail(client.status());
      auto v = (*client)->GetJson("/api/v1/audit/verify");
      if (!v.ok()) return Fail(v.status());
      r = *v;
    }
    if (WantJson(args)) PrintJson(r);
    else PrintVerify(r);
    if (!r.value("ok", false)) {
      std::cerr << "modelreg: audit log broken at event " << r.value("first_bad_seq", 0) << ": "
                << r.value("problem", "") << "\n";
      return kExitFailure;
    }
    return kExitOk;
  }
  if (sub == "decision") return AuditDecision(args);
  if (sub != "log") throw UsageError("unknown audit subcommand '" + sub + "'");
  std::string query = "?limit=1000";
  if (auto m = args.Get("--model")) query += "&model=" + *m;
  if (auto s = args.Get("--since")) {
    auto t = ParseTime(*s);
    if (!t.ok()) throw UsageError(t.status().message());
    query += "&since=" + std::to_string(*t);
  }
  int64_t max_events = args.Has("--limit") ? std::atoll(args.GetOr("--limit", "0").c_str()) : INT64_MAX;
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json all = json::array();
  int64_t after = 0;
  for (;;) {
    auto page = (*client)->GetJson("/api/v1/audit/events" + query + "&after_seq=" + std::to_string(after));
    if (!page.ok()) return Fail(page.status());
    for (auto& e : (*page)["events"]) {
      if (static_cast<int64_t>(all.size()) >= max_events) break;
      all.push_back(e);
    }
    if (!page->contains("next_after_seq") || static_cast<int64_t>(all.size()) >= max_events) break;
    after = (*page)["next_after_seq"].get<int64_t>();
  }
  if (WantJson(args)) {
    PrintJson({{"events", all}});
    return kExitOk;
  }
  std::cout << std::left << std::setw(7) << "SEQ" << std::setw(26) << "TIME" << std::setw(18) << "ACTOR"
            << std::setw(14) << "ACTION" << std::setw(16) << "MODEL" << std::setw(8) << "VERSION" << "DETAILS\n";
  for (const auto& e : all)
    std::cout << std::setw(7) << e.value("seq", 0) << std::setw(26) << e.value("time", "") << std::setw(18)
              << e.value("actor", "") << std::setw(14) << e.value("action", "") << std::setw(16)
              << (e.value("model", "").empty() ? "-" : e.value("model", "")) << std::setw(8)
              << (e["version"].is_null() ? "-" : e["version"].dump()) << e["details"].dump() << "\n";
  return kExitOk;
}

}  // namespace modelreg::cli
