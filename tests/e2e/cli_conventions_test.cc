// The CLI's conventions (docs/cli.md): global options before or after the
// command, --token-file, login and contexts, version names, did-you-mean,
// completion scripts, --version and the man pages.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using namespace modelreg::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// No registry, token or configuration from the environment the tests run in.
std::map<std::string, std::string> Clean(const TempDir& t, std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env = {
      {"MODELREG_URL", ""}, {"MODELREG_TOKEN", ""}, {"MODELREG_CONFIG", ""}, {"XDG_CONFIG_HOME", t / "config"}};
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

json Json(const RunResult& r) {
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::string Register(const ServerProcess& server, const TempDir& t, const std::string& model, int n) {
  const std::string dir = t / ("bundle" + std::to_string(n));
  WriteFile(dir + "/w.bin", "weights " + std::to_string(n));
  auto r = Modelreg({"register", model, dir, "--json"}, server.Env(server.admin_token()));
  return Json(r)["digest"].get<std::string>();
}

}  // namespace

TEST_CASE("global options go before or after the command, --token-file keeps the token off the command line") {
  ServerProcess server;
  TempDir t;
  Register(server, t, "churn", 1);
  const std::string token_file = t / "token";
  WriteFile(token_file, server.admin_token() + "\n");
  const auto env = Clean(t);
  auto before = Modelreg({"--json", "--registry", server.url(), "--token-file", token_file, "models"}, env);
  CHECK(Json(before)["models"][0]["name"] == "churn");
  auto after = Modelreg({"versions", "churn", "--registry=" + server.url(), "--token-file", token_file, "--json"}, env);
  CHECK(Json(after)["versions"].size() == 1);
  auto mixed = Modelreg({"--registry", server.url(), "versions", "churn", "--token-file=" + token_file}, env);
  CHECK(mixed.exit_code == 0);
  CHECK(mixed.out.find("admin") != std::string::npos);  // who registered version 1

  auto both = Modelreg(
      {"models", "--token", server.admin_token(), "--token-file", token_file, "--registry", server.url()}, env);
  CHECK(both.exit_code != 0);
  CHECK(both.err.find("--token and --token-file: give one") != std::string::npos);
  auto missing = Modelreg({"--registry", server.url(), "--token-file", t / "absent", "models"}, env);
  CHECK(missing.exit_code == 3);  // not found (docs/cli.md, exit status)
  CHECK(missing.err.find("absent") != std::string::npos);
}

TEST_CASE("login stores the registry and token (mode 0600) as contexts, flags > env > config") {
  ServerProcess server;
  TempDir t;
  const std::string trainer = server.CreateToken("trainer", "trainer");
  WriteFile(t / "admin.token", server.admin_token());
  WriteFile(t / "trainer.token", trainer);
  const auto env = Clean(t);
  const std::string config = t / "config/modelreg/config";

  CHECK(Modelreg({"login", server.url(), "--token-file", t / "admin.token"}, env).exit_code == 0);
  struct stat st {};
  REQUIRE(::stat(config.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(ReadFile(config).find(server.admin_token()) != std::string::npos);
  CHECK(Json(Modelreg({"whoami", "--json"}, env))["name"] == "admin");

  // A second context from stdin becomes the current one.
  auto second = Run({MODELREG_BIN, "login", server.url(), "--context", "ci"}, env, trainer + "\n");
  INFO(second.err);
  CHECK(second.exit_code == 0);
  CHECK(second.out.find("context 'ci' is current") != std::string::npos);
  CHECK(Json(Modelreg({"whoami", "--json"}, env))["name"] == "trainer");
  auto list = Modelreg({"context", "list"}, env);
  CHECK(list.out == "* ci  " + server.url() + "\n  default  " + server.url() + "\n");
  CHECK(Json(Modelreg({"--context", "default", "whoami", "--json"}, env))["name"] == "admin");
  CHECK(Modelreg({"context", "use", "default"}, env).exit_code == 0);
  CHECK(Json(Modelreg({"whoami", "--json"}, env))["name"] == "admin");

  // The environment overrides the configuration, a flag the environment.
  auto env_token = Clean(t, {{"MODELREG_TOKEN", trainer}});
  CHECK(Json(Modelreg({"whoami", "--json"}, env_token))["name"] == "trainer");
  CHECK(Json(Modelreg({"whoami", "--json", "--token-file", t / "admin.token"}, env_token))["name"] == "admin");
  // A context's token is not sent to another registry.
  auto elsewhere = Modelreg({"whoami", "--registry", "http://127.0.0.1:1"}, env);
  CHECK(elsewhere.exit_code == 5);  // unauthorized: no token
  CHECK(elsewhere.err.find("no token") != std::string::npos);

  // Refusals: a wrong token is not stored, an unknown context is named.
  auto bad = Run({MODELREG_BIN, "login", server.url(), "--context", "bad"}, env, "mr_" + std::string(43, 'x') + "\n");
  CHECK(bad.exit_code == 5);  // the registry refused the token
  CHECK(ReadFile(config).find("\"bad\"") == std::string::npos);
  auto unknown = Modelreg({"context", "use", "nope"}, env);
  CHECK(unknown.exit_code == 3);
  CHECK(unknown.err.find("no context 'nope' (there are: ci, default)") != std::string::npos);
  CHECK(Modelreg({"context", "remove", "ci"}, env).exit_code == 0);
  CHECK(Modelreg({"context", "list"}, env).out == "* default  " + server.url() + "\n");
}

TEST_CASE("the CLI passes version names through: latest, a 12-hex prefix, a stage") {
  ServerProcess server;
  TempDir t;
  Register(server, t, "churn", 1);
  const std::string d2 = Register(server, t, "churn", 2);
  const auto env = server.Env(server.admin_token());
  CHECK(Json(Modelreg({"show", "churn", "latest", "--json"}, env))["version"] == 2);
  auto staged = Modelreg({"promote", "churn", d2.substr(7, 12), "--to", "staging"}, env);
  INFO(staged.err);
  CHECK(staged.exit_code == 0);
  auto pulled = Modelreg({"pull", "churn", "staging", t / "dest", "--json"}, env);
  CHECK(Json(pulled)["version"] == 2);
  CHECK(ReadFile(t / "dest/w.bin") == "weights 2");
}

TEST_CASE("a mistyped command or flag gets a suggestion and a one-line hint, not the usage") {
  TempDir t;
  const auto env = Clean(t);
  for (const auto& [args, expect] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"promot", "churn"}, "modelreg: unknown command 'promot' (did you mean promote?)\n"},
           {{"--jsn", "models"}, "modelreg: unknown option --jsn (did you mean --json?)\n"},
           {{"versions", "churn", "--regstry", "x"},
            "modelreg versions: unknown option --regstry (did you mean --registry?)\n"},
           {{"context", "lst"}, "modelreg context: unknown subcommand 'lst' (did you mean list?)\n"}}) {
    auto r = Modelreg(args, env);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind(expect, 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 2);
    CHECK(r.err.find("--help' for") != std::string::npos);
  }
  auto agent = Run({MODELREG_AGENT_BIN, "--modle", "m"}, env);
  CHECK(agent.exit_code == 2);
  CHECK(agent.err ==
        "modelreg-agent: unknown option --modle (did you mean --model?)\n"
        "Run 'modelreg-agent --help' for the options.\n");
}

TEST_CASE("completion scripts: bash parses and completes commands, subcommands and flags, zsh and fish print") {
  TempDir t;
  auto bash = Modelreg({"completion", "bash"});
  REQUIRE(bash.exit_code == 0);
  WriteFile(t / "modelreg.bash", bash.out);
  CHECK(Run({"bash", "-n", t / "modelreg.bash"}).exit_code == 0);
  auto complete = [&](const std::string& line) {
    const std::string script = "source " + t / "modelreg.bash" + "\ncomplete -p modelreg\nCOMP_WORDS=(" + line +
                               ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_modelreg\necho \"${COMPREPLY[*]}\"\n";
    WriteFile(t / "run.bash", script);
    auto r = Run({"bash", t / "run.bash"});
    INFO(line << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("complete -o default -F _modelreg modelreg\n", 0) == 0);
    return r.out.substr(r.out.find('\n') + 1);
  };
  CHECK(complete("modelreg pro") == "promote provenance\n");
  CHECK(complete("modelreg --json ver") == "versions\n");
  CHECK(complete("modelreg token cr") == "create\n");
  CHECK(complete("modelreg promote churn 1 --t") == "--to --token-file --token\n");
  CHECK(complete("modelreg completion ''") == "bash zsh fish\n");
  CHECK(complete("modelreg --registry pr") == "\n");  // a value: files, by -o default

  auto zsh = Modelreg({"completion", "zsh"});
  CHECK(zsh.exit_code == 0);
  CHECK(zsh.out.rfind("#compdef modelreg\n", 0) == 0);
  CHECK(zsh.out.find("'promote:Moves a version to staging or production.") != std::string::npos);
  auto fish = Modelreg({"completion", "fish"});
  CHECK(fish.exit_code == 0);
  CHECK(fish.out.find("complete -c modelreg -f -n __fish_use_subcommand -a promote") != std::string::npos);
  CHECK(fish.out.find("complete -c modelreg -n '__fish_seen_subcommand_from promote' -l to") != std::string::npos);
  auto bad = Modelreg({"completion", "bsh"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("did you mean bash?") != std::string::npos);
}

TEST_CASE("modelreg and modelreg-agent --version name the version, the git commit built from and the build type") {
  const std::regex line(R"((modelreg|modelreg-agent) \d+\.\d+\.\d+ \(commit ([0-9a-f]{40}(-dirty)?|unknown), \w+\)\n)");
  auto cli = Modelreg({"--version"});
  CHECK(cli.exit_code == 0);
  CHECK(std::regex_match(cli.out, line));
  auto agent = Run({MODELREG_AGENT_BIN, "--version"});
  CHECK(agent.exit_code == 0);
  CHECK(std::regex_match(agent.out, line));
  CHECK(agent.out.substr(agent.out.find(' ')) == cli.out.substr(cli.out.find(' ')));

  // Outside a git checkout the commit is "unknown" (no network, no error).
  TempDir t;
  const std::string out = t / "build_info.cc";
  auto gen = Run({"cmake", "-DSRC_DIR=" + t.path(), "-DOUT=" + out, "-DVERSION=9.9.9", "-DBUILD_TYPE=Debug", "-P",
                  std::string(MODELREG_SOURCE_DIR) + "/cmake/write_build_info.cmake"});
  INFO(gen.err);
  CHECK(gen.exit_code == 0);
  CHECK(ReadFile(out).find("{\"9.9.9\", \"unknown\", \"Debug\"}") != std::string::npos);
}

TEST_CASE("man pages are built from the help text, name every command, render, and install") {
  const fs::path build = fs::path(MODELREG_BIN).parent_path().parent_path();
  auto man = Modelreg({"help", "--man"});
  REQUIRE(man.exit_code == 0);
  CHECK(ReadFile(build / "man/modelreg.1") == man.out);
  auto top = Modelreg({"--help"});
  std::regex usage_line(R"(\n  modelreg ([a-z]+))");
  int commands = 0;
  for (auto it = std::sregex_iterator(top.out.begin(), top.out.end(), usage_line); it != std::sregex_iterator(); ++it) {
    INFO((*it)[1]);
    CHECK(man.out.find(".SS \"modelreg " + (*it)[1].str() + "\"\n") != std::string::npos);
    ++commands;
  }
  CHECK(commands >= 25);
  CHECK(ReadFile(build / "man/modelreg-agent.1").find("\\-\\-trust\\-key") != std::string::npos);

  TempDir t;
  auto rendered = Run({"groff", "-man", "-Tutf8", "-ww", "-z", (build / "man/modelreg.1").string()});
  CHECK(rendered.exit_code == 0);
  CHECK(rendered.err == "");  // no roff warnings
  auto installed = Run({"cmake", "--install", build.string(), "--prefix", t / "prefix"});
  INFO(installed.err);
  CHECK(installed.exit_code == 0);
  CHECK(fs::exists(t / "prefix/share/man/man1/modelreg.1"));
  CHECK(fs::exists(t / "prefix/share/man/man1/modelreg-agent.1"));
  CHECK(fs::exists(t / "prefix/bin/modelreg"));
}

TEST_CASE("modelreg-agent takes the same parser: --token-file, one token source, values checked whole") {
  TempDir t;
  const auto env = Clean(t);
  WriteFile(t / "token", "mr_" + std::string(43, 'x') + "\n");
  const std::vector<std::string> base = {MODELREG_AGENT_BIN, "--model",        "m",     "--root", t / "root",
                                         "--trust-key",      t / "absent.pem", "--once"};
  auto run = [&](std::vector<std::string> extra) {
    auto argv = base;
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Run(argv, env);
  };
  // The token file is read (the trust key is what fails next: exit 1, not a usage error).
  auto with_file = run({"--token-file", t / "token"});
  CHECK(with_file.exit_code == 1);
  CHECK(with_file.err.find("absent.pem") != std::string::npos);
  auto both = run({"--token-file", t / "token", "--token", "mr_" + std::string(43, 'y')});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("--token and --token-file: give one") != std::string::npos);
  auto no_file = run({"--token-file", t / "nope"});
  CHECK(no_file.exit_code == 2);
  CHECK(no_file.err.find(t / "nope") != std::string::npos);
  auto no_token = run({});
  CHECK(no_token.exit_code == 2);
  CHECK(no_token.err.find("--model, --root, --trust-key and a token are required") != std::string::npos);
  auto keep = run({"--token-file", t / "token", "--keep", "3x"});
  CHECK(keep.exit_code == 2);
  CHECK(keep.err.find("--keep") != std::string::npos);
  auto stray = run({"--token-file", t / "token", "extra"});
  CHECK(stray.exit_code == 2);
  CHECK(stray.err.find("unexpected argument 'extra'") != std::string::npos);
  auto help = Run({MODELREG_AGENT_BIN, "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--token-file") != std::string::npos);
}
