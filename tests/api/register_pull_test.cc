// Register -> pull round trips against a real server.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#include "api/api_util.h"
#include "core/file_util.h"
#include "support/forwarder.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;

namespace {

RegisterOutcome MustRegister(RegistryClient& c, const std::string& model, const std::string& dir,
                             const LineageRecord& l) {
  auto r = c.Register(model, dir, l);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("round trip of a bundle with a 0-byte file, nested dirs and unicode names") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "b/empty.bin", "");
  WriteFile(t / "b/weights/model.bin", std::string(100000, 'w'));
  WriteFile(t / "b/conf/\xc3\xa9t\xc3\xa9.json", "{\"x\":1}");
  auto c = Client(server, server.admin_token());
  auto out = MustRegister(*c, "churn", t / "b", Lineage("churn"));
  CHECK(out.version["created"] == true);
  CHECK(out.version["version"] == 1);
  auto pulled = c->Pull("churn", "1", t / "pulled");
  INFO(pulled.status().ToString());
  REQUIRE(pulled.ok());
  std::string why;
  CHECK(SameTree(t / "b", t / "pulled", &why));
  INFO(why);
  CHECK(fs::file_size(t / "pulled/empty.bin") == 0);
  // By digest too.
  auto by_digest = c->Pull("churn", out.version["digest"].get<std::string>(), t / "pulled2");
  REQUIRE(by_digest.ok());
  CHECK(SameTree(t / "b", t / "pulled2", &why));
}

TEST_CASE("round trip of 10 000 small files") {
  ServerProcess server;
  TempDir t;
  for (int i = 0; i < 10000; ++i)
    WriteFile(t / ("b/d" + std::to_string(i % 100) + "/f" + std::to_string(i)), "file " + std::to_string(i));
  auto c = Client(server, server.admin_token());
  auto out = MustRegister(*c, "many", t / "b", Lineage("many"));
  CHECK(out.stats.files == 10000);
  auto pulled = c->Pull("many", "1", t / "pulled");
  REQUIRE(pulled.ok());
  std::string why;
  CHECK(SameTree(t / "b", t / "pulled", &why));
  INFO(why);
}

TEST_CASE("round trip of a 300 MB file, re-register uploads nothing") {
  ServerProcess server;
  TempDir t;
  WriteRandomFile(t / "b/weights.bin", 300ull << 20, 42);
  auto c = Client(server, server.admin_token());
  auto first = MustRegister(*c, "big", t / "b", Lineage("big"));
  CHECK(first.stats.bytes_uploaded >= (300ull << 20));
  auto again = MustRegister(*c, "big", t / "b", Lineage("big"));
  CHECK(again.version["created"] == false);
  CHECK(again.version["version"] == 1);
  CHECK(again.stats.bytes_uploaded == 0);
  auto pulled = c->Pull("big", "1", t / "pulled");
  REQUIRE(pulled.ok());
  std::string why;
  CHECK(SameTree(t / "b", t / "pulled", &why));
  INFO(why);
}

TEST_CASE("identical files across versions are stored once, same bundle is the same version") {
  ServerProcess server;
  TempDir t;
  WriteRandomFile(t / "v1/shared.bin", 3 << 20, 1);
  WriteFile(t / "v1/small.txt", "one");
  WriteRandomFile(t / "v2/shared.bin", 3 << 20, 1);
  WriteFile(t / "v2/small.txt", "two");
  auto c = Client(server, server.admin_token());
  MustRegister(*c, "m", t / "v1", Lineage("m"));
  size_t blobs_after_v1 = CountBlobFiles(server.data_dir());
  auto v2 = MustRegister(*c, "m", t / "v2", Lineage("m"));
  CHECK(v2.version["version"] == 2);
  // Only small.txt and the new manifest are new; the config is identical.
  CHECK(v2.stats.bytes_uploaded == 3);
  CHECK(CountBlobFiles(server.data_dir()) == blobs_after_v1 + 2);
  auto v1_again = MustRegister(*c, "m", t / "v1", Lineage("m"));
  CHECK(v1_again.version["version"] == 1);
  CHECK(v1_again.version["created"] == false);
  // Same files, different lineage: a new version.
  auto l = Lineage("m");
  l.metrics["auc"] = 0.95;
  auto v3 = MustRegister(*c, "m", t / "v1", l);
  CHECK(v3.version["version"] == 3);
}

TEST_CASE("pull refuses a non-empty destination and leaves nothing behind on failure") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "b/a.txt", "a");
  auto c = Client(server, server.admin_token());
  MustRegister(*c, "m", t / "b", Lineage("m"));
  WriteFile(t / "dest/existing.txt", "keep me");
  auto r = c->Pull("m", "1", t / "dest");
  CHECK(r.status().code() == StatusCode::kAlreadyExists);
  CHECK(ReadFile(t / "dest/existing.txt") == "keep me");
  auto missing = c->Pull("m", "7", t / "dest2");
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK_FALSE(fs::exists(t / "dest2"));
  fs::create_directories(t / "empty");
  CHECK(c->Pull("m", "1", t / "empty").ok());
  CHECK(ReadFile(t / "empty/a.txt") == "a");
}

TEST_CASE("a pull that gives up on an unreachable registry keeps what arrived, and the next pull continues") {
  ServerProcess server;
  TempDir t;
  for (const char* name : {"a.bin", "b.bin", "c.bin"})
    WriteFile(t / (std::string("b/") + name), std::string(5 << 20, name[0]));
  auto direct = Client(server, server.admin_token());
  MustRegister(*direct, "m", t / "b", Lineage("m"));
  // A relay that answers 503 for c.bin: the registry "went away" there.
  const std::string gone = "/blobs/" + Digest::Of(std::string(5 << 20, 'c')).str();
  httplib::Server relay;
  auto upstream = Forwarder(server.url());
  relay.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.path.size() >= gone.size() && req.path.compare(req.path.size() - gone.size(), gone.size(), gone) == 0) {
      res.status = 503;
      return;
    }
    upstream(req, res);
  });
  relay.Post(".*", upstream);
  const int port = relay.bind_to_any_port("127.0.0.1");
  std::thread relay_thread([&] { relay.listen_after_bind(); });
  ClientOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(port);
  o.token = server.admin_token();
  o.retries = 0;
  auto via_relay = RegistryClient::Create(o);
  REQUIRE(via_relay.ok());
  auto r = (*via_relay)->Pull("m", "1", t / "out/p");
  relay.stop();
  relay_thread.join();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK(r.status().message().find("continues from it") != std::string::npos);
  CHECK_FALSE(fs::exists(t / "out/p"));

  // Other errors still remove everything; this one left the directory and its lock.
  size_t left = 0;
  for (const auto& e : fs::directory_iterator(t / "out")) left += e.path().filename().string().find(".p.partial-") == 0;
  CHECK(left == 2);
  auto again = direct->Pull("m", "1", t / "out/p");
  REQUIRE(again.ok());
  CHECK(again->stats.bytes_reused == (10u << 20));
  CHECK(again->stats.bytes_downloaded == (5u << 20));
  for (const char* name : {"a.bin", "b.bin", "c.bin"})
    CHECK(ReadFile(t / (std::string("out/p/") + name)) == std::string(5 << 20, name[0]));
  size_t after = 0;
  for (const auto& e : fs::directory_iterator(t / "out")) after += e.path().filename().string() != "p";
  CHECK(after == 0);
}

TEST_CASE("register asks again which blobs are missing when a proxy answers 502 (a replica dying)") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "b/model.bin", std::string(1 << 20, 'm'));
  // A relay that answers 502 to the first two POST /blobs/missing, as
  // haproxy does for a request whose replica died under it.
  std::atomic<int> missing_asked{0};
  httplib::Server relay;
  auto upstream = Forwarder(server.url());
  relay.Post(".*", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/api/v1/blobs/missing" && missing_asked++ < 2) {
      res.status = 502;
      return;
    }
    upstream(req, res);
  });
  relay.Get(".*", upstream);
  relay.Put(".*", upstream);
  relay.Patch(".*", upstream);
  const int port = relay.bind_to_any_port("127.0.0.1");
  std::thread relay_thread([&] { relay.listen_after_bind(); });
  auto via = [&](int retries) {
    ClientOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(port);
    o.token = server.admin_token();
    o.retries = retries;
    return RegistryClient::Create(o);
  };
  auto no_retry = via(0);
  REQUIRE(no_retry.ok());
  auto refused = (*no_retry)->Register("m", t / "b", Lineage("m"));
  CHECK(refused.status().code() == StatusCode::kUnavailable);  // the 502 itself, not retried
  missing_asked = 0;
  auto retrying = via(5);
  REQUIRE(retrying.ok());
  auto r = (*retrying)->Register("m", t / "b", Lineage("m"));
  relay.stop();
  relay_thread.join();
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->version["version"] == 1);
  CHECK(missing_asked >= 3);  // two 502s, then answered
}

TEST_CASE("pull detects a blob corrupted on the server's disk and leaves no DEST") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "b/a.txt", std::string(5000, 'a'));
  auto c = Client(server, server.admin_token());
  MustRegister(*c, "m", t / "b", Lineage("m"));
  auto d = Digest::Of(std::string(5000, 'a'));
  std::string blob = server.data_dir() + "/blobs/sha256/" + d.shard() + "/" + d.hex();
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  WriteFile(blob, std::string(4999, 'a') + "b");
  auto r = c->Pull("m", "1", t / "dest");
  CHECK(r.status().code() == StatusCode::kDataLoss);
  CHECK_FALSE(fs::exists(t / "dest"));
  for (const auto& e : fs::directory_iterator(t.path()))
    CHECK(e.path().filename().string().find(".partial-") == std::string::npos);
}

TEST_CASE("a large file that shrinks under the client is refused with a clear error, not a crash") {
  // The client hashes large files through a mapping (core/mapped_file.h):
  // pages past a file's end fault with SIGBUS. Announcing more bytes than the
  // file holds is what a file truncated after the bundle was scanned looks
  // like to the upload.
  ServerProcess server;
  TempDir t;
  const uint64_t real = (12 << 20) + 100, announced = 16 << 20;
  WriteFile(t / "big.bin", std::string(real, 'z'));
  auto c = Client(server, server.admin_token());
  TransferStats stats;
  auto r = c->UploadFileHashing(t / "big.bin", announced, &stats);
  REQUIRE_FALSE(r.ok());
  INFO(r.status().ToString());
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK(r.status().message().find("shrank") != std::string::npos);
  // Nothing became visible, and the client and server go on working.
  CHECK(c->MissingBlobs({Digest::Of(std::string(real, 'z')).str()})->size() == 1);
  WriteFile(t / "b/ok.bin", std::string(5 << 20, 'k'));
  auto again = c->Register("shrink", t / "b", Lineage("shrink"));
  INFO(again.status().ToString());
  CHECK(again.ok());
}

namespace {

// Share of `path`'s pages in the page cache (mincore).
double ResidentShare(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY));
  REQUIRE(fd.valid());
  const size_t size = fs::file_size(path), page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
  REQUIRE(p != MAP_FAILED);
  std::vector<unsigned char> vec((size + page - 1) / page);
  REQUIRE(mincore(p, size, vec.data()) == 0);
  munmap(p, size);
  size_t in = 0;
  for (unsigned char v : vec) in += v & 1;
  return static_cast<double>(in) / static_cast<double>(vec.size());
}

}  // namespace

// The last "write mode" line of a server's log (cli/cmd_serve.cc): servers
// started again on the same directory append to the same log.
nlohmann::json WriteModeLine(const ServerProcess& server) {
  std::istringstream in(server.log());
  nlohmann::json last = nullptr;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.value("msg", "") == "write mode") last = j;
  }
  return last;
}

TEST_CASE("large blobs are written around the page cache (direct) or with write-behind that drops them (buffered)") {
  TempDir t;
  if (!TakesDirectIo(t.path())) {
    WARN("the filesystem under " << t.path() << " refuses O_DIRECT: nothing to compare");
    return;
  }
  const std::string data(40 * (1 << 20) + 100, 'q');
  WriteFile(t / "b/model.bin", data);
  const std::string blob_rel = "blobs/sha256/" + Digest::Of(data).shard() + "/" + Digest::Of(data).hex();
  for (std::string mode : {"direct", "buffered", "no-direct-io"}) {
    CAPTURE(mode);
    const bool direct = mode == "direct";
    ServerProcess server("", mode == "no-direct-io" ? std::vector<std::string>{"--no-direct-io"}
                                                    : std::vector<std::string>{"--write-mode", mode});
    const nlohmann::json line = WriteModeLine(server);
    INFO(server.log());
    REQUIRE(line.is_object());
    CHECK(line["mode"] == (direct ? "direct" : "buffered"));
    CHECK(line["why"] == "asked for");
    ClientOptions o;
    o.url = server.url();
    o.token = server.admin_token();
    o.direct_io = direct;
    auto c = RegistryClient::Create(o);
    REQUIRE(c.ok());
    auto reg = (*c)->Register("dio", t / "b", Lineage("dio"));
    INFO(reg.status().ToString());
    REQUIRE(reg.ok());
    // Before anything reads the files (the pull reads the stored blob).
    const double stored = ResidentShare(server.data_dir() + "/" + blob_rel);
    const std::string dest = t / ("pulled-" + mode);
    auto pulled = (*c)->Pull("dio", "1", dest);
    REQUIRE(pulled.ok());
    const double got = ResidentShare(dest + "/model.bin");
    CAPTURE(stored, got);
    CHECK(ReadFile(dest + "/model.bin") == data);
    // Direct: only the tail block went through the page cache. Buffered:
    // at most the last 16 MiB of the stream are still there (40 MiB).
    CHECK(stored < (direct ? 0.25 : 0.45));
    CHECK(got < (direct ? 0.25 : 0.45));
  }
}

TEST_CASE("serve --write-mode auto times both modes at start and logs its choice with the figures") {
  // auto is serve's default (the test harness asks for direct to save the probe's time)
  ServerProcess server("", {"--write-mode", "auto"});
  const nlohmann::json line = WriteModeLine(server);
  INFO(server.log());
  REQUIRE(line.is_object());
  CHECK(line["asked"] == "auto");
  const std::string mode = line.value("mode", "");
  CHECK((mode == "direct" || mode == "buffered"));
  CHECK(line["buffered_gbps"].get<double>() > 0);
  CHECK(line["probe_runs"] == 2);
  CHECK(line["probe_mib"] == 32);
  if (TakesDirectIo(server.data_dir())) {
    CHECK(line["direct_gbps"].get<double>() > 0);
    // The rule the line states: buffered only where it won by more than 10 %.
    const bool buffered_won = line["buffered_gbps"].get<double>() > line["direct_gbps"].get<double>() * 1.10;
    CHECK(mode == (buffered_won ? "buffered" : "direct"));
    CHECK(line["why"] == (buffered_won ? "buffered wrote faster than direct I/O by more than 10 %"
                                       : "buffered was not faster than direct I/O by more than 10 %"));
  } else {
    CHECK(mode == "buffered");
    CHECK(line["why"] == "the filesystem refuses O_DIRECT");
  }
  // Nothing of the probe is left in the data directory.
  for (const auto& e : fs::directory_iterator(server.data_dir()))
    CHECK(e.path().filename().string().rfind(".write-probe", 0) == std::string::npos);
}

TEST_CASE("serve --write-mode auto keeps its probe a week on the same filesystem, then probes again") {
  TempDir t;
  const std::string data = t / "d";
  nlohmann::json first;
  {
    ServerProcess server(data, {"--write-mode", "auto"});
    first = WriteModeLine(server);
    REQUIRE(first.is_object());
    CHECK(first.contains("probe_ms"));
    CHECK_FALSE(first.contains("probed_at"));
  }
  REQUIRE(fs::exists(data + "/write-mode.json"));
  {
    ServerProcess server(data, {"--write-mode", "auto"});
    const nlohmann::json again = WriteModeLine(server);
    REQUIRE(again.is_object());
    CHECK(again.contains("probed_at"));  // reused: nothing written to time the disk
    CHECK_FALSE(again.contains("probe_ms"));
    CHECK(again["mode"] == first["mode"]);
    CHECK(again["buffered_gbps"] == first["buffered_gbps"]);
  }
  // Eight days later (or another filesystem, or an unreadable file): probed again.
  auto cache = nlohmann::json::parse(ReadFile(data + "/write-mode.json"));
  cache["at_ms"] = cache["at_ms"].get<int64_t>() - 8LL * 24 * 3600 * 1000;
  WriteFile(data + "/write-mode.json", cache.dump());
  {
    ServerProcess server(data, {"--write-mode", "auto"});
    const nlohmann::json third = WriteModeLine(server);
    REQUIRE(third.is_object());
    CHECK(third.contains("probe_ms"));
    CHECK_FALSE(third.contains("probed_at"));
  }
  WriteFile(data + "/write-mode.json", "not json");
  ServerProcess server(data, {"--write-mode", "auto"});
  CHECK(WriteModeLine(server).contains("probe_ms"));
}

TEST_CASE("serve refuses an unknown --write-mode") {
  TempDir t;
  auto r = Modelreg({"serve", "--data", t / "d", "--write-mode", "fast"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--write-mode is auto, direct or buffered") != std::string::npos);
}
