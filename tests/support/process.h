// Running the real binaries from tests: synchronous runs with captured
// output, and background processes that can be signalled.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace modelreg::testing {

struct RunResult {
  int exit_code = -1;  // 128+signal if killed
  std::string out;
  std::string err;
};

// Runs argv[0] with args, extra environment, and optional stdin text.
RunResult Run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
              const std::string& stdin_text = "");

// Runs the modelreg CLI.
RunResult Modelreg(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

class Process {
 public:
  // Starts in the background; stderr (and stdout) go to `log_path`, which
  // exists (created or appended to) when this returns.
  Process(const std::vector<std::string>& argv, const std::string& log_path,
          const std::map<std::string, std::string>& env = {});
  ~Process();  // SIGKILL if still running
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for exit; returns exit code (128+signal if killed), or -1 on timeout.
  int Wait(double timeout_s = 30);
  bool running();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace modelreg::testing
