// A full disk, simulated with a file-size limit (RLIMIT_FSIZE via prlimit):
// writes fail with EFBIG like ENOSPC, without needing a mount.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;

namespace {

// Registers one random file of `size` bytes on a server whose files may not
// grow past 20 MB: the register must fail with the registry's 503.
void RegisterPastTheLimit(TempDir& t, RegistryClient& c, uint64_t size) {
  WriteRandomFile(t / "big/weights.bin", size, 3);
  auto r = c.Register("m", t / "big", Lineage("m"));
  REQUIRE_FALSE(r.ok());
  INFO(r.status().ToString());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK(r.status().message().find("storage full") != std::string::npos);
}

}  // namespace

TEST_CASE("server out of space: 503 with a clear message, nothing visible, still serving") {
  TempDir t;
  ServerProcess server("", {}, {"prlimit", "--fsize=20000000"});
  auto c = Client(server, server.admin_token(), /*retries=*/1);
  RegisterPastTheLimit(t, *c, 50ull << 20);
  Digest d = HashFile(t / "big/weights.bin")->digest;
  CHECK_FALSE(fs::exists(server.data_dir() + "/blobs/sha256/" + d.shard() + "/" + d.hex()));
  // The registry still works for what fits.
  WriteFile(t / "small/a.txt", "fits");
  auto ok = c->Register("m", t / "small", Lineage("m"));
  INFO(ok.status().ToString());
  CHECK(ok.ok());
  auto fsck = Modelreg({"admin", "fsck", "--data", server.data_dir()});
  CHECK(fsck.exit_code == 0);
}

TEST_CASE("server out of space during a 400 MB upload: the client reads the 503, not a reset") {
  // The rest of the body (past the 256 MiB the server drops and keeps the
  // connection for) is read and dropped after the answer while the client
  // is still writing; before, the register said "malformed HTTP request" or
  // lost the connection.
  TempDir t;
  ServerProcess server("", {}, {"prlimit", "--fsize=20000000"});
  auto c = Client(server, server.admin_token(), /*retries=*/1);
  RegisterPastTheLimit(t, *c, 400ull << 20);
}

namespace {

// `pull m 1 T/dest` under a 1 MB file-size limit: exit 1 with "storage
// full", no DEST and no partial directory left.
void PullFailsOnFullDisk(const ServerProcess& server, const TempDir& t) {
  auto env = server.Env(server.admin_token());
  auto r = Run({"prlimit", "--fsize=1000000", MODELREG_BIN, "pull", "m", "1", t / "dest"}, env);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("storage full") != std::string::npos);
  CHECK_FALSE(fs::exists(t / "dest"));
  for (const auto& e : fs::directory_iterator(t.path()))
    CHECK(e.path().filename().string().find(".partial-") == std::string::npos);
}

}  // namespace

TEST_CASE("pull onto a full disk fails cleanly and leaves no partial destination") {
  // 3 MiB goes through httplib's reader; 12 MiB through the direct socket
  // read into the writer's blocks (net/socket_read.h), where the write
  // error surfaces from the writer's threads.
  const uint64_t size = GENERATE(uint64_t{3} << 20, uint64_t{12} << 20);
  CAPTURE(size);
  TempDir t;
  ServerProcess server;
  WriteRandomFile(t / "b/weights.bin", size, 4);
  auto c = Client(server, server.admin_token());
  REQUIRE(c->Register("m", t / "b", Lineage("m")).ok());
  PullFailsOnFullDisk(server, t);
}

TEST_CASE("pull of small files in one batch fetch onto a full disk fails at once, cleanly") {
  // Three 2 MiB files come in one blobs/fetch answer; the 1 MB file-size
  // limit stops the first write. A disk error is final: no retries.
  TempDir t;
  ServerProcess server;
  for (int i = 0; i < 3; ++i) WriteRandomFile(t / ("b/part" + std::to_string(i)), 2 << 20, 10 + i);
  auto c = Client(server, server.admin_token());
  REQUIRE(c->Register("m", t / "b", Lineage("m")).ok());
  PullFailsOnFullDisk(server, t);
  CHECK(server.RouteCount("models.blobs_fetch", 1) == 1);
}

TEST_CASE("server whose database cannot grow: 503 storage full, no half version, fine once there is room", "[sqlite]") {
  TempDir t;
  const std::string data = t / "data";
  { ServerProcess first(data); }  // creates and migrates the database, then stops
  {
    // Fold the WAL into the database file, whatever the stop left, so that
    // the limit below leaves the room it says.
    SQLite::Database db(data + "/registry.db", SQLite::OPEN_READWRITE);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  const auto db_size = fs::file_size(data + "/registry.db");
  // Room for a few commits in the WAL, not for hundreds.
  auto server = std::make_unique<ServerProcess>(
      data, std::vector<std::string>{},
      std::vector<std::string>{"prlimit", "--fsize=" + std::to_string(db_size + (96 << 10))});
  ClientOptions o;
  o.url = server->url();
  o.token = server->admin_token();
  o.retries = 1;
  auto c = RegistryClient::Create(o);
  REQUIRE(c.ok());
  int registered = 0;
  Status failed;
  for (int i = 0; i < 300 && failed.ok(); ++i) {
    WriteFile(t / "b/f.txt", "version " + std::to_string(i));
    auto r = (*c)->Register("m", t / "b", Lineage("m"));
    if (r.ok()) ++registered;
    else failed = r.status();
  }
  INFO(failed.ToString());
  REQUIRE_FALSE(failed.ok());
  CHECK(registered > 0);
  CHECK(failed.code() == StatusCode::kUnavailable);
  CHECK(failed.message().find("storage full") != std::string::npos);
  // Reads still work and show exactly the versions that were registered.
  auto env = server->Env(server->admin_token());
  auto list = Modelreg({"versions", "m", "--json"}, env);
  REQUIRE(list.exit_code == 0);
  CHECK(nlohmann::json::parse(list.out)["versions"].size() == static_cast<size_t>(registered));
  CHECK(server->Stop() == 0);
  CHECK(Modelreg({"admin", "fsck", "--data", data}).exit_code == 0);
  // With room again, the same bundle registers as the next version.
  ServerProcess roomy(data);
  auto again = Modelreg({"register", "m", t / "b", "--json"}, roomy.Env(roomy.admin_token()));
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(nlohmann::json::parse(again.out)["version"] == registered + 1);
}
