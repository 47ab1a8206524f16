// `modelreg serve --blobs oci+http://...` against a real docker-registry
// started by the test (tests/support/oci_registry.h): register and pull
// through it, `skopeo copy` of the bundle out of the backing registry, wrong
// bytes in the registry's storage failing the pull, the registry down
// answering 503 with Retry-After, and `admin fsck --blobs`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/oci_registry.h"
#include "support/process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace modelreg::testing {
namespace {

using json = nlohmann::json;

TEST_CASE("serve --blobs oci: register, pull, skopeo copy, corruption, backend down, fsck", "[e2e][oci]") {
  if (!OciRegistry::Available()) {
    WARN("SKIPPED: " << OciRegistry::kBinary << " is not installed (scripts/test installs it)");
    return;
  }
  OciRegistry reg;
  TempDir t;
  ServerProcess server(t / "data", {"--blobs", reg.blobs_url("team/models")});
  auto env = server.Env(server.admin_token());
  WriteFile(t / "src/d/small.txt", "small file\n");
  WriteRandomFile(t / "src/d/weights.bin", 5 << 20, 7);  // through an upload session
  auto r = Modelreg({"register", "churn", t / "src", "--json"}, env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string digest = json::parse(r.out)["digest"];

  auto pull = Modelreg({"pull", "churn", "1", t / "out"}, env);
  INFO(pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(ReadFile(t / "out/d/weights.bin") == ReadFile(t / "src/d/weights.bin"));

  // Nothing is kept under DATA/blobs: the bytes are in the registry.
  CHECK(Run({"find", server.data_dir() + "/blobs", "-type", "f"}).out.empty());

  SECTION("skopeo copies the bundle out of the backing registry, by tag and by digest") {
    if (::access("/usr/bin/skopeo", X_OK) != 0) {
      WARN("SKIPPED: skopeo is not installed (scripts/test installs it)");
      return;
    }
    for (const std::string& ref : {std::string(":1"), "@" + digest}) {
      const std::string dest = t / ("skopeo" + std::to_string(ref.size()));
      auto s = Run({"skopeo", "copy", "--src-tls-verify=false",
                    "docker://" + reg.host_port() + "/team/models/churn" + ref, "dir:" + dest});
      INFO(s.err);
      REQUIRE(s.exit_code == 0);
      auto m = json::parse(ReadFile(dest + "/manifest.json"));
      CHECK(m["config"]["mediaType"] == "application/vnd.modelreg.lineage.v1+json");
      for (const auto& l : m["layers"]) {
        const std::string d = l["digest"];
        if (l["annotations"]["org.opencontainers.image.title"] == "d/weights.bin")
          CHECK(ReadFile(dest + "/" + d.substr(7)) == ReadFile(t / "src/d/weights.bin"));
      }
    }
  }

  SECTION("wrong bytes in the registry fail the pull; fsck names the blob") {
    const std::string weights = ReadFile(t / "src/d/weights.bin");
    auto sha = Run({"sha256sum", t / "src/d/weights.bin"});
    const std::string wd = "sha256:" + sha.out.substr(0, 64);
    {
      std::fstream f(reg.BlobDataPath(wd), std::ios::in | std::ios::out | std::ios::binary);
      REQUIRE(f.good());
      f.seekp(4096);
      f.put(static_cast<char>(weights[4096] ^ 1));
    }
    auto bad = Modelreg({"pull", "churn", "1", t / "out2"}, env);
    CHECK(bad.exit_code != 0);
    CHECK_FALSE(std::ifstream(t / "out2/d/weights.bin").good());
    auto fsck =
        Modelreg({"admin", "fsck", "--data", server.data_dir(), "--blobs", reg.blobs_url("team/models"), "--json"});
    CHECK(fsck.exit_code != 0);
    CHECK(fsck.out.find(wd + " is corrupt") != std::string::npos);
    // Without --blobs: serve recorded the blob registry in DATA/replica.json.
    auto recorded = Modelreg({"admin", "fsck", "--data", server.data_dir(), "--json"});
    INFO(recorded.out << recorded.err);
    CHECK(recorded.exit_code != 0);
    CHECK(recorded.out.find(wd + " is corrupt") != std::string::npos);
  }

  SECTION("the registry down: 503 with Retry-After, readyz fails; back: fsck clean") {
    reg.Stop();
    auto head = Run({"curl", "-s", "-o", "/dev/null", "-D", "-", "-H", "Authorization: Bearer " + server.admin_token(),
                     server.url() + "/api/v1/models/churn/versions/1/manifest"});
    CHECK(head.out.find(" 503") != std::string::npos);
    CHECK(head.out.find("Retry-After:") != std::string::npos);
    auto up = Run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-d", "", "-H",
                   "Authorization: Bearer " + server.admin_token(), server.url() + "/api/v1/blobs/uploads"});
    CHECK(up.out == "503");
    auto ready = Run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                      "Authorization: Bearer " + server.admin_token(), server.url() + "/readyz"});
    CHECK(ready.out == "503");
    reg.Start();
    auto fsck = Modelreg({"admin", "fsck", "--data", server.data_dir(), "--blobs", reg.blobs_url("team/models")});
    INFO(fsck.out << fsck.err);
    CHECK(fsck.exit_code == 0);
  }
}

TEST_CASE("serve --blobs oci: an upload begun by a killed server is finished by the next one", "[e2e][oci]") {
  if (!OciRegistry::Available()) {
    WARN("SKIPPED: " << OciRegistry::kBinary << " is not installed (scripts/test installs it)");
    return;
  }
  OciRegistry reg;
  TempDir t;
  ServerProcess server(t / "data", {"--blobs", reg.blobs_url()});
  const std::string auth = "Authorization: Bearer " + server.admin_token();
  WriteRandomFile(t / "blob", 3 << 20, 11);
  const std::string bytes = ReadFile(t / "blob");
  const size_t half = 1 << 20;
  WriteFile(t / "first", bytes.substr(0, half));
  WriteFile(t / "rest", bytes.substr(half));
  const std::string digest = "sha256:" + Run({"sha256sum", t / "blob"}).out.substr(0, 64);
  auto start = Run({"curl", "-s", "-X", "POST", "-d", "", "-H", auth, server.url() + "/api/v1/blobs/uploads"});
  const std::string id = json::parse(start.out)["upload"];
  auto patch = Run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PATCH", "-H", auth, "-H",
                    "Content-Range: 0-" + std::to_string(half - 1), "-H", "Content-Type: application/octet-stream",
                    "--data-binary", "@" + t / "first", server.url() + "/api/v1/blobs/uploads/" + id});
  REQUIRE(patch.out == "202");
  // The process that saw the first bytes dies; the next one (a replica that
  // never saw them) continues from the state kept in the registry.
  server.Kill();
  server.Start();
  auto offset =
      Run({"curl", "-s", "-o", "/dev/null", "-D", "-", "-H", auth, server.url() + "/api/v1/blobs/uploads/" + id});
  CHECK(offset.out.find("Upload-Offset: " + std::to_string(half)) != std::string::npos);
  auto rest = Run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", auth, "-H",
                   "Content-Range: " + std::to_string(half) + "-" + std::to_string(bytes.size() - 1), "-H",
                   "Content-Type: application/octet-stream", "--data-binary", "@" + t / "rest",
                   server.url() + "/api/v1/blobs/uploads/" + id + "?digest=" + digest});
  CHECK(rest.out == "201");
  auto back =
      Run({"curl", "-s", "-o", t / "back", "-w", "%{http_code}", "-H", auth, server.url() + "/api/v1/blobs/" + digest});
  CHECK(back.out == "200");
  CHECK(ReadFile(t / "back") == bytes);
}

}  // namespace
}  // namespace modelreg::testing
