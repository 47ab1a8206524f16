// A disk that fails to write back: fdatasync() returns EIO for upload
// files (support/fault_fdatasync.cc, loaded with LD_PRELOAD). The server
// syncs large uploads in the background every 128 MiB as they arrive.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;

TEST_CASE("a disk failing to write back mid-upload: a clear error at once, nothing visible, fine after") {
  TempDir t;
  const std::string data = t / "data";
  WriteRandomFile(t / "big/weights.bin", 300ull << 20, 4);
  const Digest d = HashFile(t / "big/weights.bin")->digest;
  const std::string blob = data + "/blobs/sha256/" + d.shard() + "/" + d.hex();
  {
    ServerProcess server(data, {},
                         {"env", "LD_PRELOAD=" MODELREG_FAULT_FDATASYNC_LIB, "MODELREG_FAULT_FDATASYNC=/uploads/"});
    auto c = Client(server, server.admin_token(), /*retries=*/1);
    auto r = c->Register("m", t / "big", Lineage("m"));
    REQUIRE_FALSE(r.ok());
    INFO(r.status().ToString());
    CHECK(r.status().message().find("Input/output error") != std::string::npos);
    // The answer says which file failed relative to the data directory; the
    // server's own log names it wholly.
    CHECK(r.status().message().find("<data>/uploads/") != std::string::npos);
    CHECK(r.status().message().find(fs::canonical(data).string()) == std::string::npos);
    CHECK_FALSE(fs::exists(blob));
    // The rest of the body, which the server stopped storing, was not read
    // as further requests on the connection (each a 400 "malformed").
    CHECK(server.log().find("malformed") == std::string::npos);
    CHECK(server.RouteCount("uploads.patch", 1) <= 2);
    // (the access log line follows the answer)
    for (int i = 0; i < 100 && server.log().find("Input/output error") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    INFO(server.log());
    CHECK(server.log().find(fs::canonical(data).string() + "/uploads/") != std::string::npos);
    // Small files (a batch, synced once with syncfs) still register.
    WriteFile(t / "small/a.txt", "small");
    auto small = c->Register("m", t / "small", Lineage("m"));
    INFO(small.status().ToString());
    CHECK(small.ok());
  }
  // The same data directory on a disk that works: the bundle registers,
  // verified, and fsck finds nothing wrong.
  ServerProcess server(data);
  auto c = Client(server, server.admin_token());
  auto r = c->Register("m", t / "big", Lineage("m"));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(HashFile(blob)->digest == d);
  auto fsck = Modelreg({"admin", "fsck", "--data", data});
  INFO(fsck.out << fsck.err);
  CHECK(fsck.exit_code == 0);
}
