// modelreg audit log | verify | checkpoint | decision | live
#include <deque>
#include <iomanip>

#include "codec/json_codec.h"
#include "common.h"
#include "core/audit_chain.h"
#include "core/clock.h"
#include "core/file_util.h"
#include "core/flag_values.h"
#include "service/registry_service.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

void PrintVerify(const json& r) {
  if (!r.value("ok", false)) return;
  std::cout << "audit log verified: " << r.value("checked", 0) << " events, head " << FieldText(r, "head_hash") << "\n";
  if (r.contains("checkpoint"))
    std::cout << "and it still holds the checkpoint of " << FieldText(r["checkpoint"], "time") << " ("
              << r["checkpoint"].value("count", 0) << " events, head " << FieldText(r["checkpoint"], "head_hash")
              << ")\n";
}

// One agent's state at a time, as a line.
std::string AgentLine(const json& a) {
  if (a.value("gap", false))
    return "UNKNOWN (silent since " + FieldText(a, "confirmed_until") + "; last said " + FieldText(a, "last_state") +
           " v" + JsonText(a["version"]) +
           (a["heard_again"].is_null() ? ", not heard from since)"
                                       : ", heard again " + JsonText(a["heard_again"]) + ")");
  return FieldText(a, "state") + " v" + JsonText(a["version"]) + " " + FieldText(a, "digest") + " (since " +
         FieldText(a, "since") + ", confirmed " + FieldText(a, "confirmed_until") + ")" +
         (FieldText(a, "error").empty() ? "" : " error: " + FieldText(a, "error"));
}

// audit decision ID: the decision, the version that produced it with its
// full lineage, approvals, who promoted it and when, and the serving agent.
int AuditDecision(const Args& args) {
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto r = (*client)->DecisionAudit(args.Pos(1, "ID"));
  if (!r.ok()) return Fail(r.status());
  if (WantJson(args)) {
    PrintJson(*r);
    return kExitOk;
  }
  const json& d = (*r)["decision"];
  const json& v = (*r)["version"];
  std::cout << "decision:   " << FieldText(d, "request_id") << " at " << FieldText(d, "time") << "\n"
            << "model:      " << FieldText(d, "model") << " version " << JsonText(d["version"]) << "\n"
            << "digest:     " << FieldText(d, "digest") << "\n"
            << "input:      sha256:" << FieldText(d, "input_sha256") << "\n";
  if (d.contains("arm"))
    std::cout << "arm:        " << FieldText(d, "arm") << " of rollout " << FieldText(d, "rollout_id") << "\n";
  if (d.contains("fallback")) std::cout << "fallback:   " << FieldText(d, "fallback") << "\n";
  std::cout << "agent:      " << FieldText(d, "agent_id");
  if ((*r)["agent_at_time"].is_object()) std::cout << ": " << AgentLine((*r)["agent_at_time"]);
  std::cout << "\n";
  const json& prod = (*r)["production_at_time"];
  std::cout << "production: "
            << (prod.is_null() ? std::string("none at that time")
                               : "version " + JsonText(prod["version"]) + " " + FieldText(prod, "digest") +
                                     (FieldText(prod, "digest") == FieldText(d, "digest") ? " (this one)"
                                                                                          : " (a different version)"))
            << "\n";
  if (v.is_null()) {
    std::cout << "lineage:    the digest is no registered version of " << FieldText(d, "model") << "\n";
    return kExitOk;
  }
  std::cout << "stage now:  " << FieldText(v, "stage") << "\n";
  if (v["code"].is_object())
    std::cout << "code:       " << FieldText(v["code"], "repo") << " @ " << FieldText(v["code"], "commit")
              << (v["code"].value("dirty", false) ? " DIRTY" : " clean") << "\n";
  for (const auto& ds : v["data"])
    std::cout << "data:       " << FieldText(ds, "name") << " " << FieldText(ds, "uri") << " " << JsonText(ds["digest"])
              << "\n";
  for (const auto& [k, p] : v["params"].items())
    std::cout << "param:      " << TerminalSafe(k) << " = " << TerminalSafe(p.dump()) << "\n";
  for (const auto& [k, m] : v["metrics"].items())
    std::cout << "metric:     " << TerminalSafe(k) << " = " << TerminalSafe(m.dump()) << "\n";
  for (const auto& p : v["parents"])
    std::cout << "parent:     " << FieldText(p, "model") << " v" << JsonText(p["version"]) << " "
              << FieldText(p, "digest") << "\n";
  for (const auto& a : (*r)["approvals"])
    std::cout << "approved:   by " << FieldText(a, "approver") << " at " << FieldText(a, "time") << "\n";
  for (const auto& p : (*r)["promotions"])
    std::cout << "promoted:   by " << FieldText(p, "actor") << " at " << FieldText(p, "time") << " ("
              << FieldText(p, "kind") << (FieldText(p, "reason").empty() ? "" : ": " + FieldText(p, "reason")) << ")\n";
  return kExitOk;
}

// audit live --model M --at TIME [--agent A]: what was serving then.
int AuditLive(const Args& args) {
  auto model = args.Get("--model");
  auto at = args.Get("--at");
  if (!model || !at) throw UsageError("audit live needs --model M and --at TIME");
  const int64_t t = OrUsageError(ParseTimeMs(*at));
  const std::vector<std::pair<std::string, std::string>> query = {{"at", std::to_string(t)},
                                                                  {"agent", args.GetOr("--agent", "")}};
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto r = (*client)->LiveAt(*model, query);
  if (!r.ok()) return Fail(r.status());
  while (r->contains("next_offset")) {  // every page of a large fleet
    auto paged = query;
    paged.emplace_back("offset", std::to_string((*r)["next_offset"].get<int64_t>()));
    auto more = (*client)->LiveAt(*model, paged);
    if (!more.ok()) return Fail(more.status());
    for (auto& a : (*more)["agents"]) (*r)["agents"].push_back(a);
    if (more->contains("next_offset")) (*r)["next_offset"] = (*more)["next_offset"];
    else r->erase("next_offset");
  }
  if (WantJson(args)) {
    PrintJson(*r);
    return kExitOk;
  }
  const json& prod = (*r)["production"];
  std::cout << FieldText((*r), "model") << " at " << FieldText((*r), "at") << "\n"
            << "production release: "
            << (prod.is_null() ? std::string("none")
                               : "version " + JsonText(prod["version"]) + " " + FieldText(prod, "digest") + " (since " +
                                     FieldText(prod, "since") + ")")
            << "\n";
  if ((*r)["agents"].empty()) std::cout << "no agent had reported by then\n";
  for (const auto& a : (*r)["agents"]) std::cout << "agent " << FieldText(a, "agent") << ": " << AgentLine(a) << "\n";
  return kExitOk;
}

// The checkpoint in --checkpoint FILE, its signature checked with
// --trust-key, else (with --data) the data dir's own public key, else the
// key the registry serves.
Result<std::optional<AuditCheckpoint>> CheckpointArg(const Args& args) {
  auto file = args.Get("--checkpoint");
  if (!file) return std::optional<AuditCheckpoint>();
  MR_ASSIGN_OR_RETURN(std::string envelope, ReadSmallFile(*file, 1 << 20));
  std::unique_ptr<VerifyKey> key;
  if (auto data = args.Get("--data"); data && !args.Get("--trust-key")) {
    MR_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(*data + "/keys/release.pub", 1 << 20));
    MR_ASSIGN_OR_RETURN(key, VerifyKey::FromPem(pem));
  } else {
    MR_ASSIGN_OR_RETURN(key, TrustedKey(args));
  }
  auto payload = OpenDsse(*key, envelope, kAuditCheckpointPayloadType);
  if (!payload.ok()) return payload.status().WithContext("checkpoint " + *file);
  AuditCheckpoint cp;
  std::string error;
  if (!ParseAuditCheckpoint(*payload, &cp, &error)) return Status::InvalidArgument(error);
  return std::optional<AuditCheckpoint>(cp);
}

// audit verify [--data DIR] [--checkpoint FILE [--trust-key PEM]]
int AuditVerify(const Args& args) {
  auto cp = CheckpointArg(args);
  if (!cp.ok()) return FailLocal(cp.status());  // the checkpoint file or its signature
  json r;
  if (auto data = args.Get("--data")) {
    auto svc = OpenExistingRegistry(*data);
    if (!svc.ok()) return Fail(svc.status());
    auto v = (*svc)->VerifyAudit(RegistryService::LocalOperator(), *cp);
    if (!v.ok()) return Fail(v.status());
    r = codec::ToJson(*v);
  } else {
    auto client = MakeClient(args);
    if (!client.ok()) return Fail(client.status());
    std::vector<std::pair<std::string, std::string>> query;
    if (*cp)
      query = {{"checkpoint_count", std::to_string((*cp)->count)},
               {"checkpoint_hash", (*cp)->head_hash},
               {"checkpoint_time", FormatIsoTime((*cp)->at_ms)}};
    auto v = (*client)->AuditVerify(query);
    if (!v.ok()) return Fail(v.status());
    r = *v;
  }
  if (*cp)
    r["checkpoint"] = {{"count", (*cp)->count}, {"head_hash", (*cp)->head_hash}, {"time", FormatIsoTime((*cp)->at_ms)}};
  if (WantJson(args)) PrintJson(r);
  else PrintVerify(r);
  if (!r.value("ok", false)) {
    std::cerr << "modelreg: audit log broken at event " << r.value("first_bad_seq", 0) << ": "
              << FieldText(r, "problem") << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

// audit checkpoint [-o FILE]: the log's length and head now, signed by the
// registry. Keep it outside the registry; `audit verify --checkpoint FILE`
// later shows whether events were cut from the end or rewritten since.
int AuditCheckpointCmd(const Args& args) {
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto envelope = (*client)->AuditCheckpoint();
  if (!envelope.ok()) return Fail(envelope.status());
  auto out = WriteOutput(args, TerminalSafe(envelope->dump(), true) + "\n");
  if (!out.ok()) return Fail(out.status());
  if (out->empty()) return kExitOk;
  std::cerr << "modelreg: audit checkpoint written to " << *out
            << "; keep it outside the registry and check later with: modelreg audit verify --checkpoint " << *out
            << "\n";
  return kExitOk;
}

}  // namespace

namespace {
int AuditCommand(const std::vector<std::string>& argv);
}  // namespace

int CmdAudit(const std::vector<std::string>& argv) {
  return ReadingAnswers([&] { return AuditCommand(argv); });
}

namespace {

int AuditCommand(const std::vector<std::string>& argv) {
  Args args(argv,
            Merge(GlobalValueFlags(), {"--model", "--version", "--since", "--until", "--actor", "--action", "--data",
                                       "--limit", "--at", "--agent", "--checkpoint", "--trust-key", "--output", "-o"}),
            GlobalBoolFlags());
  const std::string& sub = args.Pos(0, "subcommand (log, verify, checkpoint, decision, live)");
  args.ExpectPositional(1, sub == "decision" ? 2 : 1);
  if (sub == "verify") return AuditVerify(args);
  if (sub == "checkpoint") return AuditCheckpointCmd(args);
  if (sub == "decision") return AuditDecision(args);
  if (sub == "live") return AuditLive(args);
  if (sub != "log") throw UsageError("unknown audit subcommand '" + sub + "'");
  std::vector<std::pair<std::string, std::string>> query = {{"limit", "1000"}, {"model", args.GetOr("--model", "")}};
  if (auto v = args.Get("--version")) {
    if (!args.Has("--model")) throw UsageError("--version needs --model");
    query.emplace_back("version", *v);
  }
  if (auto s = args.Get("--since")) query.emplace_back("since", std::to_string(OrUsageError(ParseTimeMs(*s))));
  if (auto s = args.Get("--until")) query.emplace_back("until", std::to_string(OrUsageError(ParseTimeMs(*s))));
  if (auto a = args.Get("--actor")) query.emplace_back("actor", *a);
  if (auto a = args.Get("--action")) query.emplace_back("action", *a);
  // --limit N: the newest N events (like `git log -n`), oldest first.
  int64_t max_events = INT64_MAX;
  if (auto limit = args.Get("--limit")) max_events = OrUsageError(ParseCountFlag(*limit, "--limit", 1, INT64_MAX));
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json all = json::array();
  if (max_events <= 10000) {  // one request for the newest N
    auto newest = query;
    newest.emplace_back("newest", std::to_string(max_events));
    auto page = (*client)->AuditEvents(newest);
    if (!page.ok()) return Fail(page.status());
    all = (*page)["events"];
  } else {  // every page, keeping the last N
    std::deque<json> kept;
    int64_t after = 0;
    for (;;) {
      auto next = query;
      next.emplace_back("after_seq", std::to_string(after));
      auto page = (*client)->AuditEvents(next);
      if (!page.ok()) return Fail(page.status());
      for (auto& e : (*page)["events"]) {
        kept.push_back(e);
        if (static_cast<int64_t>(kept.size()) > max_events) kept.pop_front();
      }
      if (!page->contains("next_after_seq")) break;
      after = (*page)["next_after_seq"].get<int64_t>();
    }
    for (auto& e : kept) all.push_back(std::move(e));
  }
  if (WantJson(args)) {
    PrintJson({{"events", all}});
    return kExitOk;
  }
  std::cout << std::left << std::setw(7) << "SEQ" << std::setw(26) << "TIME" << std::setw(18) << "ACTOR"
            << std::setw(14) << "ACTION" << std::setw(16) << "MODEL" << std::setw(8) << "VERSION"
            << "DETAILS\n";
  for (const auto& e : all)
    std::cout << std::setw(7) << e.value("seq", 0) << std::setw(26) << FieldText(e, "time") << std::setw(18)
              << FieldText(e, "actor") << std::setw(14) << FieldText(e, "action") << std::setw(16)
              << (FieldText(e, "model").empty() ? "-" : FieldText(e, "model")) << std::setw(8) << JsonText(e["version"])
              << JsonText(e["details"]) << "\n";
  return kExitOk;
}

}  // namespace
}  // namespace modelreg::cli
