// modelreg promote | approve | reject | archive | rollback | policy | history
#include <iomanip>

#include "common.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

std::string VersionPath(const Args& args) {
  return "/api/v1/models/" + args.Pos(0, "MODEL") + "/versions/" + args.Pos(1, "VERSION");
}

Result<std::unique_ptr<RegistryClient>> ClientFor(const Args& args) { return MakeClient(args); }

int Post(const Args& args, const std::string& path, const json& body,
         const std::function<void(const json&)>& print) {
  auto client = ClientFor(args);
  if (!client.ok()) return Fail(client.status());
  auto r = (*client)->SendJson("POST", path, body);
  if (!r.ok()) return Fail(r.status());
  if (WantJson(args)) PrintJson(*r);
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
  json body = {{"to", *to}};
  if (auto r = args.Get("--reason")) body["reason"] = *r;
  if (auto o = args.Get("--override")) {
    if (o->empty()) throw UsageError("--override needs a reason");
    body["override"] = *o;
  }
  return Post(args, VersionPath(args) + "/stage", body, [&](const json& r) {
    std::cout << args.Pos(0, "MODEL") << " version " << r.value("version", 0) << " is now " << FieldText(r, "stage");
    if (r.contains("replaced")) std::cout << " (version " << r["replaced"].value("version", 0) << " archived)";
    std::cout << "\n";
    if (r.contains("overridden_gates"))
      for (const auto& g : r["overridden_gates"]) std::cout << "  overridden: " << JsonText(g) << "\n";
  });
}

int CmdApprove(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--comment"}), GlobalBoolFlags());
  args.ExpectPositional(2, 2);
  json body = json::object();
  if (auto c = args.Get("--comment")) body["comment"] = *c;
  return Post(args, VersionPath(args) + "/approvals", body, [&](const json& r) {
    std::string who;
    for (const auto& a : r["approvals"]) who += (who.empty() ? "" : ", ") + FieldText(a, "approver");
    std::cout << (r.value("approval_added", false) ? "approved " : "already approved ") << args.Pos(0, "MODEL")
              << " version " << r.value("version", 0) << " (approvals: " << who << ")\n";
  });
}

int CmdReject(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--reason"}), GlobalBoolFlags());
  args.ExpectPositional(2, 2);
  auto reason = args.Get("--reason");
  if (!reason || reason->empty()) throw UsageError("--reason TEXT is required");
  return Post(args, VersionPath(args) + "/reject", {{"reason", *reason}}, [&](const json& r) {
    std::cout << "rejected " << args.Pos(0, "MODEL") << " version " << r.value("version", 0) << "\n";
  });
}

int CmdArchive(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--reason"}), GlobalBoolFlags());
  args.ExpectPositional(2, 2);
  json body = json::object();
  if (auto r = args.Get("--reason")) body["reason"] = *r;
  return Post(args, VersionPath(args) + "/archive", body, [&](const json& r) {
    std::cout << "archived " << args.Pos(0, "MODEL") << " version " << r.value("version", 0) << "\n";
  });
}

int CmdRollback(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--reason"}), GlobalBoolFlags());
  args.ExpectPositional(1, 1);
  auto reason = args.Get("--reason");
  if (!reason || reason->empty()) throw UsageError("--reason TEXT is required");
  return Post(args, "/api/v1/models/" + args.Pos(0, "MODEL") + "/rollback", {{"reason", *reason}},
              [&](const json& r) {
                std::cout << "rolled back " << args.Pos(0, "MODEL") << ": version "
                          << r["restored"].value("version", 0) << " is production again (version "
                          << r["demoted"].value("version", 0) << " archived)\n";
              });
}

int CmdPolicy(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--approvals", "--gate"}),
            Merge(GlobalBoolFlags(), {"--require-clean-code", "--require-data-digests"}));
  const std::string& sub = args.Pos(0, "subcommand (set, show)");
  args.ExpectPositional(2, 2);
  const std::string path = "/api/v1/models/" + args.Pos(1, "MODEL") + "/policy";
  auto client = ClientFor(args);
  if (!client.ok()) return Fail(client.status());
  Result<json> r = Status::OK();
  if (sub == "set") {
    json body = {{"gates", args.GetAll("--gate")},
                 {"require_clean_code", args.Has("--require-clean-code")},
                 {"require_data_digests", args.Has("--require-data-digests")}};
    if (auto a = args.Get("--approvals")) {
      char* end = nullptr;
      long n = std::strtol(a->c_str(), &end, 10);
      if (a->empty() || *end || n < 0) throw UsageError("--approvals wants a number >= 0");
      body["approvals"] = n;
    }
    r = (*client)->SendJson("PUT", path, body);
  } else if (sub == "show") {
    r = (*client)->GetJson(path);
  } else {
    throw UsageError("unknown policy subcommand '" + sub + "'");
  }
  if (!r.ok()) return Fail(r.status());
  if (WantJson(args)) {
    PrintJson(*r);
    return kExitOk;
  }
  std::cout << "policy of " << args.Pos(1, "MODEL") << ":\n"
            << "  approvals required:   " << JsonText((*r)["approvals"]) << "\n"
            << "  require clean code:   " << ((*r)["require_clean_code"].get<bool>() ? "yes" : "no") << "\n"
            << "  require data digests: " << ((*r)["require_data_digests"].get<bool>() ? "yes" : "no") << "\n";
  for (const auto& g : (*r)["gates"]) std::cout << "  gate:                 " << JsonText(g) << "\n";
  return kExitOk;
}

int CmdHistory(const std::vector<std::string>& argv) {
  Args args(argv, GlobalValueFlags(), GlobalBoolFlags());
  args.ExpectPositional(1, 1);
  auto client = ClientFor(args);
  if (!client.ok()) return Fail(client.status());
  auto r = (*client)->GetJson("/api/v1/models/" + args.Pos(0, "MODEL") + "/history");
  if (!r.ok()) return Fail(r.status());
  if (WantJson(args)) {
    PrintJson(*r);
    return kExitOk;
  }
  std::cout << std::left << std::setw(26) << "TIME" << std::setw(9) << "VERSION" << std::setw(24) << "CHANGE"
            << std::setw(10) << "KIND" << std::setw(18) << "BY" << "REASON\n";
  for (const auto& h : (*r)["history"])
    std::cout << std::setw(26) << FieldText(h, "time") << std::setw(9) << h.value("version", 0) << std::setw(24)
              << (FieldText(h, "from") + " -> " + FieldText(h, "to")) << std::setw(10) << FieldText(h, "kind")
              << std::setw(18) << FieldText(h, "actor") << FieldText(h, "reason") << "\n";
  return kExitOk;
}

}  // namespace modelreg::cli
