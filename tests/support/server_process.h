// A real `modelreg serve` on 127.0.0.1 with an ephemeral port and its own
// data directory, for integration and end-to-end tests.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/temp_dir.h"

namespace modelreg::testing {

class ServerProcess {
 public:
  // Starts a server on `data_dir` (a fresh temp dir if empty) and waits
  // until it listens. Extra flags go to `serve`.
  // `prefix` runs the server under another command (e.g. prlimit).
  explicit ServerProcess(std::string data_dir = "", std::vector<std::string> extra_flags = {},
                         std::vector<std::string> prefix = {});
  ~ServerProcess();

  const std::string& url() const { return url_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& admin_token() const { return admin_token_; }
  std::string log() const;
  // Access-log lines for `route` (e.g. "models.blobs_fetch"). A line is
  // written just after its response is sent, or after the server notices
  // the client gone, so this waits up to 30 s (a loaded machine) for at
  // least `expected` lines, then returns the count (which may differ from
  // `expected`); at once when there are that many.
  size_t RouteCount(const std::string& route, size_t expected) const;
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }

  void Start();
  // SIGTERM and wait; returns the exit code.
  int Stop();
  // SIGKILL, as a crash.
  void Kill();

  // Creates a token with the local --data path; returns the token text.
  std::string CreateToken(const std::string& name, const std::string& role, const std::vector<std::string>& globs = {});
  // Environment for CLI calls as `token`.
  std::map<std::string, std::string> Env(const std::string& token) const;

 private:
  std::unique_ptr<TempDir> own_dir_;
  std::string data_dir_;
  std::vector<std::string> extra_flags_;
  std::vector<std::string> prefix_;
  std::unique_ptr<Process> proc_;
  std::string db_url_;  // the PostgreSQL run's database, "" on SQLite
  std::string url_;
  std::string admin_token_;
};

// The command line of a `modelreg-agent` following model "churn" on
// `registry` as `token`, into `root`, trusting `trust_key`, polling every
// second; the caller appends what its test needs.
std::vector<std::string> AgentCommand(const std::string& registry, const std::string& token, const std::string& root,
                                      const std::string& trust_key, const std::string& id);

}  // namespace modelreg::testing
