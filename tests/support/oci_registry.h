// A real OCI distribution registry (Debian's docker-registry, CNCF
// distribution 2.8) for tests: started on a free loopback port with a temp
// config and filesystem storage in a temp dir, stopped on destruction.
// Deleting is enabled (upload-state manifests are deleted when a session
// ends). Tests that need it skip, saying so, only when the binary is absent
// (scripts/test installs it).
#pragma once

#include <memory>
#include <string>

#include "support/process.h"
#include "support/temp_dir.h"

namespace modelreg::testing {

class OciRegistry {
 public:
  static constexpr const char* kBinary = "/usr/bin/docker-registry";
  static bool Available();

  OciRegistry();  // started and answering GET /v2/
  ~OciRegistry();

  int port() const { return port_; }
  // "127.0.0.1:PORT"
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
  // The --blobs URL for repository prefix `prefix`.
  std::string blobs_url(const std::string& prefix = "mr") const { return "oci+http://" + host_port() + "/" + prefix; }
  // Where the registry keeps a blob's bytes (to tamper with them).
  std::string BlobDataPath(const std::string& digest) const;
  std::string log() const;

  // Stops (SIGTERM, waited for) and starts again on the same port and
  // storage: the backend down, then back.
  void Stop();
  void Start();

 private:
  std::unique_ptr<TempDir> dir_;
  int port_ = 0;
  std::unique_ptr<Process> proc_;
};

}  // namespace modelreg::testing
