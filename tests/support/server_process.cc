#include "support/server_process.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "support/pg_test_db.h"

namespace modelreg::testing {

ServerProcess::ServerProcess(std::string data_dir, std::vector<std::string> extra_flags,
                             std::vector<std::string> prefix)
    : extra_flags_(std::move(extra_flags)), prefix_(std::move(prefix)) {
  if (data_dir.empty()) {
    own_dir_ = std::make_unique<TempDir>();
    data_dir = own_dir_->path() + "/data";
  }
  data_dir_ = data_dir;
  Start();
}

ServerProcess::~ServerProcess() {
  if (proc_ && proc_->running()) Stop();
}

void ServerProcess::Start() {
  std::filesystem::create_directories(data_dir_);
  std::filesystem::remove(data_dir_ + "/serve.url");
  std::vector<std::string> argv = prefix_;
  for (const char* a : {MODELREG_BIN, "serve"}) argv.push_back(a);
  std::vector<std::string> rest = {"--data", data_dir_, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), rest.begin(), rest.end());
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  // The PostgreSQL run (support/pg_test_db.h): a database of this server's
  // own, the same one again when it restarts on the same directory.
  if (TestPostgresCluster() && std::find(extra_flags_.begin(), extra_flags_.end(), "--db") == extra_flags_.end()) {
    if (db_url_.empty() && std::filesystem::exists(data_dir_ + "/replica.json"))
      db_url_ = nlohmann::json::parse(ReadFile(data_dir_ + "/replica.json")).value("db", "");
    if (db_url_.empty()) db_url_ = NewTestDatabase();
    argv.push_back("--db");
    argv.push_back(db_url_);
  }
  // serve's default write mode (auto) writes 2 x 32 MiB twice to time the
  // disk at every start; the suite starts ~170 servers, so they use direct
  // I/O, the old default, unless a test asks for a mode (flags win over the
  // environment; tests/api/register_pull_test.cc covers auto).
  std::map<std::string, std::string> env;
  if (!std::getenv("MODELREG_WRITE_MODE")) env["MODELREG_WRITE_MODE"] = "direct";
  proc_ = std::make_unique<Process>(argv, data_dir_ + "/../serve.log", env);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);  // a loaded machine
  while (!std::filesystem::exists(data_dir_ + "/serve.url")) {
    if (!proc_->running()) throw std::runtime_error("modelreg serve exited early:\n" + log());
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("modelreg serve did not start:\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  url_ = ReadFile(data_dir_ + "/serve.url");
  while (!url_.empty() && (url_.back() == '\n' || url_.back() == '\r')) url_.pop_back();
  // A data dir restored from a backup has tokens but no admin.token file.
  admin_token_ = std::filesystem::exists(data_dir_ + "/admin.token") ? ReadFile(data_dir_ + "/admin.token") : "";
  while (!admin_token_.empty() && admin_token_.back() == '\n') admin_token_.pop_back();
}

int ServerProcess::Stop() {
  if (!proc_) return -1;
  proc_->Signal(SIGTERM);
  int rc = proc_->Wait(30);
  return rc;
}

void ServerProcess::Kill() {
  if (!proc_) return;
  proc_->Signal(SIGKILL);
  proc_->Wait(10);
}

std::string ServerProcess::log() const {
  try {
    return ReadFile(data_dir_ + "/../serve.log");
  } catch (...) { return ""; }
}

size_t ServerProcess::RouteCount(const std::string& route, size_t expected) const {
  const std::string needle = "\"route\":\"" + route + "\"";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    const std::string text = log();
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    if (n >= expected || std::chrono::steady_clock::now() > deadline) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ServerProcess::CreateToken(const std::string& name, const std::string& role,
                                       const std::vector<std::string>& globs) {
  std::vector<std::string> args = {"token", "create", "--data", data_dir_, "--role", role, "--name", name};
  for (const auto& g : globs) {
    args.push_back("--models");
    args.push_back(g);
  }
  RunResult r = Modelreg(args);
  if (r.exit_code != 0) throw std::runtime_error("token create failed: " + r.err);
  std::string t = r.out;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

std::map<std::string, std::string> ServerProcess::Env(const std::string& token) const {
  return {{"MODELREG_URL", url_}, {"MODELREG_TOKEN", token}};
}

std::vector<std::string> AgentCommand(const std::string& registry, const std::string& token, const std::string& root,
                                      const std::string& trust_key, const std::string& id) {
  const std::pair<std::string, std::string> flags[] = {
      {"--registry", registry},   {"--token", token}, {"--model", "churn"}, {"--root", root},
      {"--trust-key", trust_key}, {"--id", id},       {"--interval", "1"}};
  std::vector<std::string> argv = {MODELREG_AGENT_BIN};
  for (const auto& [flag, value] : flags) argv.insert(argv.end(), {flag, value});
  return argv;
}

}  // namespace modelreg::testing
