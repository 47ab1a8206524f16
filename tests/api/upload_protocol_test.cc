// The blob upload protocol (docs/api.md) and manifest intake, over real HTTP.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "api/api_util.h"
#include "core/file_util.h"
#include "core/lineage_record.h"
#include "core/manifest.h"
#include "support/ports.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string StartSession(Http& h) {
  auto r = h.Post("/api/v1/blobs/uploads", "", "application/octet-stream");
  REQUIRE(r);
  REQUIRE(r->status == 202);
  return r->get_header_value("Location");
}

// Sends `head` and then only `body_part` of a declared longer body, then
// closes the connection: a client that died mid-upload.
void SendTruncated(int port, const std::string& head, const std::string& body_part) {
  int s = ConnectLoopback(port);
  std::string all = head + body_part;
  size_t off = 0;
  while (off < all.size()) {
    ssize_t n = send(s, all.data() + off, all.size() - off, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    off += static_cast<size_t>(n);
  }
  close(s);
}

uint64_t OffsetOf(Http& h, const std::string& session) {
  auto r = h.Get(session);
  REQUIRE(r);
  REQUIRE(r->status == 204);
  return std::stoull(r->get_header_value("Upload-Offset"));
}

std::string ConfigFor(const std::string& model) { return SerializeLineage(Lineage(model)); }

// Uploads bytes monolithically; returns the digest.
Digest Upload(Http& h, const std::string& bytes) {
  httplib::Response r;
  Digest d = UploadWhole(h, bytes, &r);
  CHECK(r.get_header_value_count("Location") == 1);  // the blob's, not also the session's
  CHECK(r.get_header_value("Location") == "/api/v1/blobs/" + d.str());
  CHECK_FALSE(r.has_header("Docker-Upload-UUID"));
  return d;
}

}  // namespace

TEST_CASE("chunked upload: PATCH with Content-Range, GET offset, wrong offset 416, PUT digest") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  std::string data = "0123456789abcdefghij";
  Digest d = Digest::Of(data);
  auto head = h.Head("/api/v1/blobs/" + d.str());
  REQUIRE(head);
  CHECK(head->status == 404);

  std::string s = StartSession(h);
  auto p1 = h.Patch(s, data.substr(0, 10), {{"Content-Range", "0-9"}});
  REQUIRE(p1);
  CHECK(p1->status == 202);
  CHECK(p1->get_header_value("Range") == "0-9");
  CHECK(OffsetOf(h, s) == 10);

  auto bad = h.Patch(s, data.substr(5, 5), {{"Content-Range", "5-9"}});
  REQUIRE(bad);
  CHECK(bad->status == 416);
  CHECK(bad->get_header_value("Upload-Offset") == "10");
  CHECK(OffsetOf(h, s) == 10);

  auto p2 = h.Patch(s, data.substr(10), {{"Content-Range", "10-19"}});
  REQUIRE(p2);
  CHECK(p2->status == 202);
  auto fin = h.Put(s + "?digest=" + d.str(), "");
  REQUIRE(fin);
  CHECK(fin->status == 201);
  CHECK(fin->get_header_value("Docker-Content-Digest") == d.str());
  CHECK(fin->get_header_value_count("Location") == 1);
  CHECK(fin->get_header_value("Location") == "/api/v1/blobs/" + d.str());
  CHECK_FALSE(fin->has_header("Upload-Offset"));
  head = h.Head("/api/v1/blobs/" + d.str());
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->get_header_value("Content-Length") == "20");
  auto get = h.Get("/api/v1/blobs/" + d.str());
  REQUIRE(get);
  CHECK(get->body == data);
  auto range = h.Get("/api/v1/blobs/" + d.str(), {{"Range", "bytes=5-"}});
  REQUIRE(range);
  CHECK(range->status == 206);
  CHECK(range->body == data.substr(5));
  // The session is gone after finishing.
  auto after = h.Get(s);
  REQUIRE(after);
  CHECK(after->status == 404);
}

TEST_CASE("PUT ?digest= with the last chunk in its body finishes the upload, answered with the blob's Location") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  const std::string data(3 << 20, 'q');
  const Digest d = Digest::Of(data);
  std::string s = StartSession(h);
  auto p1 = h.Patch(s, data.substr(0, 1 << 20), {{"Content-Range", "0-1048575"}});
  REQUIRE(p1);
  CHECK(p1->status == 202);
  CHECK(p1->get_header_value_count("Location") == 1);
  auto fin = h.Put(s + "?digest=" + d.str(), data.substr(1 << 20));
  REQUIRE(fin);
  INFO(fin->body);
  CHECK(fin->status == 201);
  CHECK(fin->get_header_value_count("Location") == 1);
  CHECK(fin->get_header_value("Location") == "/api/v1/blobs/" + d.str());
  CHECK_FALSE(fin->has_header("Docker-Upload-UUID"));
  auto get = h.Get("/api/v1/blobs/" + d.str());
  REQUIRE(get);
  CHECK(get->body == data);
}

TEST_CASE("blob downloads answer a Range as RFC 9110 says, and other answers are never sliced") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  const std::string data = "0123456789abcdefghij";
  const Digest d = Upload(h, data);
  const std::string blob = "/api/v1/blobs/" + d.str();
  auto get = [&](const std::string& path, const std::string& range) {
    auto r = h.Get(path, {{"Range", range}});
    REQUIRE(r);
    return r;
  };
  struct Case {
    const char* range;
    const char* content_range;
    std::string body;
  };
  for (const Case& k : {Case{"bytes=5-", "bytes 5-19/20", data.substr(5)}, Case{"bytes=5-9", "bytes 5-9/20", "56789"},
                        Case{"bytes=-5", "bytes 15-19/20", data.substr(15)}, Case{"bytes=-100", "bytes 0-19/20", data},
                        Case{"bytes=10-999", "bytes 10-19/20", data.substr(10)}}) {
    auto r = get(blob, k.range);
    INFO(k.range);
    CHECK(r->status == 206);
    CHECK(r->get_header_value("Content-Range") == k.content_range);
    CHECK(r->body == k.body);
  }
  // Past the end: 416 with the size, not a 206 with a wrapped-around length.
  for (const char* range : {"bytes=20-", "bytes=99999999-", "bytes=-0"}) {
    auto r = get(blob, range);
    INFO(range << ": " << r->body);
    CHECK(r->status == 416);
    CHECK(r->get_header_value("Content-Range") == "bytes */20");
    CHECK(r->body.find("OUT_OF_RANGE") != std::string::npos);
    CHECK(r->body.find("is outside") != std::string::npos);
  }
  auto several = get(blob, "bytes=0-1,3-4");  // ignored: the whole blob
  CHECK(several->status == 200);
  CHECK(several->body == data);
  auto garbled = get(blob, "bytes=abc");
  CHECK(garbled->status == 416);
  CHECK(garbled->body.find("Range header not understood") != std::string::npos);
  // JSON answers, errors included, ignore Range.
  auto models = get("/api/v1/models", "bytes=0-3");
  CHECK(models->status == 200);
  CHECK_FALSE(models->has_header("Content-Range"));
  CHECK(json::parse(models->body).contains("models"));
  auto missing = get("/api/v1/blobs/" + Digest::Of("nope").str(), "bytes=5-");
  CHECK(missing->status == 404);
  CHECK(json::parse(missing->body)["error"]["code"] == "NOT_FOUND");
}

TEST_CASE("digest mismatch is rejected and nothing becomes visible") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  size_t before = CountBlobFiles(server.data_dir());
  std::string s = StartSession(h);
  REQUIRE(h.Patch(s, "hello world", {{"Content-Range", "0-10"}})->status == 202);
  Digest wrong = Digest::Of("something else");
  auto fin = h.Put(s + "?digest=" + wrong.str(), "");
  REQUIRE(fin);
  CHECK(fin->status == 400);
  CHECK(ErrorCode(fin) == "INVALID_ARGUMENT");
  CHECK(ErrorMessage(fin).find("digest mismatch") != std::string::npos);
  CHECK(CountBlobFiles(server.data_dir()) == before);
  CHECK(h.Head("/api/v1/blobs/" + wrong.str())->status == 404);
  CHECK(h.Get(s)->status == 404);
  // Monolithic upload with a wrong digest too.
  auto mono = h.Post("/api/v1/blobs/uploads?digest=" + wrong.str(), "hello", "application/octet-stream");
  REQUIRE(mono);
  CHECK(mono->status == 400);
  CHECK(CountBlobFiles(server.data_dir()) == before);
  // A malformed digest.
  auto malformed = h.Post("/api/v1/blobs/uploads?digest=sha256:XYZ", "hello", "application/octet-stream");
  REQUIRE(malformed);
  CHECK(malformed->status == 400);
}

TEST_CASE("a truncated upload keeps what arrived, is rejected if finished early, and resumes") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  std::string data(1000000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + 3);
  Digest d = Digest::Of(data);
  std::string s = StartSession(h);
  std::string head = "PATCH " + s + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + server.admin_token() +
                     "\r\nContent-Range: 0-999999\r\nContent-Length: 1000000\r\n" +
                     "Content-Type: application/octet-stream\r\n\r\n";
  SendTruncated(PortOf(server.url()), head, data.substr(0, 300000));
  // The server notices the closed connection and keeps the bytes it got.
  uint64_t offset = 0;
  for (int i = 0; i < 3000 && offset != 300000; ++i) {
    offset = OffsetOf(h, s);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(offset == 300000);

  // Finishing now is a digest mismatch in a separate, equally truncated session.
  std::string s2 = StartSession(h);
  REQUIRE(h.Patch(s2, data.substr(0, 300000), {{"Content-Range", "0-299999"}})->status == 202);
  auto early = h.Put(s2 + "?digest=" + d.str(), "");
  REQUIRE(early);
  CHECK(early->status == 400);
  CHECK(h.Head("/api/v1/blobs/" + d.str())->status == 404);

  // Resume the first session from its offset.
  auto rest = h.Patch(s, data.substr(offset), {{"Content-Range", std::to_string(offset) + "-999999"}});
  REQUIRE(rest);
  CHECK(rest->status == 202);
  auto fin = h.Put(s + "?digest=" + d.str(), "");
  REQUIRE(fin);
  CHECK(fin->status == 201);
  CHECK(h.Get("/api/v1/blobs/" + d.str())->body == data);
}

TEST_CASE("batch upload stores all or nothing") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  auto frame = [](const std::string& bytes, std::optional<Digest> claim = std::nullopt) {
    return (claim ? *claim : Digest::Of(bytes)).str() + " " + std::to_string(bytes.size()) + "\n" + bytes;
  };
  size_t before = CountBlobFiles(server.data_dir());
  auto ok = h.Post("/api/v1/blobs/batch", frame("a") + frame("") + frame("ccc"), "application/octet-stream");
  REQUIRE(ok);
  INFO(ok->body);
  CHECK(ok->status == 200);
  CHECK(json::parse(ok->body)["stored"] == 3);
  CHECK(CountBlobFiles(server.data_dir()) == before + 3);

  auto bad = h.Post("/api/v1/blobs/batch", frame("dd") + frame("eee", Digest::Of("xxx")), "application/octet-stream");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(h.Head("/api/v1/blobs/" + Digest::Of("dd").str())->status == 404);

  auto cut = h.Post("/api/v1/blobs/batch", frame("ffff").substr(0, 70), "application/octet-stream");
  REQUIRE(cut);
  CHECK(cut->status == 400);
  CHECK(CountBlobFiles(server.data_dir()) == before + 3);

  std::string head = "POST /api/v1/blobs/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server.admin_token() +
                     "\r\nContent-Length: 5000\r\n\r\n";
  SendTruncated(PortOf(server.url()), head, frame("gg") + frame("hhh"));
  // The server notices the cut and removes the batch's files before it logs
  // the request: wait for its fourth batch line, however long that takes on
  // a loaded machine (a fixed sleep raced it, and so did waiting for an empty
  // folder, which it is before the handler has begun).
  CHECK(server.RouteCount("blobs.batch", 4) == 4);
  auto leftovers = [&] {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(server.data_dir() + "/uploads")) files.push_back(e.path());
    return files;
  };
  CHECK(h.Head("/api/v1/blobs/" + Digest::Of("gg").str())->status == 404);
  for (const auto& f : leftovers()) FAIL("leftover upload file " << f);
}

TEST_CASE("manifest intake: missing blobs, size mismatch, bad paths, wrong model, limits") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  std::string config = ConfigFor("m");
  Upload(h, config);
  Upload(h, "file-a");

  SECTION("missing blob lists it, 422") {
    auto r = h.Put("/api/v1/models/m/versions", ManifestJson(config, {{"a", "file-a"}, {"b", "never uploaded"}}));
    REQUIRE(r);
    CHECK(r->status == 422);
    CHECK(ErrorCode(r) == "FAILED_PRECONDITION");
    CHECK(r->body.find(Digest::Of("never uploaded").str()) != std::string::npos);
  }
  SECTION("size mismatch, 400") {
    std::string m = ManifestJson(config, {{"a", "file-a"}});
    auto pos = m.find("\"size\":6");
    REQUIRE(pos != std::string::npos);
    m.replace(pos, 8, "\"size\":7");
    auto r = h.Put("/api/v1/models/m/versions", m);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(ErrorMessage(r).find("sizes do not match") != std::string::npos);
  }
  SECTION("traversal, absolute path, case collision: 400 with the rule broken") {
    for (auto [files, why] : std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, std::string>>{
             {{{"../x", "file-a"}}, "'..'"},
             {{{"/etc/passwd", "file-a"}}, "absolute"},
             {{{"A.txt", "file-a"}, {"a.txt", "file-a"}}, "case-folding"},
             {{{"cafe\xcc\x81.txt", "file-a"}, {"caf\xc3\xa9.txt", "file-a"}}, "normalization"},  // NFD, NFC
             {{{"a", "file-a"}, {"a/b", "file-a"}}, "directory"},
             {{{"x\\y", "file-a"}}, "backslash"}}) {
      auto r = h.Put("/api/v1/models/m/versions", ManifestJson(config, files));
      REQUIRE(r);
      CHECK(r->status == 400);
      INFO(r->body);
      CHECK(ErrorMessage(r).find(why) != std::string::npos);
    }
  }
  SECTION("lineage for another model, 400") {
    auto r = h.Put("/api/v1/models/other/versions", ManifestJson(config, {{"a", "file-a"}}));
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(ErrorMessage(r).find("for model 'm'") != std::string::npos);
  }
  SECTION("malformed JSON and non-manifest, 400") {
    CHECK(h.Put("/api/v1/models/m/versions", "{not json")->status == 400);
    CHECK(h.Put("/api/v1/models/m/versions", "[]")->status == 400);
    CHECK(h.Post("/api/v1/blobs/missing", "{\"digests\": 5}")->status == 400);
    CHECK(h.Post("/api/v1/blobs/missing", "nope")->status == 400);
  }
  SECTION("manifest over 4 MiB, 413") {
    auto r = h.Put("/api/v1/models/m/versions", std::string((4 << 20) + 10, ' '));
    REQUIRE(r);
    CHECK(r->status == 413);
  }
  SECTION("bad model name, 400") {
    auto r = h.Put("/api/v1/models/Bad%20Name/versions", ManifestJson(config, {{"a", "file-a"}}));
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  SECTION("accepted, then the same manifest again is 200 with the same version") {
    std::string m = ManifestJson(config, {{"a", "file-a"}});
    auto r1 = h.Put("/api/v1/models/m/versions", m);
    REQUIRE(r1);
    CHECK(r1->status == 201);
    auto r2 = h.Put("/api/v1/models/m/versions", m);
    REQUIRE(r2);
    CHECK(r2->status == 200);
    CHECK(json::parse(r2->body)["version"] == 1);
    CHECK(json::parse(r2->body)["digest"] == Digest::Of(m).str());
  }
}

TEST_CASE("upload sessions: owner only, ids validated, idle sessions expire") {
  ServerProcess server("", {"--upload-ttl", "1"});
  Http h(server.url(), server.admin_token());
  std::string trainer = server.CreateToken("trainer1", "trainer");
  std::string other = server.CreateToken("trainer2", "trainer");
  Http ht(server.url(), trainer), ho(server.url(), other);
  std::string s = StartSession(ht);
  auto foreign = ho.Patch(s, "x", {{"Content-Range", "0-0"}});
  REQUIRE(foreign);
  CHECK(foreign->status == 403);
  CHECK(ho.Get("/api/v1/blobs/uploads/..%2F..%2Fregistry.db")->status == 404);
  CHECK(ho.Get("/api/v1/blobs/uploads/not-an-id")->status == 404);
  REQUIRE(ht.Patch(s, "abc", {{"Content-Range", "0-2"}})->status == 202);
  std::string id = s.substr(s.rfind('/') + 1);
  CHECK(fs::exists(server.data_dir() + "/uploads/" + id));
  // TTL 1 s, swept every 250 ms.
  bool gone = false;
  for (int i = 0; i < 600 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gone = ht.Get(s)->status == 404;
  }
  CHECK(gone);
  CHECK_FALSE(fs::exists(server.data_dir() + "/uploads/" + id));
}

// Bodies of 4 MiB and more are read from the socket directly (api/socket_body):
// what arrived before a cut is kept, and the bytes after the body on the
// same connection are the next request, untouched.
TEST_CASE("large bodies read from the socket: a cut keeps what arrived, the next request on the connection is intact") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  const size_t kSize = 9 << 20;
  std::string data(kSize, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + (i >> 12));
  Digest d = Digest::Of(data);
  auto head = [&](const std::string& session, size_t from) {
    return "PATCH " + session + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + server.admin_token() +
           "\r\nContent-Range: " + std::to_string(from) + "-" + std::to_string(kSize - 1) +
           "\r\nContent-Length: " + std::to_string(kSize - from) + "\r\nContent-Type: application/octet-stream\r\n\r\n";
  };
  std::string s = StartSession(h);
  SendTruncated(PortOf(server.url()), head(s, 0), data.substr(0, 3 << 20));
  uint64_t offset = 0;
  for (int i = 0; i < 3000 && offset != (3u << 20); ++i) {
    offset = OffsetOf(h, s);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(offset == (3u << 20));

  // The rest (6 MiB, again read directly), with a second request written
  // right behind the body on the same connection: both answered, in order.
  int sock = ConnectLoopback(PortOf(server.url()));
  std::string rest = data.substr(offset);
  std::string all = head(s, offset) + rest + "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  for (size_t off = 0; off < all.size();) {
    ssize_t n = send(sock, all.data() + off, all.size() - off, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    off += static_cast<size_t>(n);
  }
  std::string replies;
  char buf[4096];
  for (ssize_t n; (n = recv(sock, buf, sizeof buf, 0)) > 0;) replies.append(buf, static_cast<size_t>(n));
  close(sock);
  INFO(replies);
  CHECK(replies.rfind("HTTP/1.1 202", 0) == 0);
  CHECK(replies.find("HTTP/1.1 200", 12) != std::string::npos);
  auto fin = h.Put(s + "?digest=" + d.str(), "");
  REQUIRE(fin);
  CHECK(fin->status == 201);
  CHECK(h.Get("/api/v1/blobs/" + d.str())->body == data);
}

TEST_CASE("SIGTERM cuts an upload still running after --drain, which keeps what arrived and resumes") {
  TempDir t;
  const std::string data_dir = t / "data";
  const size_t kSize = 9 << 20;
  std::string data(kSize, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 13 + (i >> 10));
  Digest d = Digest::Of(data);
  std::string s;
  {
    ServerProcess server(data_dir, {"--drain", "1"});
    Http h(server.url(), server.admin_token());
    s = StartSession(h);
    // A client that sends 3 MiB of a 9 MiB PATCH, then stalls (connection open).
    int sock = ConnectLoopback(PortOf(server.url()));
    const std::string all = "PATCH " + s + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                            server.admin_token() + "\r\nContent-Range: 0-" + std::to_string(kSize - 1) +
                            "\r\nContent-Length: " + std::to_string(kSize) +
                            "\r\nContent-Type: application/octet-stream\r\n\r\n" + data.substr(0, 3 << 20);
    for (size_t off = 0; off < all.size();) {
      ssize_t n = send(sock, all.data() + off, all.size() - off, MSG_NOSIGNAL);
      REQUIRE(n > 0);
      off += static_cast<size_t>(n);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(server.Stop() == 0);  // without the drain: the read timeout, 60 s
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5);
    close(sock);
    CHECK(server.RouteCount("uploads.patch", 1) == 1);
    CHECK(server.log().find("requests still running after the drain were cut") != std::string::npos);
  }
  ServerProcess again(data_dir);
  Http h(again.url(), again.admin_token());
  const uint64_t offset = OffsetOf(h, s);
  CHECK(offset == (3u << 20));
  auto rest =
      h.Patch(s, data.substr(offset), {{"Content-Range", std::to_string(offset) + "-" + std::to_string(kSize - 1)}});
  REQUIRE(rest);
  CHECK(rest->status == 202);
  auto fin = h.Put(s + "?digest=" + d.str(), "");
  REQUIRE(fin);
  CHECK(fin->status == 201);
  CHECK(h.Get("/api/v1/blobs/" + d.str())->body == data);
}

TEST_CASE("a PATCH to a session another request is writing is refused at once, also with a large body") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  std::string s = StartSession(h);
  // Another request holds the session: a raw PATCH that has sent 3 of its 4 MiB
  // (the server's offset then shows the whole MiBs it has taken in).
  const size_t kHeld = 4 << 20, kFirst = 3 << 20;
  std::string held(kHeld, '\0');
  uint32_t x = 12345;
  for (auto& ch : held) {
    x = x * 1103515245u + 12345u;
    ch = static_cast<char>(x >> 24);
  }
  int sock = ConnectLoopback(PortOf(server.url()));
  std::string first = "PATCH " + s + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server.admin_token() +
                      "\r\nContent-Range: 0-" + std::to_string(kHeld - 1) +
                      "\r\nContent-Length: " + std::to_string(kHeld) + "\r\n\r\n" + held.substr(0, kFirst);
  REQUIRE(send(sock, first.data(), first.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(first.size()));
  uint64_t at = 0;
  for (int i = 0; i < 6000 && at == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    at = OffsetOf(h, s);
  }
  REQUIRE(at > 0);

  // A small body: the client reads the answer, 409 ABORTED.
  auto small = h.Patch(s, "abc", {{"Content-Range", std::to_string(at) + "-" + std::to_string(at + 2)}});
  REQUIRE(small);
  CHECK(small->status == 409);
  CHECK(ErrorCode(small) == "ABORTED");
  // A 64 MiB body of random bytes the server never reads: the connection is
  // closed, not parsed as further requests, so the sender fails at once
  // instead of waiting for the server's 60 s timeout.
  std::string big(64 << 20, '\0');
  for (auto& ch : big) {
    x = x * 1103515245u + 12345u;
    ch = static_cast<char>(x >> 24);
  }
  httplib::Client c(server.url());
  c.set_read_timeout(120, 0);
  c.set_write_timeout(120, 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.Patch(s,
                   {{"Authorization", "Bearer " + server.admin_token()},
                    {"Content-Range", std::to_string(at) + "-" + std::to_string(at + big.size() - 1)}},
                   big, "application/octet-stream");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(secs < 30);
  if (r) CHECK(r->status == 409);

  // The holder finishes its body; nothing of the refused ones was stored.
  REQUIRE(send(sock, held.data() + kFirst, kHeld - kFirst, MSG_NOSIGNAL) == static_cast<ssize_t>(kHeld - kFirst));
  char buf[4096];
  std::string reply;
  for (ssize_t n; reply.find("\r\n\r\n") == std::string::npos && (n = recv(sock, buf, sizeof buf, 0)) > 0;)
    reply.append(buf, static_cast<size_t>(n));
  close(sock);
  CHECK(reply.rfind("HTTP/1.1 202", 0) == 0);
  CHECK(OffsetOf(h, s) == kHeld);
  auto fin = h.Put(s + "?digest=" + Digest::Of(held).str(), "");
  REQUIRE(fin);
  CHECK(fin->status == 201);
}

TEST_CASE("blob samples: which large files the registry may hold, before the client hashes them", "[sqlite]") {
  ServerProcess server;
  TempDir t;
  Http h(server.url(), server.admin_token());
  auto sample_of = [&](const std::string& bytes) {
    WriteFile(t / "f", bytes);
    UniqueFd fd(::open((t / "f").c_str(), O_RDONLY | O_CLOEXEC));
    return SampleFd(fd.get(), bytes.size(), "f")->str();
  };
  auto maybe = [&](const std::vector<std::pair<uint64_t, std::string>>& probes) {
    json samples = json::array();
    for (const auto& [size, sample] : probes) samples.push_back({{"size", size}, {"sample", sample}});
    auto r = h.Post("/api/v1/blobs/missing", json{{"digests", json::array()}, {"samples", samples}}.dump());
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
    return json::parse(r->body)["maybe_present"];
  };
  const std::string a = "file-a", b = "file-b";  // the same size
  CHECK(maybe({{6, sample_of(a)}}) == json::array());
  Upload(h, a);  // stored, in no version yet: its sample is on record
  CHECK(maybe({{6, sample_of(b)}, {6, sample_of(a)}, {7, sample_of(a)}}) == json::array({1}));
  // A registered blob stored before samples were recorded may be any file
  // of its size.
  const std::string config = ConfigFor("m");
  Upload(h, config);
  REQUIRE(h.Put("/api/v1/models/m/versions", ManifestJson(config, {{"a", a}}))->status == 201);
  {
    SQLite::Database db(server.data_dir() + "/registry.db", SQLite::OPEN_READWRITE);
    db.exec("DELETE FROM blob_samples");
  }
  CHECK(maybe({{6, sample_of(b)}, {7, sample_of(b)}}) == json::array({0}));
  // Without "samples" the answer is as before.
  auto plain = h.Post("/api/v1/blobs/missing", R"({"digests": []})");
  CHECK(json::parse(plain->body).contains("maybe_present") == false);

  for (const char* bad :
       {R"({"digests": [], "samples": 5})", R"({"digests": [], "samples": [{"size": -1, "sample": "x"}]})",
        R"({"digests": [], "samples": [{"size": 6}]})",
        R"({"digests": [], "samples": [{"size": 6, "sample": "sha256:abc"}]})"}) {
    auto r = h.Post("/api/v1/blobs/missing", bad);
    REQUIRE(r);
    INFO(bad << " -> " << r->body);
    CHECK(r->status == 400);
    CHECK(ErrorCode(r) == "INVALID_ARGUMENT");
  }
}
