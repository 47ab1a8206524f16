// `modelreg login` and `modelreg context`: the configuration file's
// contexts (config_file.h, docs/cli.md).
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "auth/token.h"
#include "commands.h"
#include "config_file.h"
#include "core/file_util.h"
#include "net/address.h"

namespace modelreg::cli {

namespace {

// The token for login: a flag, the environment, else stdin (without echo
// on a terminal).
Result<std::string> LoginToken(const Args& args) {
  if (args.Has("--token") && args.Has("--token-file"))
    return Status::InvalidArgument("--token and --token-file: give one");
  if (auto t = args.Get("--token")) return TokenFromUser(*t, "--token");
  if (auto f = args.Get("--token-file")) {
    MR_ASSIGN_OR_RETURN(std::string raw, ReadSmallFile(*f, 1 << 16));
    return TokenFromUser(raw, "--token-file " + *f);
  }
  if (const char* env = std::getenv("MODELREG_TOKEN"); env && *env) return TokenFromUser(env, "MODELREG_TOKEN");
  const bool tty = isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    std::cerr << "Token: " << std::flush;
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~ECHO;
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  MR_ASSIGN_OR_RETURN(std::string token, TokenFromUser(line, "the token read from stdin"));
  if (token.empty()) return Status::InvalidArgument("no token: give --token-file F, set MODELREG_TOKEN or type it");
  return token;
}

int Login(const Args& args) {
  args.ExpectPositional(1, 1);
  const std::string name = args.GetOr("--context", "default");
  if (Status st = CheckContextName(name); !st.ok()) throw UsageError(st.message());
  auto url = net::NormalizeRegistryUrl(args.Pos(0, "URL"));
  if (!url.ok()) throw UsageError("URL: " + url.status().message());
  auto token = LoginToken(args);
  if (!token.ok()) return Fail(token.status());
  if (token->empty()) return Fail(Status::InvalidArgument("the token is empty"));
  ClientOptions o;
  o.url = *url;
  o.token = *token;
  o.ca_file = args.GetOr("--ca", "");
  auto client = RegistryClient::Create(o);
  if (!client.ok()) return Fail(client.status());
  auto who = (*client)->GetJson("/api/v1/whoami");
  if (!who.ok()) return Fail(who.status().WithContext("check the token with " + *url + " (nothing stored)"));
  const std::string path = ConfigPath();
  auto config = LoadConfig(path);
  if (!config.ok()) return Fail(config.status());
  config->contexts[name] = Context{*url, *token, o.ca_file};
  config->current = name;
  if (Status st = SaveConfig(path, *config); !st.ok()) return Fail(st);
  if (WantJson(args)) {
    PrintJson({{"context", name},
               {"registry", *url},
               {"name", who->value("name", "")},
               {"role", who->value("role", "")},
               {"config", path}});
  } else {
    std::cout << "logged in to " << *url << " as " << FieldText(*who, "name") << " (" << FieldText(*who, "role")
              << "); context '" << name << "' is current (" << TerminalSafe(path) << ")\n";
  }
  return kExitOk;
}

}  // namespace

int CmdLogin(const std::vector<std::string>& argv) {
  Args args(argv, {"--context", "--token", "--token-file", "--ca", "--registry"}, {"--json"});
  if (args.Has("--registry")) throw UsageError("the registry is login's URL argument, not --registry");
  return Login(args);
}

int CmdContext(const std::vector<std::string>& argv) {
  Args args(argv, {}, {"--json"});
  const std::string sub = args.Pos(0, "list, use or remove");
  const std::string path = ConfigPath();
  auto config = LoadConfig(path);
  if (!config.ok()) return Fail(config.status());
  if (sub == "list") {
    args.ExpectPositional(1, 1);
    if (WantJson(args)) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& [name, ctx] : config->contexts)
        list.push_back({{"name", name}, {"registry", ctx.registry}, {"current", name == config->current}});
      PrintJson({{"contexts", list}, {"config", path}});
      return kExitOk;
    }
    if (config->contexts.empty()) std::cout << "no contexts (`modelreg login URL` adds one)\n";
    for (const auto& [name, ctx] : config->contexts)
      std::cout << (name == config->current ? "* " : "  ") << TerminalSafe(name) << "  " << TerminalSafe(ctx.registry)
                << "\n";
    return kExitOk;
  }
  if (sub == "use" || sub == "remove") {
    args.ExpectPositional(2, 2);
    const std::string name = args.Pos(1, "NAME");
    if (!config->contexts.count(name)) {
      std::string known;
      for (const auto& [n, c] : config->contexts) known += (known.empty() ? "" : ", ") + n;
      return Fail(Status::NotFound(
          "no context '" + name + "'" +
          (known.empty() ? " (there are none; `modelreg login URL` adds one)" : " (there are: " + known + ")")));
    }
    if (sub == "use") config->current = name;
    else {
      config->contexts.erase(name);
      if (config->current == name) config->current.clear();
    }
    if (Status st = SaveConfig(path, *config); !st.ok()) return Fail(st);
    std::cout << (sub == "use" ? "now using context '" : "removed context '") << TerminalSafe(name) << "'\n";
    return kExitOk;
  }
  std::vector<std::string> subs = {"list", "use", "remove"};
  throw UsageError("unknown subcommand '" + sub + "'" + DidYouMean(sub, subs));
}

}  // namespace modelreg::cli
