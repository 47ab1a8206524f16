// modelreg models | versions | show | pull | whoami
#include <iomanip>

#include "common.h"
#include "progress.h"

namespace modelreg::cli {
namespace {

Args ClientArgs(const std::vector<std::string>& argv) {
  return Args(argv, GlobalValueFlags(), GlobalBoolFlags());
}

std::string Str(const nlohmann::json& j, const char* k) { return j.contains(k) ? JsonText(j[k]) : "-"; }

}  // namespace

int CmdModels(const std::vector<std::string>& argv) {
  Args args = ClientArgs(argv);
  args.ExpectPositional(0, 0);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto j = (*client)->GetJson("/api/v1/models");
  if (!j.ok()) return Fail(j.status());
  if (WantJson(args)) {
    PrintJson(*j);
    return kExitOk;
  }
  std::cout << std::left << std::setw(28) << "MODEL" << std::setw(10) << "VERSIONS" << std::setw(8)
            << "LATEST" << std::setw(12) << "PRODUCTION" << "CREATED\n";
  for (const auto& m : (*j)["models"])
    std::cout << std::setw(28) << Str(m, "name") << std::setw(10) << Str(m, "version_count")
              << std::setw(8) << Str(m, "latest_version") << std::setw(12)
              << Str(m, "production_version") << Str(m, "created_at") << "\n";
  return kExitOk;
}

int CmdVersions(const std::vector<std::string>& argv) {
  Args args = ClientArgs(argv);
  args.ExpectPositional(1, 1);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto j = (*client)->GetJson("/api/v1/models/" + args.Pos(0, "MODEL") + "/versions");
  if (!j.ok()) return Fail(j.status());
  if (WantJson(args)) {
    PrintJson(*j);
    return kExitOk;
  }
  std::cout << std::left << std::setw(8) << "VERSION" << std::setw(12) << "STAGE" << std::setw(74)
            << "DIGEST" << std::setw(8) << "FILES" << std::setw(12) << "SIZE" << std::setw(16) << "CREATED BY"
            << "METRICS\n";
  for (const auto& v : (*j)["versions"]) {
    std::string metrics;
    if (v.contains("metrics") && v["metrics"].is_object())
      for (const auto& [name, value] : v["metrics"].items())
        metrics += (metrics.empty() ? "" : " ") + TerminalSafe(name) + "=" + JsonText(value);
    std::cout << std::setw(8) << Str(v, "version") << std::setw(12) << Str(v, "stage") << std::setw(74)
              << Str(v, "digest") << std::setw(8) << Str(v, "file_count") << std::setw(12)
              << HumanBytes(v.value("total_bytes", 0)) << std::setw(16) << Str(v, "created_by") << metrics << "\n";
  }
  return kExitOk;
}

int CmdShow(const std::vector<std::string>& argv) {
  Args args = ClientArgs(argv);
  args.ExpectPositional(2, 2);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  const std::string base = "/api/v1/models/" + args.Pos(0, "MODEL") + "/versions/" + args.Pos(1, "VERSION");
  auto v = (*client)->GetJson(base);
  if (!v.ok()) return Fail(v.status());
  if (WantJson(args)) {
    PrintJson(*v);
    return kExitOk;
  }
  std::cout << "model:    " << Str(*v, "model") << "\n"
            << "version:  " << Str(*v, "version") << "\n"
            << "digest:   " << Str(*v, "digest") << "\n"
            << "stage:    " << Str(*v, "stage") << "\n"
            << "files:    " << Str(*v, "file_count") << " (" << HumanBytes(v->value("total_bytes", 0)) << ")\n"
            << "created:  " << Str(*v, "created_at") << " by " << Str(*v, "created_by") << "\n";
  if (v->contains("code"))
    std::cout << "code:     " << Str((*v)["code"], "repo") << " @ " << Str((*v)["code"], "commit")
              << ((*v)["code"].value("dirty", false) ? " (dirty)" : "") << "\n";
  if (v->contains("parent")) std::cout << "parent:   " << Str(*v, "parent") << "\n";
  for (const auto& d : (*v)["data"])
    std::cout << "data:     " << Str(d, "name") << " " << Str(d, "uri") << " " << Str(d, "digest") << "\n";
  for (const auto& [k, m] : (*v)["metrics"].items()) std::cout << "metric:   " << TerminalSafe(k) << " = " << TerminalSafe(m.dump()) << "\n";
  return kExitOk;
}

// The digest of the version now in `stage` (production: the one; other
// stages: the newest), so the pull fetches exactly that version even if the
// stage moves meanwhile.
Result<std::string> VersionInStage(RegistryClient& client, const std::string& model, const std::string& stage) {
  static const std::set<std::string> kStages = {"none", "staging", "production", "archived", "rejected"};
  if (!kStages.count(stage))
    throw UsageError("--stage wants none, staging, production, archived or rejected, not '" + stage + "'");
  MR_ASSIGN_OR_RETURN(auto j, client.GetJson("/api/v1/models/" + UrlComponent(model) + "/versions"));
  std::string digest;
  int64_t best = 0;
  for (const auto& v : j["versions"])
    if (v.value("stage", "") == stage && v.value("version", int64_t{0}) > best) {
      best = v.value("version", int64_t{0});
      digest = v.value("digest", "");
    }
  if (digest.empty()) return Status::NotFound("no version of " + model + " is in stage " + stage);
  return digest;
}

int CmdPull(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--stage"}), GlobalBoolFlags());
  const auto stage = args.Get("--stage");
  args.ExpectPositional(stage ? 2 : 3, stage ? 2 : 3);
  const std::string model = args.Pos(0, "MODEL");
  const std::string dest = args.Pos(stage ? 1 : 2, "DEST");
  TransferProgress progress;
  auto client = MakeClient(args, &progress);
  if (!client.ok()) return Fail(client.status());
  std::string ref;
  if (stage) {
    auto d = VersionInStage(**client, model, *stage);
    if (!d.ok()) return Fail(d.status());
    ref = *d;
  } else {
    ref = args.Pos(1, "VERSION");
  }
  auto out = [&] {
    ProgressLine line(&progress, "received", WantJson(args));
    return (*client)->Pull(model, ref, dest);
  }();
  if (!out.ok()) return Fail(out.status());
  if (WantJson(args)) {
    PrintJson({{"model", model}, {"version", out->version}, {"digest", out->digest}, {"dest", dest},
               {"files", out->stats.files}, {"bytes", out->stats.bytes_total},
               {"bytes_downloaded", out->stats.bytes_downloaded}, {"bytes_reused", out->stats.bytes_reused},
               {"verified", true}});
  } else {
    std::cout << "pulled " << model << " version " << out->version << " " << TerminalSafe(out->digest) << " into " << dest << " ("
              << Count(out->stats.files, "file") << ", " << HumanBytes(out->stats.bytes_total) << ", all verified)\n";
    if (out->stats.bytes_reused > 0)
      std::cerr << "  " << HumanBytes(out->stats.bytes_reused) << " kept from an interrupted pull into " << dest
                << ", " << HumanBytes(out->stats.bytes_downloaded) << " downloaded\n";
  }
  return kExitOk;
}

int CmdWhoami(const std::vector<std::string>& argv) {
  Args args = ClientArgs(argv);
  args.ExpectPositional(0, 0);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto j = (*client)->GetJson("/api/v1/whoami");
  if (!j.ok()) return Fail(j.status());
  if (WantJson(args)) PrintJson(*j);
  else std::cout << Str(*j, "name") << " (" << Str(*j, "role") << ")\n";
  return kExitOk;
}

}  // namespace modelreg::cli
