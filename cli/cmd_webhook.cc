// modelreg webhook create|list|delete|test|deliveries (admin) and
// modelreg events (the event feed) — over REST (docs/events.md).
#include <chrono>
#include <iostream>
#include <thread>

#include "client/api_path.h"
#include "common.h"
#include "core/file_util.h"
#include "core/terminal_text.h"
#include "table.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

int Create(const Args& args) {
  auto name = args.Get("--name");
  auto url = args.Get("--url");
  auto events = args.Get("--events");
  if (!name || !url || !events) throw UsageError("webhook create needs --name NAME --url URL --events LIST");
  json body = {{"name", *name}, {"url", *url}, {"events", *events}, {"models", args.GetOr("--models", "")}};
  if (auto f = args.Get("--secret-file")) {
    auto secret = ReadSmallFile(*f, 4096);
    if (!secret.ok()) return FailLocal(secret.status());
    std::string s = *secret;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty()) throw UsageError("--secret-file " + *f + " is empty (leave the flag out to have one generated)");
    body["secret"] = s;
  }
  if (auto f = args.Get("--ca")) {
    auto ca = ReadSmallFile(*f, 1 << 20);
    if (!ca.ok()) return FailLocal(ca.status());
    body["ca"] = *ca;
  }
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto out = (*client)->SendJson("POST", ApiPath({"webhooks"}), body);
  if (!out.ok()) return Fail(out.status());
  if (WantJson(args)) {
    PrintJson(*out);
  } else {
    std::cout << "created webhook " << TerminalSafe(*name) << " -> " << TerminalSafe(*url) << "\n";
    if (!args.Get("--secret-file"))
      std::cout << "secret (shown once; receivers verify X-Modelreg-Signature with it):\n"
                << FieldText(*out, "secret") << "\n";
  }
  return kExitOk;
}

int List(const Args& args) {
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto out = (*client)->GetJson(ApiPath({"webhooks"}));
  if (!out.ok()) return Fail(out.status());
  if (WantJson(args)) {
    PrintJson(*out);
    return kExitOk;
  }
  Table t;
  t.Column("NAME", 20).Column("URL", 40).Column("EVENTS", 30).Column("MODELS").Column("PENDING").Column("FAILED");
  if (out->contains("webhooks") && (*out)["webhooks"].is_array())
    for (const auto& w : (*out)["webhooks"])
      t.Row({FieldText(w, "name"), FieldText(w, "url"), FieldText(w, "events"),
             FieldText(w, "models").empty() ? "*" : FieldText(w, "models"), FieldText(w, "pending"),
             FieldText(w, "failed")});
  t.Print(std::cout, false);
  return kExitOk;
}

int Delete(const Args& args) {
  const std::string& name = args.Pos(1, "webhook NAME");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  if (Status st = (*client)->Delete(ApiPath({"webhooks", name})); !st.ok()) return Fail(st);
  if (WantJson(args)) PrintJson({{"deleted", name}});
  else std::cout << "deleted webhook " << TerminalSafe(name) << "\n";
  return kExitOk;
}

int Test(const Args& args) {
  const std::string& name = args.Pos(1, "webhook NAME");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto out = (*client)->SendJson("POST", ApiPath({"webhooks", name, "test"}), json::object());
  if (!out.ok()) return Fail(out.status());
  const bool delivered = out->value("delivered", false);
  if (WantJson(args)) {
    PrintJson(*out);
  } else if (delivered) {
    std::cout << "delivered: HTTP " << FieldText(*out, "status") << " in " << FieldText(*out, "elapsed_ms") << " ms\n";
  } else {
    std::cout << "not delivered: " << FieldText(*out, "error") << "\n";
  }
  return delivered ? kExitOk : kExitUnreachable;
}

int Deliveries(const Args& args) {
  const std::string& name = args.Pos(1, "webhook NAME");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto out =
      (*client)->GetJson(WithQuery(ApiPath({"webhooks", name, "deliveries"}), {{"limit", args.GetOr("--limit", "")}}));
  if (!out.ok()) return Fail(out.status());
  if (WantJson(args)) {
    PrintJson(*out);
    return kExitOk;
  }
  Table t;
  t.Column("EVENT")
      .Column("TYPE", 24)
      .Column("MODEL", 20)
      .Column("STATE")
      .Column("TRIES")
      .Column("STATUS")
      .Column("LAST ERROR", 50);
  if (out->contains("deliveries") && (*out)["deliveries"].is_array())
    for (const auto& d : (*out)["deliveries"])
      t.Row({FieldText(d, "event_id"), FieldText(d, "event_type"), FieldText(d, "model"), FieldText(d, "state"),
             FieldText(d, "attempts"), FieldText(d, "last_status"), FieldText(d, "last_error")});
  t.Print(std::cout, false);
  return kExitOk;
}

}  // namespace

int CmdWebhook(const std::vector<std::string>& argv) {
  Args args(argv,
            Merge(GlobalValueFlags(), {"--name", "--url", "--events", "--models", "--secret-file", "--ca", "--limit"}),
            GlobalBoolFlags());
  const std::string& sub = args.Pos(0, "subcommand (create, list, delete, test, deliveries)");
  if (sub == "create") {
    args.ExpectPositional(1, 1);
    return Create(args);
  }
  if (sub == "list") {
    args.ExpectPositional(1, 1);
    return List(args);
  }
  if (sub == "delete" || sub == "test" || sub == "deliveries") {
    args.ExpectPositional(2, 2);
    return sub == "delete" ? Delete(args) : sub == "test" ? Test(args) : Deliveries(args);
  }
  throw UsageError("unknown webhook subcommand '" + sub + "'");
}

// One line per event (or one JSON object per line with --json), oldest
// first; --follow keeps listening (long polls) until interrupted.
int CmdEvents(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--after", "--limit"}), Merge(GlobalBoolFlags(), {"--follow"}));
  args.ExpectPositional(0, 0);
  std::string after = args.GetOr("--after", "0");
  const bool follow = args.Has("--follow");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  for (;;) {
    auto page = (*client)->GetJson(WithQuery(
        ApiPath({"events"}), {{"after", after}, {"limit", args.GetOr("--limit", "")}, {"wait", follow ? "25" : ""}}));
    if (!page.ok()) return Fail(page.status());
    if (page->contains("events") && (*page)["events"].is_array())
      for (const auto& e : (*page)["events"]) {
        if (WantJson(args)) {
          std::cout << JsonText(e) << "\n";
        } else {
          std::string version = FieldText(e, "version");
          std::cout << FieldText(e, "id") << "  " << FieldText(e, "timestamp") << "  " << FieldText(e, "type") << "  "
                    << FieldText(e, "model") << (version.empty() ? "" : " v" + version) << "  by "
                    << FieldText(e, "actor") << "\n";
        }
      }
    std::cout.flush();
    after = FieldText(*page, "next").empty() ? after : FieldText(*page, "next");
    if (!follow) return kExitOk;
  }
}

}  // namespace modelreg::cli
