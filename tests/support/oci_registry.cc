#include "support/oci_registry.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace modelreg::testing {
namespace {

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("no free loopback port");
  ::close(fd);
  return ntohs(a.sin_port);
}

bool TryConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

}  // namespace

bool OciRegistry::Available() { return ::access(kBinary, X_OK) == 0; }

OciRegistry::OciRegistry() : dir_(std::make_unique<TempDir>()) {
  port_ = FreeLoopbackPort();
  std::ofstream cfg(dir_->path() + "/config.yml");
  cfg << "version: 0.1\n"
         "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
         "storage:\n  filesystem:\n    rootdirectory: "
      << dir_->path()
      << "/storage\n"
         "  delete:\n    enabled: true\n"
         "  maintenance:\n    uploadpurging:\n      enabled: false\n"
         "http:\n  addr: 127.0.0.1:"
      << port_ << "\n  secret: modelreg-test-secret\n";
  cfg.close();
  Start();
}

OciRegistry::~OciRegistry() {
  if (proc_) Stop();
}

void OciRegistry::Start() {
  proc_ = std::make_unique<Process>(std::vector<std::string>{kBinary, "serve", dir_->path() + "/config.yml"},
                                    dir_->path() + "/registry.log");
  // Answering once a connection is accepted (the listener opens last).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (TryConnect(port_)) return;
    if (!proc_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("docker-registry did not start on port " + std::to_string(port_) + ": " + log());
}

void OciRegistry::Stop() {
  if (!proc_) return;
  proc_->Signal(SIGTERM);
  if (proc_->Wait(30) < 0) proc_->Signal(SIGKILL), proc_->Wait(30);
  proc_.reset();
}

std::string OciRegistry::BlobDataPath(const std::string& digest) const {
  const std::string hex = digest.substr(digest.find(':') + 1);
  return dir_->path() + "/storage/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
}

std::string OciRegistry::log() const {
  std::ifstream in(dir_->path() + "/registry.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace modelreg::testing
