// Batch download of a model's blobs (POST /api/v1/models/{m}/blobs/fetch)
// and the pull that uses it for small files, against a real server. A real
// HTTP relay on 127.0.0.1 stands in for what lies between client and
// registry: a connection that breaks mid-answer, or an older registry
// without the endpoint.
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "api/api_util.h"
#include "core/file_util.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;

namespace {

const std::string kFetch = "/api/v1/models/m/blobs/fetch";

nlohmann::json Digests(const std::vector<std::string>& contents) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& c : contents) a.push_back(Digest::Of(c).str());
  return {{"digests", a}};
}

void MustRegister(RegistryClient& c, const std::string& model, const std::string& dir) {
  auto r = c.Register(model, dir, Lineage(model));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

std::unique_ptr<RegistryClient> ClientAt(const std::string& url, const std::string& token) {
  ClientOptions o;
  o.url = url;
  o.token = token;
  auto c = RegistryClient::Create(o);
  REQUIRE(c.ok());
  return std::move(c).value();
}

// Forwards every request to the registry. `mode` decides what happens to
// a fetch: kCutFirst answers the first one with only `cut_after` bytes of
// its body and then drops the connection; kBusyFirst answers the first one
// 503; kNoEndpoint answers 404 as a registry from before the endpoint would.
class Relay {
 public:
  enum Mode { kCutFirst, kBusyFirst, kNoEndpoint };
  Relay(const std::string& upstream, Mode mode, size_t cut_after = 0)
      : upstream_(upstream), mode_(mode), cut_after_(cut_after) {
    auto forward = [this](const httplib::Request& req, httplib::Response& res) {
      httplib::Client c(upstream_);
      httplib::Headers h;
      for (const auto& [k, v] : req.headers)
        if (k == "Authorization" || k == "Range") h.emplace(k, v);
      const std::string ct = req.get_header_value("Content-Type");
      auto r = req.method == "GET"    ? c.Get(req.path, h)
               : req.method == "PUT"  ? c.Put(req.path, h, req.body, ct)
               : req.method == "HEAD" ? c.Head(req.path, h)
                                      : c.Post(req.path, h, req.body, ct);
      if (!r) {
        res.status = 502;
        return;
      }
      res.status = r->status;
      for (const auto& [k, v] : r->headers)
        if (k != "Content-Length" && k != "Transfer-Encoding" && k != "Connection") res.set_header(k, v);
      res.body = r->body;
    };
    srv_.Get(".*", forward);
    srv_.Put(".*", forward);
    srv_.Post(".*", [this, forward](const httplib::Request& req, httplib::Response& res) {
      if (req.path.find("/blobs/fetch") == std::string::npos) return forward(req, res);
      {
        std::lock_guard<std::mutex> l(mu_);
        auto j = nlohmann::json::parse(req.body, nullptr, false);
        fetch_sizes_.push_back(j.is_discarded() ? 0 : j["digests"].size());
      }
      if (mode_ == kNoEndpoint) {
        res.status = 404;
        res.set_content(R"({"error":{"code":"NOT_FOUND","message":"no such route"}})", "application/json");
        return;
      }
      if (mode_ == kBusyFirst && fetches_++ == 0) {
        res.status = 503;
        res.set_content(R"({"error":{"code":"UNAVAILABLE","message":"storage full"}})", "application/json");
        return;
      }
      forward(req, res);
      if (mode_ != kCutFirst || res.status != 200 || fetches_++ > 0) return;
      auto body = std::make_shared<std::string>(std::move(res.body));
      const size_t cut = std::min(cut_after_, body->size());
      res.body.clear();
      res.set_content_provider(body->size(), "application/octet-stream",
                               [body, cut](size_t offset, size_t, httplib::DataSink& sink) {
                                 if (offset >= cut) return false;  // drop the connection
                                 return sink.write(body->data() + offset, cut - offset);
                               });
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
  }
  ~Relay() {
    srv_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<size_t> fetch_sizes() {
    std::lock_guard<std::mutex> l(mu_);
    return fetch_sizes_;
  }

 private:
  std::string upstream_;
  Mode mode_;
  size_t cut_after_;
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> fetches_{0};
  std::mutex mu_;
  std::vector<size_t> fetch_sizes_;  // digests asked per fetch
};

// 40 small files (two empty, some identical), one file above the batch
// size limit, in nested dirs.
void WriteMixedBundle(const std::string& dir) {
  for (int i = 0; i < 40; ++i) {
    std::string content = i % 7 == 3 ? "same bytes" : "file " + std::to_string(i) + std::string(i * 100, 'x');
    if (i == 0 || i == 21) content.clear();
    WriteFile(dir + "/d" + std::to_string(i % 4) + "/f" + std::to_string(i), content);
  }
  WriteRandomFile(dir + "/weights/large.bin", 5 << 20, 7);
}

// A server holding WriteMixedBundle(t / "b") as model "m", version 1.
struct MixedBundle {
  ServerProcess server;
  TempDir t;
  std::unique_ptr<RegistryClient> c;
  MixedBundle() {
    WriteMixedBundle(t / "b");
    c = Client(server, server.admin_token());
    MustRegister(*c, "m", t / "b");
  }
};

// Pulls `model` 1 into DEST and checks it equals t / "b".
void PullsIdentical(RegistryClient& c, const TempDir& t, const std::string& dest) {
  auto pulled = c.Pull("m", "1", t / dest);
  INFO(pulled.status().ToString());
  REQUIRE(pulled.ok());
  CHECK(pulled->stats.files == 41);
  std::string why;
  CHECK(SameTree(t / "b", t / dest, &why));
  INFO(why);
}

}  // namespace

TEST_CASE("fetch answers the model's blobs concatenated in the order asked, and refuses what it should") {
  ServerProcess server;
  TempDir t;
  const std::string a = "alpha", c = std::string(100000, 'c'), other = "only in the other model";
  WriteFile(t / "b/a.txt", a);
  WriteFile(t / "b/empty", "");
  WriteFile(t / "b/c.bin", c);
  WriteFile(t / "o/x.txt", other);
  auto cl = Client(server, server.admin_token());
  MustRegister(*cl, "m", t / "b");
  MustRegister(*cl, "other", t / "o");
  Http http(server.url(), server.admin_token());

  auto r = http.Post(kFetch, Digests({c, "", a}).dump());
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/octet-stream");
  CHECK(r->body == c + a);
  // The same blob twice is sent twice.
  r = http.Post(kFetch, Digests({a, a}).dump());
  CHECK(r->body == a + a);

  // A blob of another model is not this model's to give.
  r = http.Post(kFetch, Digests({a, other}).dump());
  CHECK(r->status == 404);
  CHECK(ErrorCode(r) == "NOT_FOUND");
  CHECK(ErrorMessage(r).find(Digest::Of(other).str()) != std::string::npos);
  r = http.Post("/api/v1/models/nope/blobs/fetch", Digests({a}).dump());
  CHECK(r->status == 404);

  r = http.Post(kFetch, "{\"digests\": [");
  CHECK(r->status == 400);
  CHECK(ErrorMessage(r).find("not valid JSON") != std::string::npos);
  r = http.Post(kFetch, R"({"digests": "sha256:00"})");
  CHECK(r->status == 400);
  r = http.Post(kFetch, R"({"digests": ["sha256:xyz"]})");
  CHECK(r->status == 400);
  nlohmann::json many = {{"digests", std::vector<std::string>(10001, Digest::Of(a).str())}};
  r = http.Post(kFetch, many.dump());
  CHECK(r->status == 413);
  CHECK(ErrorMessage(r).find("at most 10000") != std::string::npos);

  // Tokens: none, a scoped one for other models, a revoked one.
  Http anon(server.url(), "");
  CHECK(anon.Post(kFetch, Digests({a}).dump())->status == 401);
  Http scoped(server.url(), server.CreateToken("fraud-reader", "agent", {"fraud-*"}));
  CHECK(scoped.Post(kFetch, Digests({a}).dump())->status == 403);
  Http reader(server.url(), server.CreateToken("m-reader", "agent", {"m"}));
  r = reader.Post(kFetch, Digests({a}).dump());
  CHECK(r->status == 200);
  CHECK(r->body == a);
}

TEST_CASE("pull fetches small files in one request, large ones alone, and is byte-identical") {
  MixedBundle f;
  auto& [server, t, c] = f;
  PullsIdentical(*c, t, "pulled");
  CHECK(server.RouteCount("models.blobs_fetch", 1) == 1);
  CHECK(server.RouteCount("models.blob", 1) == 1);  // the 5 MiB file
}

TEST_CASE("a fetch cut off mid-answer is resumed for the files still missing") {
  MixedBundle f;
  auto& [server, t, c] = f;
  // Cut inside the answer: some files complete, one half-written.
  Relay relay(server.url(), Relay::kCutFirst, 20000);
  auto via = ClientAt(relay.url(), server.admin_token());
  PullsIdentical(*via, t, "pulled");
  auto sizes = relay.fetch_sizes();
  REQUIRE(sizes.size() == 2);
  CHECK(sizes[0] == 34);  // 40 small files: 6 hold "same bytes", 2 are empty
  CHECK(sizes[1] < sizes[0]);
  CHECK(sizes[1] > 0);
}

TEST_CASE("a fetch answered 503 is asked again after a back-off") {
  MixedBundle f;
  auto& [server, t, c] = f;
  Relay relay(server.url(), Relay::kBusyFirst);
  auto via = ClientAt(relay.url(), server.admin_token());
  PullsIdentical(*via, t, "pulled");
  CHECK(relay.fetch_sizes() == std::vector<size_t>{34, 34});
}

TEST_CASE("pull from a registry without the fetch endpoint falls back to one GET per file") {
  MixedBundle f;
  auto& [server, t, c] = f;
  Relay relay(server.url(), Relay::kNoEndpoint);
  auto via = ClientAt(relay.url(), server.admin_token());
  PullsIdentical(*via, t, "pulled");
  CHECK(relay.fetch_sizes().size() == 1);  // asked once, then GETs
  CHECK(server.RouteCount("models.blob", 34 + 1) == 34 + 1);
}

TEST_CASE("a batch-fetched blob corrupted or truncated on the server's disk fails the pull and leaves no DEST") {
  MixedBundle f;
  auto& [server, t, c] = f;
  auto blob = [&](const std::string& content) {
    auto d = Digest::Of(content);
    std::string p = server.data_dir() + "/blobs/sha256/" + d.shard() + "/" + d.hex();
    fs::permissions(p, fs::perms::owner_write, fs::perm_options::add);
    return p;
  };
  const std::string f5 = "file 5" + std::string(500, 'x');
  const std::string f9 = "file 9" + std::string(900, 'x');

  SECTION("same size, other bytes: DataLoss naming the file") {
    WriteFile(blob(f5), std::string(f5.size() - 1, 'x') + "!");
    auto r = c->Pull("m", "1", t / "dest");
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK(r.status().message().find("f5") != std::string::npos);
  }
  SECTION("shorter than registered: refused before any byte is sent, naming the blob and fsck") {
    WriteFile(blob(f9), "file 9");
    auto r = c->Pull("m", "1", t / "dest");
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK(r.status().message().find(Digest::Of(f9).str() + " of model 'm' is 6 bytes in the store") !=
          std::string::npos);
    CHECK(r.status().message().find("fsck") != std::string::npos);
  }
  SECTION("the large file (one GET) shorter than registered: DataLoss at once, not a connection to retry") {
    auto large = HashFile(t / "b/weights/large.bin");
    REQUIRE(large.ok());
    const std::string p = server.data_dir() + "/blobs/sha256/" + large->digest.shard() + "/" + large->digest.hex();
    fs::permissions(p, fs::perms::owner_write, fs::perm_options::add);
    fs::resize_file(p, 3 << 20);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c->Pull("m", "1", t / "dest");
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));  // the retries' back-off is longer
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK(r.status().message().find(large->digest.str() +
                                    " of model 'm' is 3145728 bytes in the store, registered as 5242880") !=
          std::string::npos);
  }
  CHECK_FALSE(fs::exists(t / "dest"));
  for (const auto& e : fs::directory_iterator(t.path()))
    CHECK(e.path().filename().string().find(".partial-") == std::string::npos);
}
