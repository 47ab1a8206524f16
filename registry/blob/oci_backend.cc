#include "blob/oci_backend.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "blob/blob_store.h"
#include "core/manifest.h"

namespace modelreg {
namespace {

constexpr char kStateMediaType[] = "application/vnd.modelreg.upload-state.v1+json";
constexpr char kLocationAnnotation[] = "org.modelreg.upload.location";
constexpr char kOffsetAnnotation[] = "org.modelreg.upload.offset";
constexpr size_t kReadWindow = 8u << 20;  // bytes per ranged GET of a reader

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// An OCI path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*.
bool IsOciComponent(const std::string& s) {
  if (s.empty()) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (size_t i = 0; i < s.size();) {
    if (alnum(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && !alnum(s[j])) ++j;
    const std::string sep = s.substr(i, j - i);
    if (sep != "." && sep != "_" && sep != "__" && sep.find_first_not_of('-') != std::string::npos) return false;
    i = j;
  }
  return true;
}

// The repository a model's bundles go to: PREFIX/<model>, or, for a model
// name that is no OCI path component ("a..b"), its separators folded to '-'
// and a hash of the name appended.
std::string ModelRepo(const std::string& prefix, const std::string& model) {
  if (IsOciComponent(model)) return prefix + "/" + model;
  std::string folded;
  for (char c : model) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) folded += c;
    else if (!folded.empty() && folded.back() != '-') folded += '-';
  }
  while (!folded.empty() && folded.back() == '-') folded.pop_back();
  if (folded.empty()) folded = "m";
  return prefix + "/" + folded + "-" + Digest::Of(model).hex().substr(0, 8);
}

// Keeps path and query of a Location (absolute or not).
std::string PathOf(const std::string& location) {
  const auto scheme = location.find("://");
  if (scheme == std::string::npos) return location;
  const auto slash = location.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : location.substr(slash);
}

std::string WithParam(const std::string& url, const std::string& kv) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + kv;
}

}  // namespace

Result<OciConfig> ParseOciUrl(const std::string& url) {
  OciConfig cfg;
  std::string rest;
  if (url.rfind("oci://", 0) == 0) {
    rest = url.substr(6);
  } else if (url.rfind("oci+http://", 0) == 0) {
    rest = url.substr(11);
    cfg.plain_http = true;
  } else {
    return Status::InvalidArgument("--blobs '" + url +
                                   "': want oci://HOST[:PORT]/PREFIX (or oci+http://127.0.0.1:PORT/PREFIX for tests)");
  }
  const auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= rest.size())
    return Status::InvalidArgument("--blobs '" + url + "': want HOST[:PORT]/PREFIX after the scheme");
  std::string hostport = rest.substr(0, slash);
  cfg.prefix = rest.substr(slash + 1);
  while (!cfg.prefix.empty() && cfg.prefix.back() == '/') cfg.prefix.pop_back();
  if (hostport.find('@') != std::string::npos)
    return Status::InvalidArgument(
        "--blobs: no credentials in the URL; use --blobs-credentials FILE or "
        "MODELREG_BLOBS_USER/MODELREG_BLOBS_PASSWORD");
  const auto colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']') == std::string::npos) {
    cfg.host = hostport.substr(0, colon);
    const std::string port = hostport.substr(colon + 1);
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p <= 0 || p > 65535)
      return Status::InvalidArgument("--blobs '" + url + "': bad port '" + port + "'");
    cfg.port = static_cast<int>(p);
  } else {
    cfg.host = hostport;
    cfg.port = cfg.plain_http ? 80 : 443;
  }
  if (cfg.host.empty()) return Status::InvalidArgument("--blobs '" + url + "': no host");
  size_t start = 0;
  for (;;) {
    const auto end = cfg.prefix.find('/', start);
    const std::string part = cfg.prefix.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!IsOciComponent(part))
      return Status::InvalidArgument("--blobs '" + url + "': repository prefix '" + cfg.prefix +
                                     "' is not a valid OCI repository name (lowercase letters, digits, and '.', "
                                     "'_', '-' between them, parts separated by '/')");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (cfg.plain_http && !IsLoopback(cfg.host))
    return Status::InvalidArgument("--blobs '" + url +
                                   "': oci+http:// (no TLS) is only for a registry on the loopback interface; "
                                   "use oci:// (TLS, --blobs-ca for a private CA)");
  return cfg;
}

Status LoadOciCredentials(OciConfig* cfg, const std::string& credentials_file) {
  if (!credentials_file.empty()) {
    MR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(credentials_file, 64 << 10));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || text.find('\n') != std::string::npos)
      return Status::InvalidArgument("--blobs-credentials " + credentials_file + ": want one line 'user:password'");
    cfg->user = text.substr(0, colon);
    cfg->password = text.substr(colon + 1);
    return Status::OK();
  }
  const char* user = std::getenv("MODELREG_BLOBS_USER");
  const char* password = std::getenv("MODELREG_BLOBS_PASSWORD");
  if (user && *user) {
    cfg->user = user;
    cfg->password = password ? password : "";
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------

class OciBackend : public BlobBackend {
 public:
  OciBackend(OciConfig cfg, std::string staging) : cfg_(std::move(cfg)), staging_(std::move(staging)) {}

  std::string Describe() const override {
    return std::string(cfg_.plain_http ? "oci+http://" : "oci://") + cfg_.host + ":" + std::to_string(cfg_.port) + "/" +
           cfg_.prefix;
  }
  Status Ping() const override;
  Result<std::optional<uint64_t>> Stat(const Digest& d) const override;
  Result<std::unique_ptr<BlobReader>> Open(const Digest& d) const override;
  Status PutBytes(const Digest& expected, std::string_view bytes) override;
  Status PublishBundle(const std::string& model, std::string_view manifest, const std::string& tag) override;

  Status CreateUpload(const std::string& id) override;
  Result<uint64_t> UploadSize(const std::string& id) const override;
  Result<std::unique_ptr<BlobAppender>> Append(const std::string& id, uint64_t expected_offset) override;
  Result<FileDigest> CommitUpload(const std::string& id, const Digest& expected) override;
  void RemoveUpload(const std::string& id) override;
  // Sessions of other replicas look the same as leftovers here: nothing is
  // removed (expiry goes through RemoveUpload; the registry purges stale
  // uploads of its own).
  size_t RemoveUploadFilesExcept(std::vector<std::string>) override { return 0; }
  std::unique_ptr<BlobBatch> NewBatch() override;

  Status Init();

  // ---- HTTP ----
  std::unique_ptr<httplib::Client> NewClient() const;
  // A kept-alive client from a small pool, returned to it when the lease
  // ends (metadata calls: HEAD, state manifests, mounts).
  class Lease {
   public:
    explicit Lease(const OciBackend* b) : b_(b), cli_(b->Take()) {}
    ~Lease() { b_->Give(std::move(cli_)); }
    httplib::Client& operator*() { return *cli_; }

   private:
    const OciBackend* b_;
    std::unique_ptr<httplib::Client> cli_;
  };
  Lease Borrow() const { return Lease(this); }
  std::unique_ptr<httplib::Client> Take() const {
    std::lock_guard<std::mutex> l(pool_mu_);
    if (pool_.empty()) return NewClient();
    auto c = std::move(pool_.back());
    pool_.pop_back();
    return c;
  }
  void Give(std::unique_ptr<httplib::Client> c) const {
    std::lock_guard<std::mutex> l(pool_mu_);
    if (pool_.size() < 16) pool_.push_back(std::move(c));
  }
  // Sends one request with the credentials (following a Bearer challenge
  // once). A transport failure or a 5xx is Unavailable.
  Result<httplib::Response> Call(
      httplib::Client& cli, const std::string& what,
      const std::function<httplib::Result(httplib::Client&, const httplib::Headers&)>& send) const;
  Status Unexpected(const std::string& what, const httplib::Response& r) const;
  std::string BlobsRepo() const { return cfg_.prefix; }
  // Uploads `size` bytes from `read` (called with offset, buffer, length)
  // as one blob in `repo` (POST, then PUT ?digest=).
  Status PushBlob(httplib::Client& cli, const std::string& repo, const Digest& d, uint64_t size,
                  const std::function<bool(uint64_t, char*, size_t)>& read) const;

  // ---- upload session state (a tagged manifest in PREFIX) ----
  struct State {
    std::string location;  // the backend's upload URL (path and query)
    uint64_t offset = 0;
    std::string manifest_digest;  // of the state manifest, to delete it
  };
  Result<State> LoadState(httplib::Client& cli, const std::string& id) const;
  Status SaveState(httplib::Client& cli, const std::string& id, const State& s) const;
  void DropState(httplib::Client& cli, const std::string& id) const;

  // In-process: one appender per session, and the running hash of a session
  // whose bytes all went through this process.
  struct Local {
    std::mutex busy;
    std::unique_ptr<Sha256> hash;
    uint64_t hashed = 0;
  };
  std::shared_ptr<Local> LocalFor(const std::string& id) const {
    std::lock_guard<std::mutex> l(mu_);
    auto& s = sessions_[id];
    if (!s) s = std::make_shared<Local>();
    return s;
  }
  void ForgetLocal(const std::string& id) const {
    std::lock_guard<std::mutex> l(mu_);
    sessions_.erase(id);
  }

  const OciConfig& cfg() const { return cfg_; }
  const std::string& staging() const { return staging_; }

 private:
  OciConfig cfg_;
  std::string staging_;  // DATA/oci-staging: batches before they are pushed
  Digest empty_config_ = Digest::Of("{}");
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<Local>> sessions_;
  mutable std::mutex pool_mu_;
  mutable std::vector<std::unique_ptr<httplib::Client>> pool_;
  mutable std::mutex token_mu_;
  mutable std::string bearer_;  // the last token a Bearer challenge gave
};

std::unique_ptr<httplib::Client> OciBackend::NewClient() const {
  const std::string base =
      std::string(cfg_.plain_http ? "http://" : "https://") + cfg_.host + ":" + std::to_string(cfg_.port);
  auto cli = std::make_unique<httplib::Client>(base);
  cli->set_connection_timeout(5, 0);
  cli->set_read_timeout(60, 0);
  cli->set_write_timeout(60, 0);
  cli->set_keep_alive(true);
  cli->set_follow_location(false);  // upload Locations are followed by hand
  if (!cfg_.plain_http) {
    cli->enable_server_certificate_verification(true);
    if (!cfg_.ca_file.empty()) cli->set_ca_cert_path(cfg_.ca_file.c_str());
  }
  return cli;
}

namespace {

// key="value" pairs of a WWW-Authenticate challenge.
std::map<std::string, std::string> ChallengeParams(const std::string& h) {
  std::map<std::string, std::string> out;
  size_t i = h.find(' ');
  while (i != std::string::npos && i < h.size()) {
    while (i < h.size() && (h[i] == ' ' || h[i] == ',')) ++i;
    const auto eq = h.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = h.substr(i, eq - i);
    std::string value;
    size_t j = eq + 1;
    if (j < h.size() && h[j] == '"') {
      const auto close = h.find('"', j + 1);
      if (close == std::string::npos) break;
      value = h.substr(j + 1, close - j - 1);
      j = close + 1;
    } else {
      const auto comma = h.find(',', j);
      value = h.substr(j, comma == std::string::npos ? std::string::npos : comma - j);
      j = comma == std::string::npos ? h.size() : comma;
    }
    out[key] = value;
    i = j;
  }
  return out;
}

}  // namespace

Result<httplib::Response> OciBackend::Call(
    httplib::Client& cli, const std::string& what,
    const std::function<httplib::Result(httplib::Client&, const httplib::Headers&)>& send) const {
  for (int attempt = 0;; ++attempt) {
    httplib::Headers h;
    {
      std::lock_guard<std::mutex> l(token_mu_);
      if (!bearer_.empty()) {
        h.emplace("Authorization", "Bearer " + bearer_);
      } else if (!cfg_.user.empty()) {
        h.emplace(httplib::make_basic_authentication_header(cfg_.user, cfg_.password));
      }
    }
    httplib::Result r = send(cli, h);
    if (!r)
      return Status::Unavailable("blob backend " + Describe() + " unreachable (" + what +
                                 "): " + httplib::to_string(r.error()));
    if (r->status >= 500)
      return Status::Unavailable("blob backend " + Describe() + " answered " + std::to_string(r->status) + " to " +
                                 what);
    const std::string challenge = r->get_header_value("WWW-Authenticate");
    if (r->status == 401 && attempt == 0 && challenge.rfind("Bearer ", 0) == 0) {
      // Token auth (distribution's token spec): ask the realm for a token,
      // with the basic credentials if any.
      auto params = ChallengeParams(challenge);
      const std::string realm = params["realm"];
      const auto scheme_end = realm.find("://");
      if (scheme_end == std::string::npos) return Status::Internal("blob backend: bad Bearer realm '" + realm + "'");
      const auto path_start = realm.find('/', scheme_end + 3);
      httplib::Client auth(realm.substr(0, path_start));
      auth.set_connection_timeout(5, 0);
      auth.set_read_timeout(30, 0);
      auth.enable_server_certificate_verification(true);
      if (!cfg_.ca_file.empty()) auth.set_ca_cert_path(cfg_.ca_file.c_str());
      std::string path = path_start == std::string::npos ? "/" : realm.substr(path_start);
      httplib::Params q;
      if (params.count("service")) q.emplace("service", params["service"]);
      if (params.count("scope")) q.emplace("scope", params["scope"]);
      path = httplib::append_query_params(path, q);
      httplib::Headers ah;
      if (!cfg_.user.empty()) ah.emplace(httplib::make_basic_authentication_header(cfg_.user, cfg_.password));
      auto tr = auth.Get(path, ah);
      if (!tr) return Status::Unavailable("blob backend token service " + realm + " unreachable");
      if (tr->status != 200)
        return Status::Internal("blob backend token service " + realm + " answered " + std::to_string(tr->status) +
                                " (check --blobs-credentials)");
      auto j = nlohmann::json::parse(tr->body, nullptr, false);
      std::string token = j.is_object() ? j.value("token", j.value("access_token", "")) : "";
      if (token.empty()) return Status::Internal("blob backend token service " + realm + " gave no token");
      std::lock_guard<std::mutex> l(token_mu_);
      bearer_ = token;
      continue;
    }
    if (r->status == 401 || r->status == 403)
      return Status::Internal("blob backend " + Describe() + " refused " + what + " (" + std::to_string(r->status) +
                              "): check --blobs-credentials / MODELREG_BLOBS_USER");
    return std::move(*r);
  }
}

Status OciBackend::Unexpected(const std::string& what, const httplib::Response& r) const {
  return Status::Internal("blob backend " + Describe() + ": " + what + " answered " + std::to_string(r.status) + ": " +
                          r.body.substr(0, 300));
}

Status OciBackend::Ping() const {
  auto cli = Borrow();
  MR_ASSIGN_OR_RETURN(
      auto r, Call(*cli, "GET /v2/", [](httplib::Client& c, const httplib::Headers& h) { return c.Get("/v2/", h); }));
  if (r.status != 200) return Unexpected("GET /v2/", r);
  return Status::OK();
}

Result<std::optional<uint64_t>> OciBackend::Stat(const Digest& d) const {
  auto cli = Borrow();
  const std::string path = "/v2/" + BlobsRepo() + "/blobs/" + d.str();
  MR_ASSIGN_OR_RETURN(auto r, Call(*cli, "HEAD " + d.str(),
                                   [&](httplib::Client& c, const httplib::Headers& h) { return c.Head(path, h); }));
  if (r.status == 404) return std::optional<uint64_t>();
  if (r.status != 200) return Unexpected("HEAD " + path, r);
  const std::string len = r.get_header_value("Content-Length");
  if (len.empty()) return Unexpected("HEAD " + path + " (no Content-Length)", r);
  return std::optional<uint64_t>(std::strtoull(len.c_str(), nullptr, 10));
}

Status OciBackend::PushBlob(httplib::Client& cli, const std::string& repo, const Digest& d, uint64_t size,
                            const std::function<bool(uint64_t, char*, size_t)>& read) const {
  const std::string start = "/v2/" + repo + "/blobs/uploads/";
  MR_ASSIGN_OR_RETURN(auto r, Call(cli, "start upload", [&](httplib::Client& c, const httplib::Headers& h) {
                        return c.Post(start, h, "", "application/octet-stream");
                      }));
  if (r.status != 202) return Unexpected("POST " + start, r);
  const std::string put = WithParam(PathOf(r.get_header_value("Location")), "digest=" + d.str());
  std::vector<char> buf;
  MR_ASSIGN_OR_RETURN(auto p, Call(cli, "finish upload", [&](httplib::Client& c, const httplib::Headers& h) {
                        return c.Put(
                            put, h, static_cast<size_t>(size),
                            [&](size_t off, size_t len, httplib::DataSink& sink) {
                              if (buf.empty()) buf.resize(1 << 20);
                              const size_t n = std::min(len, buf.size());
                              if (!read(off, buf.data(), n)) return false;
                              return sink.write(buf.data(), n);
                            },
                            "application/octet-stream");
                      }));
  if (p.status == 400 && p.body.find("DIGEST_INVALID") != std::string::npos)
    return Status::DataLoss("blob backend " + Describe() + " received bytes that are not " + d.str());
  if (p.status != 201) return Unexpected("PUT blob " + d.str(), p);
  return Status::OK();
}

Status OciBackend::PutBytes(const Digest& expected, std::string_view bytes) {
  Digest got = Digest::Of(bytes);
  if (got != expected)
    return Status::InvalidArgument("digest mismatch: expected " + expected.str() + ", got " + got.str());
  MR_ASSIGN_OR_RETURN(auto size, Stat(expected));
  if (size) return Status::OK();
  auto cli = Borrow();
  return PushBlob(*cli, BlobsRepo(), expected, bytes.size(), [&](uint64_t off, char* buf, size_t n) {
    if (off + n > bytes.size()) return false;
    std::memcpy(buf, bytes.data() + off, n);
    return true;
  });
}

Status OciBackend::Init() {
  MR_RETURN_IF_ERROR(Ping());
  MR_RETURN_IF_ERROR(MakeDirs(staging_));
  // The config of upload-state manifests must exist in PREFIX.
  return PutBytes(empty_config_, "{}");
}

// ---- bundles ----

Status OciBackend::PublishBundle(const std::string& model, std::string_view manifest, const std::string& tag) {
  // Already checked under the service's limits at register.
  auto m = ParseManifest(manifest, BundleLimits{UINT64_MAX, UINT64_MAX, SIZE_MAX});
  if (!m.ok()) return m.status().WithContext("bundle manifest");
  const std::string repo = ModelRepo(cfg_.prefix, model);
  auto cli = Borrow();
  if (tag.empty()) {
    // The bundle's blobs, mounted from PREFIX (no bytes move).
    std::vector<Digest> digests = {m->config.digest};
    for (const auto& l : m->layers) digests.push_back(l.digest);
    std::sort(digests.begin(), digests.end());
    digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
    for (const auto& d : digests) {
      const std::string path = "/v2/" + repo + "/blobs/uploads/?mount=" + d.str() + "&from=" + BlobsRepo();
      MR_ASSIGN_OR_RETURN(auto r, Call(*cli, "mount " + d.str(), [&](httplib::Client& c, const httplib::Headers& h) {
                            return c.Post(path, h, "", "application/octet-stream");
                          }));
      if (r.status == 201) continue;
      if (r.status == 202) {  // no mount here: cancel the session it opened
        const std::string loc = PathOf(r.get_header_value("Location"));
        (void)Call(*cli, "cancel", [&](httplib::Client& c, const httplib::Headers& h) { return c.Delete(loc, h); });
        return Status::Internal("blob backend " + Describe() + " cannot mount " + d.str() + " from " + BlobsRepo() +
                                " into " + repo + " (cross-repository mount unsupported)");
      }
      return Unexpected("mount " + d.str() + " into " + repo, r);
    }
  }
  const std::string ref = tag.empty() ? Digest::Of(manifest).str() : tag;
  const std::string path = "/v2/" + repo + "/manifests/" + ref;
  MR_ASSIGN_OR_RETURN(auto r, Call(*cli, "PUT manifest", [&](httplib::Client& c, const httplib::Headers& h) {
                        return c.Put(path, h, std::string(manifest), kOciManifestMediaType);
                      }));
  if (r.status != 201) return Unexpected("PUT " + path, r);
  return Status::OK();
}

// ---- readers ----

namespace {

// Reads a blob with ranged GETs of kReadWindow bytes, hashing every byte in
// order; the window holding the blob's last byte is checked before any of
// it is returned. Reading backwards starts the hash over.
class OciReader : public BlobReader {
 public:
  OciReader(const OciBackend* b, Digest d, uint64_t size)
      : b_(b), d_(d), size_(size), path_("/v2/" + b->cfg().prefix + "/blobs/" + d.str()), cli_(b) {}

  uint64_t size() const override { return size_; }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    MR_RETURN_IF_ERROR(failed_);
    if (offset >= size_ || n == 0) return size_t{0};
    if (offset < win_start_) Restart();
    while (offset >= pos_) MR_RETURN_IF_ERROR(Fetch());
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, pos_ - offset));
    std::memcpy(buf, window_.data() + (offset - win_start_), take);
    return take;
  }

  Status VerifyWhole() override {
    while (pos_ < size_ && failed_.ok()) MR_RETURN_IF_ERROR(Fetch());
    return failed_;
  }

 private:
  void Restart() {
    hash_ = Sha256();
    pos_ = win_start_ = 0;
    window_.clear();
  }

  Status Fetch() {
    const uint64_t end = std::min<uint64_t>(pos_ + kReadWindow, size_);
    httplib::Headers range = {{"Range", "bytes=" + std::to_string(pos_) + "-" + std::to_string(end - 1)}};
    std::string body;
    body.reserve(static_cast<size_t>(end - pos_));
    bool too_long = false;
    auto r = b_->Call(*cli_, "GET " + d_.str(), [&](httplib::Client& c, const httplib::Headers& h) {
      body.clear();
      httplib::Headers all = h;
      all.insert(range.begin(), range.end());
      return c.Get(path_, all, [&](const char* data, size_t len) {
        if (body.size() + len > end - pos_) {
          too_long = true;
          return false;
        }
        body.append(data, len);
        return true;
      });
    });
    if (too_long)
      return failed_ = Status::DataLoss("blob backend " + b_->Describe() + " answered more bytes of " + d_.str() +
                                        " than asked");
    if (!r.ok()) return failed_ = r.status();
    if ((r->status != 206 && !(r->status == 200 && pos_ == 0 && end == size_)))
      return failed_ = Status::DataLoss("blob backend " + b_->Describe() + " answered " + d_.str() + " bytes " +
                                        std::to_string(pos_) + "-" + std::to_string(end - 1) + " with status " +
                                        std::to_string(r->status));
    if (body.size() != end - pos_)
      return failed_ = Status::DataLoss("blob backend " + b_->Describe() + " sent " + std::to_string(body.size()) +
                                        " bytes of " + d_.str() + " where " + std::to_string(end - pos_) +
                                        " were asked (the blob is shorter than recorded)");
    hash_.Update(body.data(), body.size());
    win_start_ = pos_;
    pos_ = end;
    window_ = std::move(body);
    if (pos_ == size_) {
      Digest got = hash_.Finish();
      if (got != d_) {
        window_.clear();
        return failed_ = Status::DataLoss("blob " + d_.str() + " in " + b_->Describe() +
                                          " is corrupt: its bytes hash to " + got.str() + "; not served");
      }
    }
    return Status::OK();
  }

  const OciBackend* b_;
  Digest d_;
  uint64_t size_;
  std::string path_;
  OciBackend::Lease cli_;  // kept alive across windows, back to the pool after
  Sha256 hash_;
  uint64_t pos_ = 0;        // bytes fetched and hashed
  uint64_t win_start_ = 0;  // window_ holds [win_start_, pos_)
  std::string window_;
  Status failed_;
};

}  // namespace

Result<std::unique_ptr<BlobReader>> OciBackend::Open(const Digest& d) const {
  MR_ASSIGN_OR_RETURN(auto size, Stat(d));
  if (!size) return Status::NotFound("blob " + d.str() + " not found");
  return std::unique_ptr<BlobReader>(new OciReader(this, d, *size));
}

// ---- upload sessions ----

Result<OciBackend::State> OciBackend::LoadState(httplib::Client& cli, const std::string& id) const {
  if (!IsValidUploadId(id)) return Status::InvalidArgument("bad upload id");
  const std::string path = "/v2/" + BlobsRepo() + "/manifests/upload-" + id;
  MR_ASSIGN_OR_RETURN(auto r, Call(cli, "GET upload state", [&](httplib::Client& c, const httplib::Headers& h) {
                        httplib::Headers all = h;
                        all.emplace("Accept", kOciManifestMediaType);
                        return c.Get(path, all);
                      }));
  if (r.status == 404) return Status::NotFound("upload " + id + " not found");
  if (r.status != 200) return Unexpected("GET " + path, r);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  const auto* ann =
      j.is_object() && j.contains("annotations") && j["annotations"].is_object() ? &j["annotations"] : nullptr;
  if (!ann || !ann->contains(kLocationAnnotation) || !ann->contains(kOffsetAnnotation) ||
      !(*ann)[kLocationAnnotation].is_string() || !(*ann)[kOffsetAnnotation].is_string())
    return Status::DataLoss("upload " + id + ": its state in the blob backend is unreadable");
  State s;
  s.location = (*ann)[kLocationAnnotation].get<std::string>();
  if (s.location.empty()) return Status::NotFound("upload " + id + " not found (cancelled)");
  s.offset = std::strtoull((*ann)[kOffsetAnnotation].get<std::string>().c_str(), nullptr, 10);
  s.manifest_digest = r.get_header_value("Docker-Content-Digest");
  if (s.manifest_digest.empty()) s.manifest_digest = Digest::Of(r.body).str();
  return s;
}

Status OciBackend::SaveState(httplib::Client& cli, const std::string& id, const State& s) const {
  nlohmann::json m = {
      {"schemaVersion", 2},
      {"mediaType", kOciManifestMediaType},
      {"config", {{"mediaType", kStateMediaType}, {"digest", empty_config_.str()}, {"size", 2}}},
      {"layers", nlohmann::json::array()},
      {"annotations", {{kLocationAnnotation, s.location}, {kOffsetAnnotation, std::to_string(s.offset)}}}};
  const std::string body = m.dump();
  const std::string path = "/v2/" + BlobsRepo() + "/manifests/upload-" + id;
  MR_ASSIGN_OR_RETURN(auto r, Call(cli, "PUT upload state", [&](httplib::Client& c, const httplib::Headers& h) {
                        return c.Put(path, h, body, kOciManifestMediaType);
                      }));
  if (r.status != 201) return Unexpected("PUT " + path, r);
  return Status::OK();
}

void OciBackend::DropState(httplib::Client& cli, const std::string& id) const {
  auto s = LoadState(cli, id);
  if (!s.ok()) return;
  if (!s->location.empty())  // the backend's session itself
    (void)Call(cli, "cancel upload",
               [&](httplib::Client& c, const httplib::Headers& h) { return c.Delete(s->location, h); });
  const std::string path = "/v2/" + BlobsRepo() + "/manifests/" + s->manifest_digest;
  auto r = Call(cli, "DELETE upload state",
                [&](httplib::Client& c, const httplib::Headers& h) { return c.Delete(path, h); });
  if (!r.ok() || r->status != 202) {
    // Deleting is disabled in this registry: mark the tag as gone instead.
    (void)SaveState(cli, id, State{"", 0, ""});
  }
}

Status OciBackend::CreateUpload(const std::string& id) {
  if (!IsValidUploadId(id)) return Status::InvalidArgument("bad upload id");
  auto cli = Borrow();
  const std::string start = "/v2/" + BlobsRepo() + "/blobs/uploads/";
  MR_ASSIGN_OR_RETURN(auto r, Call(*cli, "start upload", [&](httplib::Client& c, const httplib::Headers& h) {
                        return c.Post(start, h, "", "application/octet-stream");
                      }));
  if (r.status != 202) return Unexpected("POST " + start, r);
  MR_RETURN_IF_ERROR(SaveState(*cli, id, State{PathOf(r.get_header_value("Location")), 0, ""}));
  auto local = LocalFor(id);
  local->hash = std::make_unique<Sha256>();
  local->hashed = 0;
  return Status::OK();
}

Result<uint64_t> OciBackend::UploadSize(const std::string& id) const {
  auto cli = Borrow();
  MR_ASSIGN_OR_RETURN(State s, LoadState(*cli, id));
  return s.offset;
}

namespace {

// Buffers chunk_bytes, then PATCHes them to the backend's session and saves
// the session's new location and offset (any replica continues from there).
class OciAppender : public BlobAppender {
 public:
  OciAppender(OciBackend* b, std::string id, std::shared_ptr<OciBackend::Local> local,
              std::unique_lock<std::mutex> lock, std::unique_ptr<httplib::Client> cli, OciBackend::State state)
      : b_(b),
        id_(std::move(id)),
        local_(std::move(local)),
        lock_(std::move(lock)),
        cli_(std::move(cli)),
        state_(std::move(state)) {
    hashing_ = local_->hash && local_->hashed == state_.offset;
    if (!hashing_) local_->hash.reset();
    buf_.resize(b_->cfg().chunk_bytes);
  }
  ~OciAppender() override { (void)Close(); }

  Status Write(const char* data, size_t len) override {
    while (len > 0) {
      MR_ASSIGN_OR_RETURN(auto space, Space());
      const size_t n = std::min(len, space.second);
      std::memcpy(space.first, data, n);
      MR_RETURN_IF_ERROR(Commit(n));
      data += n;
      len -= n;
    }
    return Status::OK();
  }
  Result<std::pair<char*, size_t>> Space() override {
    if (closed_) return Status::FailedPrecondition("appender closed");
    MR_RETURN_IF_ERROR(failed_);
    if (used_ == buf_.size()) MR_RETURN_IF_ERROR(Flush());
    return std::make_pair(buf_.data() + used_, buf_.size() - used_);
  }
  Status Commit(size_t n) override {
    if (closed_) return Status::FailedPrecondition("appender closed");
    used_ += n;
    return Status::OK();
  }
  Status Close() override {
    if (closed_) return Status::OK();
    closed_ = true;
    Status st = failed_.ok() ? Flush() : failed_;
    if (lock_.owns_lock()) lock_.unlock();
    return st;
  }
  uint64_t offset() const override { return state_.offset; }

 private:
  Status Flush() {
    if (used_ == 0) return Status::OK();
    const std::string range = std::to_string(state_.offset) + "-" + std::to_string(state_.offset + used_ - 1);
    auto r = b_->Call(*cli_, "PATCH upload", [&](httplib::Client& c, const httplib::Headers& h) {
      httplib::Headers all = h;
      all.emplace("Content-Range", range);
      return c.Patch(state_.location, all, buf_.data(), used_, "application/octet-stream");
    });
    if (!r.ok()) return failed_ = r.status();
    if (r->status == 404 || r->status == 416)
      return failed_ = Status::Aborted("upload " + id_ +
                                       ": the blob backend's session moved on (another replica "
                                       "wrote to it, or it was lost); ask for the offset and resume");
    if (r->status != 202) return failed_ = b_->Unexpected("PATCH upload", *r);
    if (hashing_) {
      local_->hash->Update(buf_.data(), used_);
      local_->hashed = state_.offset + used_;
    }
    state_.offset += used_;
    state_.location = PathOf(r->get_header_value("Location"));
    used_ = 0;
    if (Status st = b_->SaveState(*cli_, id_, state_); !st.ok()) return failed_ = st;
    return Status::OK();
  }

  OciBackend* b_;
  std::string id_;
  std::shared_ptr<OciBackend::Local> local_;
  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<httplib::Client> cli_;
  OciBackend::State state_;
  std::vector<char> buf_;
  size_t used_ = 0;
  bool hashing_ = false;
  bool closed_ = false;
  Status failed_;
};

}  // namespace

Result<std::unique_ptr<BlobAppender>> OciBackend::Append(const std::string& id, uint64_t expected_offset) {
  if (!IsValidUploadId(id)) return Status::InvalidArgument("bad upload id");
  auto local = LocalFor(id);
  std::unique_lock<std::mutex> lock(local->busy, std::try_to_lock);
  if (!lock.owns_lock()) return Status::Aborted("upload " + id + " is being written by another request");
  auto cli = NewClient();
  MR_ASSIGN_OR_RETURN(State s, LoadState(*cli, id));
  if (s.offset != expected_offset)
    return Status::OutOfRange("upload " + id + " is at offset " + std::to_string(s.offset) + ", chunk starts at " +
                              std::to_string(expected_offset));
  if (s.offset == 0 && !local->hash) {
    local->hash = std::make_unique<Sha256>();
    local->hashed = 0;
  }
  return std::unique_ptr<BlobAppender>(
      new OciAppender(this, id, std::move(local), std::move(lock), std::move(cli), std::move(s)));
}

Result<FileDigest> OciBackend::CommitUpload(const std::string& id, const Digest& expected) {
  if (!IsValidUploadId(id)) return Status::InvalidArgument("bad upload id");
  auto local = LocalFor(id);
  std::unique_lock<std::mutex> lock(local->busy, std::try_to_lock);
  if (!lock.owns_lock()) return Status::Aborted("upload " + id + " is being written by another request");
  auto cli = Borrow();
  MR_ASSIGN_OR_RETURN(State s, LoadState(*cli, id));
  auto mismatch = [&](const std::string& got) {
    lock.unlock();
    RemoveUpload(id);
    return Status::InvalidArgument("digest mismatch: upload of " + std::to_string(s.offset) + " bytes has " + got +
                                   ", client said " + expected.str());
  };
  // Every byte went through this process: its hash decides before the
  // backend is asked to publish anything.
  const bool hashed_here = local->hash && local->hashed == s.offset;
  if (hashed_here) {
    Digest got = local->hash->Finish();
    local->hash.reset();
    if (got != expected) return mismatch(got.str());
  }
  const std::string put = WithParam(s.location, "digest=" + expected.str());
  MR_ASSIGN_OR_RETURN(auto r, Call(*cli, "finish upload", [&](httplib::Client& c, const httplib::Headers& h) {
                        return c.Put(put, h, "", "application/octet-stream");
                      }));
  if (r.status == 400 && r.body.find("DIGEST_INVALID") != std::string::npos)
    return mismatch("another digest (the blob backend's check)");
  if (r.status != 201) return Unexpected("PUT ?digest= of upload " + id, r);
  if (!hashed_here) {
    // Continued through another replica: read the blob back and check it
    // (size and every byte) before it counts as stored.
    MR_ASSIGN_OR_RETURN(auto reader, Open(expected));
    if (reader->size() != s.offset)
      return Status::DataLoss("blob backend stored " + std::to_string(reader->size()) + " bytes for upload " + id +
                              " of " + std::to_string(s.offset));
    MR_RETURN_IF_ERROR(reader->VerifyWhole());
  }
  lock.unlock();
  DropState(*cli, id);
  ForgetLocal(id);
  return FileDigest{expected, s.offset};
}

void OciBackend::RemoveUpload(const std::string& id) {
  if (!IsValidUploadId(id)) return;
  auto cli = Borrow();
  DropState(*cli, id);
  ForgetLocal(id);
}

// ---- batches ----

namespace {

// Each blob goes to a temporary file under DATA/oci-staging (this replica's
// own), is checked at End, and is pushed to the backend at Commit: none is
// in the backend before the whole batch arrived and checked.
class OciBatch : public BlobBatch {
 public:
  explicit OciBatch(OciBackend* b) : b_(b) {}
  ~OciBatch() override {
    if (!cur_tmp_.empty()) ::unlink(cur_tmp_.c_str());
    for (const auto& it : done_) ::unlink(it.tmp.c_str());
  }
  Status Begin(const Digest& digest, uint64_t size) override {
    if (cur_digest_) return Status::FailedPrecondition("previous blob not ended");
    cur_tmp_ = b_->staging() + "/batch-" + RandomHex(16);
    cur_fd_ = UniqueFd(::open(cur_tmp_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!cur_fd_.valid()) {
      Status st = Status::FromErrno("create " + cur_tmp_, errno);
      cur_tmp_.clear();
      return st;
    }
    cur_digest_ = digest;
    cur_size_ = size;
    cur_written_ = 0;
    cur_hash_ = std::make_unique<Sha256>();
    return Status::OK();
  }
  Status Write(const char* data, size_t len) override {
    if (!cur_digest_) return Status::FailedPrecondition("no blob begun");
    if (cur_written_ + len > cur_size_)
      return Status::InvalidArgument("blob " + cur_digest_->str() + " is longer than its stated size " +
                                     std::to_string(cur_size_));
    cur_hash_->Update(data, len);
    cur_written_ += len;
    return WriteAll(cur_fd_.get(), data, len, cur_tmp_);
  }
  Status End() override {
    if (!cur_digest_) return Status::FailedPrecondition("no blob begun");
    cur_fd_ = UniqueFd();
    Digest got = cur_hash_->Finish();
    Status st;
    if (cur_written_ != cur_size_)
      st = Status::InvalidArgument("blob " + cur_digest_->str() + " truncated: " + std::to_string(cur_written_) +
                                   " of " + std::to_string(cur_size_) + " bytes");
    else if (got != *cur_digest_)
      st = Status::InvalidArgument("digest mismatch: expected " + cur_digest_->str() + ", got " + got.str());
    if (st.ok()) done_.push_back({*cur_digest_, cur_size_, cur_tmp_});
    else ::unlink(cur_tmp_.c_str());
    cur_tmp_.clear();
    cur_digest_.reset();
    return st;
  }
  Result<size_t> Commit() override {
    if (cur_digest_) return Status::FailedPrecondition("blob not ended");
    committed_.clear();
    size_t n = 0;
    std::vector<Digest> pushed;
    auto cli = b_->NewClient();
    for (auto& it : done_) {
      MR_ASSIGN_OR_RETURN(auto stored, b_->Stat(it.digest));
      if (!stored) {
        UniqueFd fd(::open(it.tmp.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) return Status::FromErrno("open " + it.tmp, errno);
        MR_RETURN_IF_ERROR(
            b_->PushBlob(*cli, b_->cfg().prefix, it.digest, it.size, [&](uint64_t off, char* buf, size_t len) {
              ssize_t got = ::pread(fd.get(), buf, len, static_cast<off_t>(off));
              return got == static_cast<ssize_t>(len);
            }));
        ++n;
      }
      pushed.push_back(it.digest);
    }
    for (const auto& it : done_) ::unlink(it.tmp.c_str());
    done_.clear();
    committed_ = std::move(pushed);
    return n;
  }
  const std::vector<Digest>& committed() const override { return committed_; }

 private:
  struct Item {
    Digest digest;
    uint64_t size;
    std::string tmp;
  };
  OciBackend* b_;
  std::optional<Digest> cur_digest_;
  uint64_t cur_size_ = 0, cur_written_ = 0;
  std::string cur_tmp_;
  UniqueFd cur_fd_;
  std::unique_ptr<Sha256> cur_hash_;
  std::vector<Item> done_;
  std::vector<Digest> committed_;
};

}  // namespace

std::unique_ptr<BlobBatch> OciBackend::NewBatch() { return std::make_unique<OciBatch>(this); }

Result<std::unique_ptr<BlobBackend>> OpenOciBackend(const OciConfig& cfg, const std::string& data_dir) {
  auto b = std::make_unique<OciBackend>(cfg, data_dir + "/oci-staging");
  MR_RETURN_IF_ERROR(b->Init().WithContext("blob backend " + b->Describe()));
  return std::unique_ptr<BlobBackend>(std::move(b));
}

}  // namespace modelreg
