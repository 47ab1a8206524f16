// modelreg lineage MODEL VERSION | lineage --dataset DIGEST | --commit SHA
// modelreg diff MODEL V1 V2
// modelreg provenance MODEL VERSION | provenance verify FILE [--trust-key PEM]
#include <fstream>
#include <iomanip>
#include <sstream>

#include "auth/signing.h"
#include "common.h"
#include "core/file_util.h"
#include "lineage/provenance.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

std::string Ref(const json& r) {
  return FieldText(r, "model") + " v" + JsonText(r["version"]) + " " + FieldText(r, "digest") + " (" +
         FieldText(r, "stage") + ")";
}

std::string Serving(const json& agents) {
  if (agents.empty()) return "no agent";
  std::string out;
  for (const auto& a : agents) {
    if (!out.empty()) out += ", ";
    std::ostringstream age;
    age << std::fixed << std::setprecision(0) << a.value("heartbeat_age_s", 0.0);
    out += FieldText(a, "id") + "@" + FieldText(a, "host") + " " + FieldText(a, "state") +
           (a.value("silent", false) ? " (silent " + age.str() + "s)" : "");
  }
  return out;
}

void PrintUpstream(const json& l) {
  std::cout << FieldText(l, "model") << " version " << JsonText(l["version"]) << "  " << FieldText(l, "digest")
            << "  stage " << FieldText(l, "stage") << "\n"
            << "registered " << FieldText(l, "created_at") << " by " << FieldText(l, "created_by") << "\n";
  if (l["code"].is_object()) {
    const json& c = l["code"];
    std::cout << "code:       " << FieldText(c, "repo") << " @ " << FieldText(c, "commit")
              << (FieldText(c, "branch").empty() ? "" : " (" + FieldText(c, "branch") + ")")
              << (c.value("dirty", false) ? " DIRTY" : " clean")
              << (FieldText(c, "entrypoint").empty() ? "" : ", entrypoint " + FieldText(c, "entrypoint")) << "\n";
  } else {
    std::cout << "code:       (not recorded)\n";
  }
  for (const auto& d : l["data"])
    std::cout << "data:       " << FieldText(d, "name") << "  " << FieldText(d, "uri") << "  "
              << (d["digest"].is_null() ? "(no digest)" : JsonText(d["digest"])) << "\n";
  for (const auto& [k, v] : l["params"].items())
    std::cout << "param:      " << TerminalSafe(k) << " = " << TerminalSafe(v.dump()) << "\n";
  for (const auto& [k, v] : l["metrics"].items())
    std::cout << "metric:     " << TerminalSafe(k) << " = " << TerminalSafe(v.dump()) << "\n";
  for (const auto& [k, v] : l["environment"].items())
    std::cout << "env:        " << TerminalSafe(k) << " = " << JsonText(v) << "\n";
  for (const auto& p : l["parents"]) std::cout << "parent:     " << Ref(p) << "\n";
  if (!l["unresolved_parent"].is_null())
    std::cout << "parent:     " << JsonText(l["unresolved_parent"]) << " (not in this registry)\n";
  if (l.value("parents_truncated", false)) std::cout << "parent:     ... (chain longer than shown)\n";
  for (const auto& c : l["children"]) std::cout << "fine-tune:  " << Ref(c) << "\n";
  std::cout << "serving:    " << Serving(l["serving"]) << "\n";
}

int Downstream(const Args& args) {
  const std::vector<std::pair<std::string, std::string>> query = {
      {"dataset", args.GetOr("--dataset", "")}, {"commit", args.GetOr("--commit", "")}, {"limit", "1000"}};
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json all = json::array();
  json first;
  for (int64_t offset = 0;;) {
    auto paged = query;
    paged.emplace_back("offset", std::to_string(offset));
    auto page = (*client)->Downstream(paged);
    if (!page.ok()) return Fail(page.status());
    if (first.is_null()) first = *page;
    for (auto& v : (*page)["versions"]) all.push_back(v);
    if (!page->contains("next_offset")) break;
    offset = (*page)["next_offset"].get<int64_t>();
  }
  if (WantJson(args)) {
    first["versions"] = all;
    first.erase("next_offset");
    PrintJson(first);
    return kExitOk;
  }
  if (all.empty()) {
    std::cout << "no version was trained on it\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(24) << "MODEL" << std::setw(9) << "VERSION" << std::setw(12) << "STAGE"
            << std::setw(28) << "VIA"
            << "SERVING NOW\n";
  for (const auto& v : all) {
    std::string via = v.value("via", "");
    if (via.size() > 26) via = via.substr(0, 23) + "...";
    via = TerminalSafe(via);
    std::cout << std::setw(24) << FieldText(v, "model") << std::setw(9) << JsonText(v["version"]) << std::setw(12)
              << FieldText(v, "stage") << std::setw(28) << via << Serving(v["serving"]) << "\n";
  }
  if (first.value("truncated", false)) std::cout << "(more versions matched than listed)\n";
  return kExitOk;
}

void PrintChanges(const char* title, const json& arr, const char* key) {
  for (const auto& c : arr)
    std::cout << std::left << std::setw(13) << title << std::setw(22) << FieldText(c, key) << JsonText(c["from"])
              << "  ->  " << JsonText(c["to"]) << "\n";
}

Result<std::string> ReadText(const std::string& path) { return ReadSmallFile(path, 16 << 20); }

int VerifyProvenance(const Args& args) {
  const std::string file = args.Pos(1, "FILE");
  auto envelope =
      file == "-" ? Result<std::string>(std::string(std::istreambuf_iterator<char>(std::cin), {})) : ReadText(file);
  if (!envelope.ok()) return FailLocal(envelope.status());
  auto key = TrustedKey(args);
  if (!key.ok()) return Fail(key.status());
  auto payload = OpenDsse(**key, *envelope, kInTotoPayloadType);
  if (!payload.ok()) return FailLocal(payload.status().WithContext("provenance signature"));
  auto subject = ParseProvenanceStatement(*payload);
  if (!subject.ok()) return FailLocal(subject.status());
  if (auto want = args.Get("--digest"); want && *want != subject->digest)
    return FailLocal(Status::PermissionDenied("provenance is for " + subject->digest + ", not " + *want));
  if (WantJson(args)) {
    PrintJson({{"ok", true},
               {"model", subject->name},
               {"version", subject->version},
               {"digest", subject->digest},
               {"key_id", (*key)->key_id()},
               {"statement", json::parse(*payload)}});
  } else {
    std::cout << "provenance verified: " << TerminalSafe(subject->name) << " version " << subject->version << " "
              << TerminalSafe(subject->digest) << " (signed by key " << (*key)->key_id().substr(0, 16) << "…)\n";
  }
  return kExitOk;
}

}  // namespace

static int LineageCommand(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--dataset", "--commit"}), GlobalBoolFlags());
  if (args.Has("--dataset") || args.Has("--commit")) {
    args.ExpectPositional(0, 0);
    if (args.Has("--dataset") && args.Has("--commit")) throw UsageError("give --dataset or --commit, not both");
    return Downstream(args);
  }
  args.ExpectPositional(2, 2);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto l = (*client)->Lineage(args.Pos(0, "MODEL"), args.Pos(1, "VERSION"));
  if (!l.ok()) return Fail(l.status());
  if (WantJson(args)) PrintJson(*l);
  else PrintUpstream(*l);
  return kExitOk;
}

static int DiffCommand(const std::vector<std::string>& argv) {
  Args args(argv, GlobalValueFlags(), GlobalBoolFlags());
  args.ExpectPositional(3, 3);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto d = (*client)->Diff(args.Pos(0, "MODEL"), args.Pos(1, "V1"), args.Pos(2, "V2"));
  if (!d.ok()) return Fail(d.status());
  if (WantJson(args)) {
    PrintJson(*d);
    return kExitOk;
  }
  const json& j = *d;
  std::cout << "--- " << Ref(j["from"]) << "\n+++ " << Ref(j["to"]) << "\n";
  if (j.value("identical", false)) {
    std::cout << "no difference in params, metrics, environment, code, data or files\n";
    return kExitOk;
  }
  PrintChanges("param", j["params"], "name");
  PrintChanges("metric", j["metrics"], "name");
  PrintChanges("environment", j["environment"], "name");
  PrintChanges("code", j["code"], "field");
  for (const auto& x : j["data"]) {
    auto side = [](const json& s) {
      return s.is_null() ? std::string("-") : FieldText(s, "uri") + " " + JsonText(s["digest"]);
    };
    std::cout << std::left << std::setw(13) << "data" << std::setw(22) << FieldText(x, "name") << side(x["from"])
              << "  ->  " << side(x["to"]) << "\n";
  }
  const json& f = j["files"];
  for (const auto& x : f["added"])
    std::cout << "file added   " << FieldText(x, "path") << " (" << HumanBytes(x.value("size", 0)) << ")\n";
  for (const auto& x : f["removed"])
    std::cout << "file removed " << FieldText(x, "path") << " (" << HumanBytes(x.value("size", 0)) << ")\n";
  for (const auto& x : f["changed"])
    std::cout << "file changed " << FieldText(x, "path") << " (" << HumanBytes(x["from"].value("size", 0)) << " -> "
              << HumanBytes(x["to"].value("size", 0)) << ")\n";
  std::cout << f.value("unchanged", 0) << " file(s) unchanged\n";
  return kExitOk;
}

int CmdProvenance(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--trust-key", "--digest", "--output", "-o"}), GlobalBoolFlags());
  if (args.Pos(0, "MODEL or verify") == "verify") {
    args.ExpectPositional(2, 2);
    return VerifyProvenance(args);
  }
  args.ExpectPositional(2, 2);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto env = (*client)->Provenance(args.Pos(0, "MODEL"), args.Pos(1, "VERSION"));
  if (!env.ok()) return Fail(env.status());
  auto out = WriteOutput(args, TerminalSafe(env->dump(2), true) + "\n");
  if (!out.ok()) return Fail(out.status());
  if (!out->empty()) std::cerr << "wrote " << *out << "\n";
  return kExitOk;
}

// Lineage and diff answers are read by key: one of the wrong shape is an
// error (exit 1), see ReadingAnswers.
int CmdLineage(const std::vector<std::string>& argv) {
  return ReadingAnswers([&] { return LineageCommand(argv); });
}

int CmdDiff(const std::vector<std::string>& argv) {
  return ReadingAnswers([&] { return DiffCommand(argv); });
}

}  // namespace modelreg::cli
