// Tests of net/blob_download (the one blob downloader of `pull` and the
// agent): its retry policy against a tiny raw-socket HTTP server whose
// answers each test scripts, byte for byte (a body cut short, a 200 to a
// Range request, 503s, a wrong digest), over real connections with
// cpp-httplib as the callers use it.
#include "net/blob_download.h"

#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/scripted_server.h"
#include "support/temp_dir.h"

namespace modelreg::net {
namespace {

using testing::ReadFile;
using testing::Request;
using testing::ScriptedServer;
using testing::TempDir;
using testing::WriteFile;

std::string Pattern(size_t n, unsigned seed) { return testing::RandomBytes(n, seed); }

// A raw answer: `status` with `body`; `content_length` (default: the
// body's) may promise more than is sent, for a body cut short.
std::string Answer(int status, const std::string& body, std::optional<size_t> content_length = std::nullopt,
                   const std::string& extra = "") {
  const char* reason = status == 200 ? "OK" : status == 206 ? "Partial Content" : status == 404 ? "Not Found" : "Error";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Length: " + std::to_string(content_length.value_or(body.size())) + "\r\nConnection: close\r\n" +
         extra + "\r\n" + body;
}

// Range "bytes=N-" -> N.
size_t RangeStart(const std::string& range) { return std::stoul(range.substr(6)); }

// The whole blob, or (a Range) the rest as 206.
std::string Serve(const std::string& blob, const Request& r) {
  if (r.range.empty()) return Answer(200, blob);
  const size_t from = RangeStart(r.range);
  return Answer(206, blob.substr(from), std::nullopt,
                "Content-Range: bytes " + std::to_string(from) + "-" + std::to_string(blob.size() - 1) + "/" +
                    std::to_string(blob.size()) + "\r\n");
}

// A client as pull and the agent set one up, and a transfer on it.
struct Client {
  explicit Client(int port) : http("127.0.0.1", port) {
    http.set_read_timeout(10, 0);
    http.set_socket_options([this](int fd) { socket_fd = fd; });
    t.http = &http;
    t.registry_url = "http://127.0.0.1:" + std::to_string(port);
    t.connection = [this] { return Connection{socket_fd.load(), nullptr}; };
    t.read_timeout_ms = 10000;
    t.moved = [this](uint64_t n) { moved += n; };
  }
  httplib::Client http;
  std::atomic<int> socket_fd{-1};
  BlobTransfer t;
  uint64_t moved = 0;
};

const std::string kPath = "/api/v1/models/m/blobs/x";

TEST_CASE("DownloadBlob: a 200 answer to a Range request starts the blob over") {
  TempDir d;
  // Small (read through httplib) and large (read from the connection directly).
  for (size_t size : {size_t{100000}, size_t{(6u << 20) + 123}}) {
    INFO("size " << size);
    const std::string blob = Pattern(size, 1);
    ScriptedServer server([&](const Request&, size_t) { return Answer(200, blob); });  // ignores Range
    Client c(server.port());
    const std::string path = d / ("blob" + std::to_string(size));
    WriteFile(path, blob.substr(0, 5000));  // kept by an earlier run
    BlobDownloadInfo info;
    Status st = DownloadBlob(c.t, kPath, BlobFile{path, Digest::Of(blob), blob.size(), true, true}, &info);
    INFO(st.ToString());
    REQUIRE(st.ok());
    CHECK(ReadFile(path) == blob);
    CHECK(info.reused == 0);
    REQUIRE(server.requests().size() == 1);
    CHECK(server.requests()[0].range == "bytes=5000-");
    CHECK(c.moved == blob.size());
  }
}

TEST_CASE("DownloadBlob: a body cut short is resumed with Range from where it broke") {
  TempDir d;
  for (size_t size : {size_t{300000}, size_t{(9u << 20) + 7}}) {
    INFO("size " << size);
    const std::string blob = Pattern(size, 2);
    const size_t cut = size / 3;
    ScriptedServer server([&](const Request& r, size_t i) {
      if (i == 0) return Answer(200, blob.substr(0, cut), blob.size());  // promises all, sends a third
      return Serve(blob, r);
    });
    Client c(server.port());
    const std::string path = d / ("blob" + std::to_string(size));
    Status st = DownloadBlob(c.t, kPath, BlobFile{path, Digest::Of(blob), blob.size(), false, false});
    INFO(st.ToString());
    REQUIRE(st.ok());
    CHECK(ReadFile(path) == blob);
    const auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].range.empty());
    CHECK(RangeStart(reqs[1].range) == cut);  // the rest only
  }
}

TEST_CASE("DownloadBlob: 503 is retried after a back-off - another error answer is final") {
  TempDir d;
  const std::string blob = Pattern(1000, 3);
  SECTION("503 twice, then the blob") {
    ScriptedServer server([&](const Request& r, size_t i) { return i < 2 ? Answer(503, "busy") : Serve(blob, r); });
    Client c(server.port());
    const auto started = std::chrono::steady_clock::now();
    Status st = DownloadBlob(c.t, kPath, BlobFile{d / "b", Digest::Of(blob), blob.size(), false, false});
    REQUIRE(st.ok());
    CHECK(server.requests().size() == 3);
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(300));  // 100 + 200 at least
  }
  SECTION("404 with the registry's JSON error: not retried, its code kept") {
    const std::string err = R"({"error":{"code":"NOT_FOUND","message":"no such blob"}})";
    ScriptedServer server([&](const Request&, size_t) { return Answer(404, err); });
    Client c(server.port());
    Status st = DownloadBlob(c.t, kPath, BlobFile{d / "b", Digest::Of(blob), blob.size(), false, false});
    CHECK(st.code() == StatusCode::kNotFound);
    CHECK(st.message().find("no such blob") != std::string::npos);
    CHECK(server.requests().size() == 1);
  }
  SECTION("no answer at all: 1 + retries attempts, then Unavailable") {
    ScriptedServer server([&](const Request&, size_t) { return std::string(); });  // closes unanswered
    Client c(server.port());
    c.t.retries = 2;
    Status st = DownloadBlob(c.t, kPath, BlobFile{d / "b", Digest::Of(blob), blob.size(), false, false});
    CHECK(st.code() == StatusCode::kUnavailable);
    CHECK(server.requests().size() == 3);
  }
}

TEST_CASE("DownloadBlob: bytes that do not verify") {
  TempDir d;
  const std::string blob = Pattern(200000, 4);
  SECTION("from the server: DATA_LOSS, the file removed, not retried") {
    std::string bad = blob;
    bad[777] ^= 1;
    ScriptedServer server([&](const Request& r, size_t) { return Serve(bad, r); });
    Client c(server.port());
    Status st = DownloadBlob(c.t, kPath, BlobFile{d / "b", Digest::Of(blob), blob.size(), false, true});
    CHECK(st.code() == StatusCode::kDataLoss);
    CHECK(st.message().find("hashes to") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(d / "b"));
    CHECK(server.requests().size() == 1);
  }
  SECTION("longer than the size: DATA_LOSS") {
    ScriptedServer server([&](const Request&, size_t) { return Answer(200, blob + "x"); });
    Client c(server.port());
    Status st = DownloadBlob(c.t, kPath, BlobFile{d / "b", Digest::Of(blob), blob.size(), false, false});
    CHECK(st.code() == StatusCode::kDataLoss);
    CHECK(st.message().find("longer") != std::string::npos);
  }
  SECTION("a kept prefix that was wrong: downloaded once more whole") {
    std::string wrong = blob.substr(0, 70000);
    wrong[5] ^= 1;
    WriteFile(d / "b", wrong);
    ScriptedServer server([&](const Request& r, size_t) { return Serve(blob, r); });
    Client c(server.port());
    BlobDownloadInfo info;
    Status st = DownloadBlob(c.t, kPath, BlobFile{d / "b", Digest::Of(blob), blob.size(), true, false}, &info);
    REQUIRE(st.ok());
    CHECK(ReadFile(d / "b") == blob);
    CHECK(info.reused == 0);
    const auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].range == "bytes=70000-");
    CHECK(reqs[1].range.empty());
  }
  SECTION("a kept prefix that was right: only the rest, counted as reused") {
    WriteFile(d / "b", blob.substr(0, 70000));
    ScriptedServer server([&](const Request& r, size_t) { return Serve(blob, r); });
    Client c(server.port());
    BlobDownloadInfo info;
    REQUIRE(DownloadBlob(c.t, kPath, BlobFile{d / "b", Digest::Of(blob), blob.size(), true, false}, &info).ok());
    CHECK(ReadFile(d / "b") == blob);
    CHECK(info.reused == 70000);
    CHECK(c.moved == blob.size() - 70000);
  }
}

TEST_CASE("DownloadBlob: the local disk's errors go through disk_error - a cancel stops before the next attempt") {
  TempDir d;
  const std::string blob = Pattern(1000, 5);
  ScriptedServer server([&](const Request&, size_t) { return std::string(); });
  Client c(server.port());
  SECTION("disk_error") {
    int seen = 0;
    c.t.disk_error = [&](Status st) {
      ++seen;
      return Status::FailedPrecondition("mine: " + st.message());
    };
    Status st = DownloadBlob(c.t, kPath, BlobFile{d / "no/such/dir/b", Digest::Of(blob), blob.size(), false, false});
    CHECK(st.code() == StatusCode::kFailedPrecondition);
    CHECK(st.message().rfind("mine: ", 0) == 0);
    CHECK(seen == 1);
    CHECK(server.requests().empty());
  }
  SECTION("the default makes a full disk final") {
    CHECK(DiskFullIsFinal(Status::FromErrno("write", ENOSPC)).code() == StatusCode::kResourceExhausted);
    CHECK(DiskFullIsFinal(Status::FromErrno("write", EACCES)).code() == Status::FromErrno("w", EACCES).code());
  }
  SECTION("cancel during the back-off") {
    std::atomic<bool> cancel{false};
    c.t.cancelled = [&] { return cancel.load(); };
    c.t.retries = 1000;
    std::thread stopper([&] {
      while (server.requests().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      cancel = true;
    });
    Status st = DownloadBlob(c.t, kPath, BlobFile{d / "b", Digest::Of(blob), blob.size(), false, false});
    stopper.join();
    CHECK(st.code() == StatusCode::kUnavailable);
    CHECK(st.message().find("interrupted") != std::string::npos);
  }
}

TEST_CASE("BackoffDelay: 100 ms doubling to 5 s, plus up to half again") {
  for (int attempt = 0; attempt < 12; ++attempt) {
    const int base = std::min(100 << std::min(attempt, 6), 5000);
    for (int i = 0; i < 20; ++i) {
      const int ms = BackoffDelay(attempt);
      CHECK(ms >= base);
      CHECK(ms <= base + base / 2);
    }
  }
}

TEST_CASE("FetchBlobBatch: a broken answer is asked again for the blobs not yet complete") {
  TempDir d;
  std::vector<std::string> blobs = {Pattern(1000, 6), Pattern(0, 7), Pattern(5000, 8), Pattern(300, 9)};
  std::vector<SplitBlob> items;
  for (size_t i = 0; i < blobs.size(); ++i)
    items.push_back(SplitBlob{Digest::Of(blobs[i]), blobs[i].size(), d / ("f" + std::to_string(i))});
  auto concat = [&](size_t from) {
    std::string s;
    for (size_t i = from; i < blobs.size(); ++i) s += blobs[i];
    return s;
  };
  std::vector<std::pair<size_t, size_t>> settled;
  BatchFiles files;
  files.open = [&](size_t i) { return CreateFresh(items[i].name); };
  files.done = [](size_t, int) { return Status::OK(); };
  files.settle = [&](size_t b, size_t e) {
    settled.emplace_back(b, e);
    return Status::OK();
  };
  SECTION("cut in the third blob, then 503, then the rest") {
    ScriptedServer server([&](const Request& r, size_t i) {
      if (i == 0) return Answer(200, concat(0).substr(0, 1000 + 2000), concat(0).size());
      if (i == 1) return Answer(503, "busy");
      auto asked = nlohmann::json::parse(r.body)["digests"];
      return Answer(200, concat(blobs.size() - asked.size()));
    });
    Client c(server.port());
    auto r = FetchBlobBatch(c.t, "/api/v1/models/m/blobs/fetch", items, files);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(*r);
    for (size_t i = 0; i < blobs.size(); ++i) CHECK(ReadFile(items[i].name) == blobs[i]);
    const auto reqs = server.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(nlohmann::json::parse(reqs[0].body)["digests"].size() == 4);
    CHECK(nlohmann::json::parse(reqs[2].body)["digests"].size() == 2);  // the blob cut, and the last
    CHECK(settled == std::vector<std::pair<size_t, size_t>>{{0, 2}, {2, 4}});
  }
  SECTION("404: false (a server without the endpoint)") {
    ScriptedServer server([&](const Request&, size_t) { return Answer(404, ""); });
    Client c(server.port());
    auto r = FetchBlobBatch(c.t, "/api/v1/models/m/blobs/fetch", items, files);
    REQUIRE(r.ok());
    CHECK_FALSE(*r);
  }
}

}  // namespace
}  // namespace modelreg::net
