#include "connection.h"

#include <cstdlib>

#include "auth/token.h"
#include "config_file.h"
#include "core/file_util.h"
#include "net/address.h"

namespace modelreg::cli {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Two spellings of one registry compare equal ("http://h:80/" and "http://h").
std::string SameRegistryKey(const std::string& url) {
  auto n = net::NormalizeRegistryUrl(url);
  return n.ok() ? *n : url;
}

}  // namespace

Result<Connection> ResolveConnection(const Args& args) {
  Connection c;
  MR_ASSIGN_OR_RETURN(CliConfig config, LoadConfig(ConfigPath()));
  const Context* ctx = nullptr;
  if (auto name = args.Get("--context")) {
    auto it = config.contexts.find(*name);
    if (it == config.contexts.end())
      return Status::NotFound("no context '" + *name +
                              "' (`modelreg context list` shows them; `modelreg login URL --context " + *name +
                              "` adds it)");
    ctx = &it->second;
    c.context = *name;
  } else if (auto it = config.contexts.find(config.current); it != config.contexts.end()) {
    ctx = &it->second;
    c.context = config.current;
  }

  const std::string env_url = Env("MODELREG_URL");
  if (auto flag = args.Get("--registry")) c.url = *flag;
  else if (!env_url.empty()) c.url = env_url;
  else if (ctx) c.url = ctx->registry;
  else c.url = "http://127.0.0.1:8080";
  // The context's token and CA go only to its own registry.
  if (ctx && SameRegistryKey(c.url) != SameRegistryKey(ctx->registry)) {
    ctx = nullptr;
    c.context.clear();
  }

  if (args.Has("--token") && args.Has("--token-file"))
    return Status::InvalidArgument("--token and --token-file: give one");
  std::string raw, source;
  if (auto t = args.Get("--token")) {
    raw = *t;
    source = "--token";
  } else if (auto f = args.Get("--token-file")) {
    MR_ASSIGN_OR_RETURN(raw, ReadSmallFile(*f, 1 << 16));
    source = "--token-file " + *f;
  } else if (const char* env = std::getenv("MODELREG_TOKEN"); env && *env) {
    raw = env;
    source = "MODELREG_TOKEN";
  } else if (ctx) {
    raw = ctx->token;
    source = "the token of context '" + c.context + "'";
  }
  MR_ASSIGN_OR_RETURN(c.token, TokenFromUser(raw, source));
  c.ca_file = args.GetOr("--ca", ctx ? ctx->ca_file : "");
  return c;
}

}  // namespace modelreg::cli
