#include "hooks.h"

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace modelreg::agent {

Status RunShell(const std::string& cmd, const std::map<std::string, std::string>& env, double timeout_s) {
  pid_t pid = fork();
  if (pid < 0) return Status::FromErrno("fork", errno);
  if (pid == 0) {
    setpgid(0, 0);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Status::FailedPrecondition("'" + cmd + "' timed out after " + std::to_string(static_cast<int>(timeout_s)) +
                                        " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::OK();
  return Status::FailedPrecondition("'" + cmd + "' failed (" +
                                    (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                                       : "signal " + std::to_string(WTERMSIG(status))) +
                                    ")");
}

Status CheckHealth(const std::string& check, const std::map<std::string, std::string>& env, double timeout_s) {
  if (check.empty()) return Status::OK();
  if (check.rfind("http://", 0) != 0 && check.rfind("https://", 0) != 0) return RunShell(check, env, timeout_s);
  auto scheme_end = check.find("://") + 3;
  auto slash = check.find('/', scheme_end);
  std::string base = check.substr(0, slash), path = slash == std::string::npos ? "/" : check.substr(slash);
  httplib::Client c(base);
  c.set_connection_timeout(1, 0);
  c.set_read_timeout(5, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  std::string last = "no answer";
  for (;;) {
    auto r = c.Get(path);
    if (r && r->status >= 200 && r->status < 300) return Status::OK();
    last = r ? "HTTP " + std::to_string(r->status) : "no answer";
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return Status::FailedPrecondition("health check " + check + " failed: " + last);
}

}  // namespace modelreg::agent
