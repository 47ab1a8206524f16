// modelreg token create|list|revoke — over REST, or on the data dir directly
// with --data (for the operator on the server host).
#include <iomanip>
#include <regex>

#include "codec/json_codec.h"
#include "common.h"
#include "core/clock.h"
#include "service/registry_service.h"
#include "table.h"

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
    throw UsageError("--expires wants a duration (90d, 12h, 30m, 45s) or a time (2026-12-31T00:00:00Z), not '" + v +
                     "'");
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
    TokenRequest req{*name, *role_s, globs, expiry.first, expiry.second};
    auto issued = (*client)->CreateToken(req, &out);
    if (!issued.ok()) return Fail(issued.status());
  }
  if (WantJson(args)) PrintJson(out);
  else std::cout << FieldText(out, "token") << "\n";  // the one line scripts read
  return kExitOk;
}

int List(const Args& args) {
  nlohmann::json tokens = nlohmann::json::array();
  std::vector<TokenRecord> list;
  if (auto data = args.Get("--data")) {
    auto svc = OpenExistingRegistry(*data);
    if (!svc.ok()) return Fail(svc.status());
    auto local = (*svc)->ListTokens(RegistryService::LocalOperator());
    if (!local.ok()) return Fail(local.status());
    list = *local;
    for (const auto& t : list) tokens.push_back(codec::ToJson(t));
  } else {
    auto client = MakeClient(args);
    if (!client.ok()) return Fail(client.status());
    nlohmann::json raw;
    auto remote = (*client)->Tokens(&raw);
    if (!remote.ok()) return Fail(remote.status());
    list = *remote;
    tokens = raw["tokens"];
  }
  if (WantJson(args)) {
    PrintJson({{"tokens", tokens}});
    return kExitOk;
  }
  const int64_t now = NowMs();
  Table t;
  t.Column("NAME", 24).Column("ROLE").Column("STATE").Column("EXPIRES").Column("MODELS");
  for (const auto& tok : list) {
    std::string globs;
    for (const auto& g : tok.model_globs) globs += (globs.empty() ? "" : ",") + TerminalSafe(g);
    const bool expired = tok.expires_at_ms && now >= *tok.expires_at_ms;
    t.Row({TerminalSafe(tok.name), RoleName(tok.role),
           tok.revoked_at_ms ? "revoked"
           : expired         ? "expired"
                             : "active",
           tok.expires_at_ms ? FormatIsoTime(*tok.expires_at_ms) : "never", globs.empty() ? "*" : globs});
  }
  t.Print(std::cout, false);
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
    Status st = (*client)->RevokeToken(name);
    if (!st.ok()) return Fail(st);
  }
  if (!WantJson(args)) std::cout << "revoked token " << name << "\n";
  else PrintJson({{"revoked", name}});
  return kExitOk;
}

}  // namespace

int CmdToken(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--role", "--name", "--models", "--data", "--expires"}),
            GlobalBoolFlags());
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
