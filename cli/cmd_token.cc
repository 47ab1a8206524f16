// modelreg token create|list|revoke — over REST, or on the data dir directly
// with --data (for the operator on the server host).
#include <iomanip>

#include "common.h"
#include "service/registry_service.h"

namespace modelreg::cli {
namespace {

int Create(const Args& args) {
  auto role_s = args.Get("--role");
  auto name = args.Get("--name");
  if (!role_s || !name) throw UsageError("token create needs --role ROLE and --name NAME");
  auto role = ParseRole(*role_s);
  if (!role.ok()) throw UsageError(role.status().message());
  std::vector<std::string> globs = args.GetAll("--models");
  std::string token;
  if (auto data = args.Get("--data")) {
    auto svc = RegistryService::Open(*data);
    if (!svc.ok()) return Fail(svc.status());
    auto c = (*svc)->CreateToken(RegistryService::LocalOperator(), *name, *role, globs);
    if (!c.ok()) return Fail(c.status());
    token = c->token;
  } else {
    auto client = MakeClient(args);
    if (!client.ok()) return Fail(client.status());
    auto j = (*client)->SendJson("POST", "/api/v1/tokens",
                                 {{"name", *name}, {"role", *role_s}, {"models", globs}});
    if (!j.ok()) return Fail(j.status());
    token = j->value("token", "");
  }
  if (WantJson(args)) PrintJson({{"name", *name}, {"role", *role_s}, {"models", globs}, {"token", token}});
  else std::cout << token << "\n";
  return kExitOk;
}

int List(const Args& args) {
  nlohmann::json tokens = nlohmann::json::array();
  if (auto data = args.Get("--data")) {
    auto svc = RegistryService::Open(*data);
    if (!svc.ok()) return Fail(svc.status());
    auto list = (*svc)->ListTokens(RegistryService::LocalOperator());
    if (!list.ok()) return Fail(list.status());
    for (const auto& t : *list)
      tokens.push_back({{"name", t.name}, {"role", RoleName(t.role)}, {"models", t.model_globs},
                        {"created_by", t.created_by}, {"revoked", t.revoked_at_ms.has_value()}});
  } else {
    auto client = MakeClient(args);
    if (!client.ok()) return Fail(client.status());
    auto j = (*client)->GetJson("/api/v1/tokens");
    if (!j.ok()) return Fail(j.status());
    tokens = (*j)["tokens"];
  }
  if (WantJson(args)) {
    PrintJson({{"tokens", tokens}});
    return kExitOk;
  }
  std::cout << std::left << std::setw(24) << "NAME" << std::setw(10) << "ROLE" << std::setw(10)
            << "STATE" << "MODELS\n";
  for (const auto& t : tokens) {
    std::string globs;
    for (const auto& g : t["models"]) globs += (globs.empty() ? "" : ",") + g.get<std::string>();
    std::cout << std::setw(24) << t["name"].get<std::string>() << std::setw(10)
              << t["role"].get<std::string>() << std::setw(10)
              << (t["revoked"].get<bool>() ? "revoked" : "active") << (globs.empty() ? "*" : globs)
              << "\n";
  }
  return kExitOk;
}

int Revoke(const Args& args) {
  const std::string& name = args.Pos(1, "token NAME");
  if (auto data = args.Get("--data")) {
    auto svc = RegistryService::Open(*data);
    if (!svc.ok()) return Fail(svc.status());
    Status st = (*svc)->RevokeToken(RegistryService::LocalOperator(), name);
    if (!st.ok()) return Fail(st);
  } else {
    auto client = MakeClient(args);
    if (!client.ok()) return Fail(client.status());
    Status st = (*client)->Delete("/api/v1/tokens/" + name);
    if (!st.ok()) return Fail(st);
  }
  if (!WantJson(args)) std::cout << "revoked token " << name << "\n";
  else PrintJson({{"revoked", name}});
  return kExitOk;
}

}  // namespace

int CmdToken(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--role", "--name", "--models", "--data"}), GlobalBoolFlags());
  const std::string& sub = args.Pos(0, "subcommand (create, list, revoke)");
  if (sub == "create") {
    args.ExpectPositional(1, 1);
    return Create(args);
  }
  if (sub == "list") {
    args.ExpectPositional(1, 1);
    return List(args);
  }
  if (sub == "revoke") {
    args.ExpectPositional(2, 2);
    return Revoke(args);
  }
  throw UsageError("unknown token subcommand '" + sub + "'");
}

}  // namespace modelreg::cli
