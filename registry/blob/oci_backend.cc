#include "blob/oci_backend_internal.h"

namespace modelreg {
namespace {

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

}  // namespace

std::string OciPathOf(const std::string& location) {
  const auto scheme = location.find("://");
  if (scheme == std::string::npos) return location;
  const auto slash = location.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : location.substr(slash);
}

std::string OciWithParam(const std::string& url, const std::string& kv) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + kv;
}

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

std::string OciUrlOf(const OciConfig& cfg) {
  return std::string(cfg.plain_http ? "oci+http://" : "oci://") + cfg.host + ":" + std::to_string(cfg.port) + "/" +
         cfg.prefix;
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
    cfg->credentials_file = credentials_file;
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

std::unique_ptr<httplib::Client> OciBackend::NewClient() const {
  const std::string base =
      std::string(cfg_.plain_http ? "http://" : "https://") + cfg_.host + ":" + std::to_string(cfg_.port);
  auto cli = std::make_unique<httplib::Client>(base);
  cli->set_connection_timeout(5, 0);
  cli->set_read_timeout(60, 0);
  cli->set_write_timeout(60, 0);
  cli->set_keep_alive(true);
  // Headers and body leave in separate writes: without TCP_NODELAY each
  // small request (a manifest PUT, a HEAD) waits out a delayed ACK (~40 ms).
  cli->set_tcp_nodelay(true);
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
  const std::string put = OciWithParam(OciPathOf(r.get_header_value("Location")), "digest=" + d.str());
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
        const std::string loc = OciPathOf(r.get_header_value("Location"));
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

Result<std::unique_ptr<BlobBackend>> OpenOciBackend(const OciConfig& cfg, const std::string& data_dir) {
  auto b = std::make_unique<OciBackend>(cfg, data_dir + "/oci-staging");
  MR_RETURN_IF_ERROR(b->Init().WithContext("blob backend " + b->Describe()));
  return std::unique_ptr<BlobBackend>(std::move(b));
}

}  // namespace modelreg
