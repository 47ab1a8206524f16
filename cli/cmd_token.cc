// modelreg token create|list|revoke — over REST, or on the data dir directly
// with --data (for the operator on the server host).
#include <iomanip>
#include <regex>

#include "codec/json_codec.h"
#include "core/clock.h"

#include "common.h"
#include "service/registry_service.h"

namespace modelreg::cli {
namespace {

// --expires: a duration from now (90d, 12h, 30m, 45s) or a TIME. Returns
// {seconds from now, 0} or {0, epoch ms}.
std::pair<int64_t, int64_t> ParseExpiry(const std::string& v) {
  static const std::regex duration(R"(([0-9]{1,9})([smhd]))");
  std::smatch m;
  if (std::regex_match(v, m, duration)) {
    const int64_t n = std::stoll(m[1]);
    const int64_t unit = m[2] == "s" ? 1 : m[2] == "m" ? 60 : m[2] == "h" ? 3600 : 86400;
    if (n <= 0) throw UsageError("--expires wants a duration > 0");
    return {n * unit, 0};
  }
  auto at = ParseTimeMs(v);
  if (!at.ok())
    throw UsageError("--expires wants a duration (90d, 12h, 30m, 45s) or a time (2026-12-31T00:00:00Z), not '" +
                     v + "'");
  return {0, *at};
}

int Create(const Args& args) {
  auto role_s = args.Get("--role");
  auto name = args.Get("--name");
  if (!role_s || !name) throw UsageError("token create needs --role ROLE and --name NAME");
  const Role role = OrUsageError(ParseRole(*role_s));
  std::vector<std::string> globs = args.GetAll("--models");
  std::pair<int64_t, int64_t> expiry{0, 0};
  if (auto e = args.Get("--expires")) expiry = ParseExpiry(*e);
  nlohmann::json out;
  if (auto data = args.Get("--data")) {
    auto svc = OpenExistingRegistry(*data);
    if (!svc.ok()) return Fail(svc.status());
    std::optional<int64_t> expires;
    if (expiry.first > 0) expires = NowMs() + expiry.first * 1000;
    if (expiry.second > 0) expires = expiry.second;
    auto c = (*svc)->CreateToken(RegistryService::LocalOperator(), *name, role, globs, expires);
    if (!c.ok()) return Fail(c.status());
    out = codec::ToJson(c->record);
    out["token"] = c->token;
  } else {
    auto client = MakeClient(args);
    if (!client.ok()) return Fail(client.status());
    nlohmann::json body = {{"name", *name}, {"role", *role_s}, {"models", globs}};
    if (expiry.first > 0) body["expires_in_s"] = expiry.first;
    if (expiry.second > 0) body["expires_at"] = expiry.second;
    auto j = (*client)->SendJson("POST", "/api/v1/tokens", body);
    if (!j.ok()) return Fail(j.status());
    out = *j;
  }
  if (WantJson(args)) PrintJson(out);
  else std::cout << FieldText(out, "token") << "\n";
  return kExitOk;
}

int List(const Args& args) {
  nlohmann::json tokens = nlohmann::json::array();
  if (auto data = args.Get("--data")) {
    auto svc = OpenExistingRegistry(*data);
    if (!svc.ok()) return Fail(svc.status());
    auto list = (*svc)->ListTokens(RegistryService::LocalOperator());
    if (!list.ok()) return Fail(list.status());
    for (const auto& t : *list) tokens.push_back(codec::ToJson(t));
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
  std::cout << std::left << std::setw(24) << "NAME" << std::setw(10) << "ROLE" << std::setw(10) << "STATE"
            << std::setw(26) << "EXPIRES" << "MODELS\n";
  for (const auto& t : tokens) {
    std::string globs;
    for (const auto& g : t["models"]) globs += (globs.empty() ? "" : ",") + JsonText(g);
    const bool expired = t.value("expired", false);
    const std::string expires = t.contains("expires_at") && t["expires_at"].is_string()
                                    ? JsonText(t["expires_at"])
                                    : "never";
    std::cout << std::setw(24) << JsonText(t["name"]) << std::setw(10)
              << JsonText(t["role"]) << std::setw(10)
              << (t["revoked"].get<bool>() ? "revoked" : expired ? "expired" : "active") << std::setw(26)
              << expires << (globs.empty() ? "*" : globs) << "\n";
  }
  return kExitOk;
}

int Revoke(const Args& args) {
  const std::string& name = args.Pos(1, "token NAME");
  if (auto data = args.Get("--data")) {
    auto svc = OpenExistingRegistry(*data);
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
  Args args(argv, Merge(GlobalValueFlags(), {"--role", "--name", "--models", "--data", "--expires"}), GlobalBoolFlags());
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
