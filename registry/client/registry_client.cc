#include "client/registry_client.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "client/digest_cache.h"
#include "client/pull_dir.h"
#include "core/blob_splitter.h"
#include "core/file_util.h"
#include "core/hashing_reader.h"
#include "core/manifest.h"
#include "core/pipelined_writer.h"
#include "core/upload_framing.h"
#include "net/blob_fetch.h"
#include "net/http_error.h"
#include "net/socket_read.h"

namespace modelreg {
namespace {

constexpr size_t kIoBuffer = 1 << 20;
constexpr uint64_t kMinDirectDownload = 4 << 20;

std::string UrlEscape(const std::string& s) {
  std::string out;
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') out += static_cast<char>(c);
    else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// An error of this machine's disk during a pull. A full disk (ENOSPC,
// EDQUOT, EFBIG) is Unavailable in core/status.cc, which is right for a
// server ("try later") but would read here like a registry out of reach:
// ResourceExhausted instead, so that it is neither retried nor taken for a
// network failure.
Status LocalDisk(Status st) {
  if (st.code() == StatusCode::kUnavailable) return Status::ResourceExhausted(st.message());
  return st;
}

void Backoff(int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  int base = std::min(100 << std::min(attempt, 6), 5000);
  std::uniform_int_distribution<int> jitter(0, base / 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(base + jitter(rng)));
}

}  // namespace

struct RegistryClient::Impl {
  ClientOptions opts;
  std::unique_ptr<httplib::Client> http;
  // The socket of http's current connection (set on every connect), for
  // reading large plain-HTTP bodies directly (net/socket_read.h).
  std::atomic<int> socket_fd{-1};
  bool plain_http() const { return opts.url.rfind("http://", 0) == 0; }

  httplib::Headers Auth() const {
    httplib::Headers h;
    if (!opts.token.empty()) h.emplace("Authorization", "Bearer " + opts.token);
    return h;
  }

  // A transport failure (no HTTP answer) is Unavailable: worth a retry.
  Status FromResult(const httplib::Result& r, const std::string& what) const {
    if (!r) {
      auto err = r.error();
      if (err == httplib::Error::SSLServerVerification)
        return Status::Unavailable(what + ": the TLS certificate of " + opts.url +
                                   " is not trusted (pass --ca FILE with the registry's CA)");
      if (err == httplib::Error::SSLConnection)
        return Status::Unavailable(what + ": TLS handshake with " + opts.url +
                                   " failed (is it an https server? is --ca right?)");
      return Status::Unavailable(what + ": cannot reach registry at " + opts.url + " (" +
                                 httplib::to_string(err) + ")");
    }
    return FromResponse(r->status, r->body, what);
  }

  static Status FromResponse(int status, const std::string& body, const std::string& what) {
    return net::StatusFromHttpAnswer(status, body, what);
  }

  // A kept-alive connection the server has closed fails the next request
  // without an answer; one immediate retry on a fresh connection fixes that.
  template <typename F>
  httplib::Result Once(F&& f) {
    auto r = f();
    if (!r && r.error() != httplib::Error::SSLServerVerification) r = f();
    return r;
  }

  // Blob bytes sent or received, for a progress display.
  void Moved(uint64_t n) const {
    if (opts.progress) opts.progress->bytes.fetch_add(n, std::memory_order_relaxed);
  }

  Result<nlohmann::json> ParseJson(const std::string& body, const std::string& what) const {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return Status::Internal(what + ": registry answered invalid JSON");
    return j;
  }
};

RegistryClient::RegistryClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegistryClient::~RegistryClient() = default;

Result<std::unique_ptr<RegistryClient>> RegistryClient::Create(ClientOptions options) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0)
    return Status::InvalidArgument("registry URL '" + options.url + "' must start with http:// or https://");
  while (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
  auto impl = std::make_unique<Impl>();
  impl->opts = options;
  impl->http = std::make_unique<httplib::Client>(options.url);
  if (!impl->http->is_valid()) return Status::InvalidArgument("bad registry URL '" + options.url + "'");
  if (!options.ca_file.empty()) {
    if (::access(options.ca_file.c_str(), R_OK) != 0)
      return Status::InvalidArgument("cannot read CA file '" + options.ca_file + "'");
    impl->http->set_ca_cert_path(options.ca_file.c_str());
  }
  impl->http->enable_server_certificate_verification(true);
  impl->http->set_keep_alive(true);
  impl->http->set_tcp_nodelay(true);
  impl->http->set_connection_timeout(10, 0);
  impl->http->set_read_timeout(options.timeout_s, 0);
  impl->http->set_write_timeout(options.timeout_s, 0);
  Impl* raw = impl.get();
  impl->http->set_socket_options([raw](int fd) { raw->socket_fd = fd; });
  return std::unique_ptr<RegistryClient>(new RegistryClient(std::move(impl)));
}

Result<nlohmann::json> RegistryClient::GetJson(const std::string& path) {
  auto r = impl_->Once([&] { return impl_->http->Get(path, impl_->Auth()); });
  MR_RETURN_IF_ERROR(impl_->FromResult(r, "GET " + path));
  return impl_->ParseJson(r->body, "GET " + path);
}

Result<nlohmann::json> RegistryClient::SendJson(const std::string& method, const std::string& path,
                                                const nlohmann::json& body) {
  std::string b = body.dump();
  httplib::Result r = impl_->Once([&] {
    return method == "POST"  ? impl_->http->Post(path, impl_->Auth(), b, "application/json")
           : method == "PUT" ? impl_->http->Put(path, impl_->Auth(), b, "application/json")
                             : impl_->http->Patch(path, impl_->Auth(), b, "application/json");
  });
  MR_RETURN_IF_ERROR(impl_->FromResult(r, method + " " + path));
  if (r->body.empty()) return nlohmann::json::object();
  return impl_->ParseJson(r->body, method + " " + path);
}

Status RegistryClient::Delete(const std::string& path) {
  auto r = impl_->Once([&] { return impl_->http->Delete(path, impl_->Auth()); });
  return impl_->FromResult(r, "DELETE " + path);
}

Result<std::vector<std::string>> RegistryClient::MissingBlobs(const std::vector<std::string>& digests) {
  MR_ASSIGN_OR_RETURN(auto j, SendJson("POST", "/api/v1/blobs/missing", {{"digests", digests}}));
  std::vector<std::string> out;
  for (const auto& d : j.value("missing", nlohmann::json::array())) out.push_back(d.get<std::string>());
  return out;
}

Result<std::vector<bool>> RegistryClient::MaybePresent(const std::vector<SampleProbe>& probes) {
  auto samples = nlohmann::json::array();
  for (const auto& p : probes) samples.push_back({{"size", p.size}, {"sample", p.sample}});
  MR_ASSIGN_OR_RETURN(auto j, SendJson("POST", "/api/v1/blobs/missing",
                                       {{"digests", nlohmann::json::array()}, {"samples", samples}}));
  if (!j.contains("maybe_present") || !j["maybe_present"].is_array()) return std::vector<bool>(probes.size(), true);
  std::vector<bool> out(probes.size(), false);
  for (const auto& i : j["maybe_present"])
    if (i.is_number_unsigned() && i.get<uint64_t>() < out.size()) out[i.get<size_t>()] = true;
  return out;
}

Status RegistryClient::UploadBytes(const std::string& bytes, const Digest& digest, TransferStats* stats) {
  std::string path = "/api/v1/blobs/uploads?digest=" + UrlEscape(digest.str());
  Status st;
  for (int attempt = 0; attempt <= impl_->opts.retries; ++attempt) {
    auto r = impl_->Once([&] { return impl_->http->Post(path, impl_->Auth(), bytes, "application/octet-stream"); });
    st = impl_->FromResult(r, "upload " + digest.str());
    if (st.code() != StatusCode::kUnavailable) break;
    Backoff(attempt);
  }
  if (st.ok() && stats) {
    ++stats->blobs_uploaded;
    stats->bytes_uploaded += bytes.size();
  }
  return st;
}

namespace {

// Where an unfinished upload's session is remembered, so that a client
// killed mid-upload resumes instead of starting over:
// $MODELREG_CACHE_DIR, else $XDG_CACHE_HOME/modelreg, else ~/.cache/modelreg.
std::string ResumeJournalPath(const std::string& registry_url, const std::string& key) {
  const std::string dir = DigestCache::DefaultDir();  // the client's one cache dir
  if (dir.empty()) return "";
  // One journal per registry and blob.
  return dir + "/uploads/" + Digest::Of(registry_url).hex().substr(0, 16) + "-" + key;
}

}  // namespace

Result<uint64_t> RegistryClient::UploadOffset(const std::string& session) {
  for (int attempt = 0;; ++attempt) {
    auto g = impl_->Once([&] { return impl_->http->Get(session, impl_->Auth()); });
    Status gs = impl_->FromResult(g, "upload status");
    if (gs.ok()) return std::strtoull(g->get_header_value("Upload-Offset").c_str(), nullptr, 10);
    if (gs.code() != StatusCode::kUnavailable || attempt >= impl_->opts.retries) return gs;
    Backoff(attempt);
  }
}

Status RegistryClient::UploadFile(const std::string& local, const Digest& digest, uint64_t size,
                                  TransferStats* stats) {
  return UploadFileImpl(local, digest, size, stats).status();
}

Result<Digest> RegistryClient::UploadFileHashing(const std::string& local, uint64_t size, TransferStats* stats) {
  return UploadFileImpl(local, std::nullopt, size, stats);
}

Result<Digest> RegistryClient::UploadFileImpl(const std::string& local, std::optional<Digest> known,
                                              uint64_t size, TransferStats* stats) {
  auto& http = *impl_->http;
  struct stat sb;
  if (::stat(local.c_str(), &sb) != 0) return Status::FromErrno("stat " + local, errno);
  const std::string journal_key =
      known ? known->hex()
            : Digest::Of(local + "|" + std::to_string(sb.st_size) + "|" + std::to_string(sb.st_mtim.tv_sec) + "." +
                         std::to_string(sb.st_mtim.tv_nsec))
                  .hex();
  const std::string journal = ResumeJournalPath(impl_->opts.url, journal_key);
  std::string session;
  uint64_t offset = 0;
  if (!journal.empty()) {
    if (auto j = ReadSmallFile(journal, 4096); j.ok()) {
      std::string candidate = *j;
      while (!candidate.empty() && candidate.back() == '\n') candidate.pop_back();
      if (candidate.rfind("/api/v1/blobs/uploads/", 0) == 0) {
        auto off = UploadOffset(candidate);
        if (off.ok() && *off <= size) {
          session = candidate;
          offset = *off;
        }
      }
    }
  }
  for (int attempt = 0; session.empty(); ++attempt) {
    auto r = impl_->Once([&] { return http.Post("/api/v1/blobs/uploads", impl_->Auth(), "", "application/octet-stream"); });
    Status st = impl_->FromResult(r, "start upload of " + local);
    if (st.ok()) {
      auto j = impl_->ParseJson(r->body, "start upload");
      if (!j.ok()) return j.status();
      session = "/api/v1/blobs/uploads/" + j->value("upload", "");
      if (!journal.empty() && MakeDirs(std::filesystem::path(journal).parent_path().string()).ok())
        (void)WriteFileAtomic(journal, session + "\n", 0600);
    } else if (st.code() != StatusCode::kUnavailable || attempt >= impl_->opts.retries) {
      return st;
    } else {
      Backoff(attempt);
    }
  }
  UniqueFd fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("open " + local, errno);
  // Without a known digest a HashingReader reads and hashes the file on a
  // thread of its own while this thread sends what it read. The whole file
  // is hashed in order whatever is sent: after a resume, bytes the server
  // lacks that were already read are read again here (not hashed twice).
  std::optional<HashingReader> reader;
  if (!known) reader.emplace(fd.get(), local, size);
  std::vector<char> buf;
  for (int attempt = 0; offset < size; ++attempt) {
    const uint64_t start = offset;
    httplib::Headers h = impl_->Auth();
    h.emplace("Content-Range", std::to_string(start) + "-" + std::to_string(size - 1));
    Status read_st;
    // Again at once if it failed (offsets are checked: a server that kept
    // some of it answers 416 with its offset).
    auto r = impl_->Once([&] {
      if (!read_st.ok()) return httplib::Result(nullptr, httplib::Error::Canceled);  // the file, not the network
      return http.Patch(
          session, h, size - start,
          [&](size_t off, size_t len, httplib::DataSink& sink) {
            const uint64_t pos = start + off;
            const size_t step = std::min(len, kIoBuffer);
            if (reader && pos >= reader->position()) {
              read_st = reader->Skip(pos);
              auto piece = read_st.ok() ? reader->Next(step) : Result<std::string_view>(read_st);
              if (piece.ok() && piece->empty()) piece = Status::FailedPrecondition(local + " shrank during upload");
              if (!piece.ok()) {
                read_st = piece.status();
                return false;
              }
              if (!sink.write(piece->data(), piece->size())) return false;
              impl_->Moved(piece->size());
              return true;
            }
            if (buf.empty()) buf.resize(kIoBuffer);
            ssize_t n = ::pread(fd.get(), buf.data(), step, static_cast<off_t>(pos));
            if (n <= 0) {
              read_st = Status::FailedPrecondition(local + " shrank or became unreadable during upload");
              return false;
            }
            if (!sink.write(buf.data(), static_cast<size_t>(n))) return false;
            impl_->Moved(static_cast<uint64_t>(n));
            return true;
          },
          "application/octet-stream");
    });
    if (!read_st.ok()) return read_st;
    Status st = impl_->FromResult(r, "upload " + local);
    if (st.ok()) {
      if (stats) stats->bytes_uploaded += size - start;
      offset = size;
      break;
    }
    const bool retryable = st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kOutOfRange ||
                           st.code() == StatusCode::kAborted ||
                           (st.code() == StatusCode::kInvalidArgument &&
                            st.message().find("cut off") != std::string::npos);
    if (!retryable || attempt >= impl_->opts.retries) return st;
    // Connection lost or offsets disagree: ask the server how much it kept.
    if (st.code() != StatusCode::kOutOfRange) Backoff(attempt);
    MR_ASSIGN_OR_RETURN(uint64_t kept, UploadOffset(session));
    if (stats) stats->bytes_uploaded += kept > start ? kept - start : 0;
    offset = kept;
  }
  Result<Digest> hashed = known ? Result<Digest>(*known) : reader->Finish();
  if (!hashed.ok()) return hashed.status();
  const Digest digest = *hashed;
  struct stat after;
  if (::stat(local.c_str(), &after) != 0 || after.st_size != sb.st_size ||
      after.st_mtim.tv_nsec != sb.st_mtim.tv_nsec || after.st_mtim.tv_sec != sb.st_mtim.tv_sec)
    return Status::FailedPrecondition(local + " changed during upload");
  Status st;
  for (int attempt = 0; attempt <= impl_->opts.retries; ++attempt) {
    auto r = impl_->Once([&] {
      return http.Put(session + "?digest=" + UrlEscape(digest.str()), impl_->Auth(), "", "application/octet-stream");
    });
    st = impl_->FromResult(r, "finish upload of " + local);
    if (st.code() != StatusCode::kUnavailable) break;
    Backoff(attempt);
  }
  if (!journal.empty()) ::unlink(journal.c_str());
  if (!st.ok()) return st;
  if (stats) ++stats->blobs_uploaded;
  return digest;
}

Status RegistryClient::UploadBatch(const std::vector<const LocalFile*>& files, TransferStats* stats) {
  if (files.empty()) return Status::OK();
  std::vector<std::string> headers;
  uint64_t total = 0, payload = 0;
  for (const auto* f : files) {
    headers.push_back(BatchFrameHeader(f->digest, f->size));
    total += headers.back().size() + f->size;
    payload += f->size;
  }
  Status st;
  for (int attempt = 0; attempt <= impl_->opts.retries; ++attempt) {
    size_t idx = 0;
    uint64_t pos = 0;  // position inside header + file of files[idx]
    UniqueFd cur;
    std::vector<char> buf(kIoBuffer);
    Status read_st;
    auto provider = [&](size_t, size_t len, httplib::DataSink& sink) {
      if (idx >= files.size()) return false;
      const std::string& hdr = headers[idx];
      if (pos < hdr.size()) {
        size_t n = std::min<size_t>(hdr.size() - pos, len);
        if (!sink.write(hdr.data() + pos, n)) return false;
        pos += n;
      } else {
        if (!cur.valid()) {
          cur = UniqueFd(::open(files[idx]->local.c_str(), O_RDONLY | O_CLOEXEC));
          if (!cur.valid()) {
            read_st = Status::FromErrno("open " + files[idx]->local, errno);
            return false;
          }
        }
        uint64_t foff = pos - hdr.size();
        uint64_t left = files[idx]->size - foff;
        if (left > 0) {
          size_t want = static_cast<size_t>(std::min<uint64_t>({left, len, buf.size()}));
          ssize_t n = ::pread(cur.get(), buf.data(), want, static_cast<off_t>(foff));
          if (n <= 0) {
            read_st = Status::FailedPrecondition(files[idx]->local + " changed during upload");
            return false;
          }
          if (!sink.write(buf.data(), static_cast<size_t>(n))) return false;
          impl_->Moved(static_cast<uint64_t>(n));
          pos += static_cast<uint64_t>(n);
          left -= static_cast<uint64_t>(n);
        }
        if (left == 0) {
          cur = UniqueFd();
          ++idx;
          pos = 0;
        }
      }
      return true;
    };
    auto r = impl_->Once([&] {
      if (!read_st.ok()) return httplib::Result(nullptr, httplib::Error::Canceled);  // the file, not the network
      idx = 0;  // from the first frame again
      pos = 0;
      cur = UniqueFd();
      return impl_->http->Post("/api/v1/blobs/batch", impl_->Auth(), total, provider,
                               "application/vnd.modelreg.blob-batch");
    });
    if (!read_st.ok()) return read_st;
    st = impl_->FromResult(r, "batch upload");
    if (st.code() != StatusCode::kUnavailable) break;
    Backoff(attempt);
  }
  if (st.ok() && stats) {
    stats->blobs_uploaded += files.size();
    stats->bytes_uploaded += payload;
  }
  return st;
}

Result<nlohmann::json> RegistryClient::PutManifest(const std::string& model, const std::string& manifest) {
  std::string path = "/api/v1/models/" + UrlEscape(model) + "/versions";
  Status st;
  for (int attempt = 0; attempt <= impl_->opts.retries; ++attempt) {
    auto r = impl_->Once([&] { return impl_->http->Put(path, impl_->Auth(), manifest, kOciManifestMediaType); });
    st = impl_->FromResult(r, "register " + model);
    if (st.ok()) return impl_->ParseJson(r->body, "register");
    if (st.code() != StatusCode::kUnavailable) break;
    Backoff(attempt);
  }
  return st;
}

Result<RegisterOutcome> RegistryClient::Register(const std::string& model, const std::string& dir,
                                                 const LineageRecord& lineage) {
  MR_RETURN_IF_ERROR(ValidateModelName(model));
  // Large files are hashed while they are uploaded (one read instead of
  // two), unless the digest cache already knows them unchanged.
  MR_ASSIGN_OR_RETURN(auto files, ScanBundleDir(dir, BundleLimits{}, impl_->opts.stream_hash_above));
  DigestCache cache(DigestCache::DefaultDir());
  RegisterOutcome out;
  for (auto& f : files) {
    if (f.hashed) continue;
    if (auto d = cache.Lookup(f.local)) {
      f.digest = *d;
      f.hashed = true;
    }
  }
  // A large file that no blob of the registry can be (none has its size and
  // sample) is hashed while it uploads. The others are hashed first, so
  // that a known one is not sent again (an unchanged bundle re-registered
  // from a machine without the digest cache uploads nothing).
  std::vector<LocalFile*> unhashed;
  std::vector<SampleProbe> probes;
  for (auto& f : files) {
    if (f.hashed) continue;
    UniqueFd fd(::open(f.local.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno("open " + f.local, errno);
    MR_ASSIGN_OR_RETURN(Digest sample, SampleFd(fd.get(), f.size, f.local));
    unhashed.push_back(&f);
    probes.push_back({f.size, sample.str()});
  }
  if (!probes.empty()) {
    MR_ASSIGN_OR_RETURN(auto maybe, MaybePresent(probes));
    for (size_t i = 0; i < unhashed.size(); ++i) {
      if (!maybe[i]) continue;
      LocalFile& f = *unhashed[i];
      struct stat before;
      if (::stat(f.local.c_str(), &before) != 0) return Status::FromErrno("stat " + f.local, errno);
      MR_ASSIGN_OR_RETURN(auto hashed, HashFile(f.local));
      if (hashed.size != f.size) return Status::FailedPrecondition(f.local + " changed while it was read");
      f.digest = hashed.digest;
      f.hashed = true;
      cache.Store(f.local, before, f.digest);
    }
  }
  std::set<std::string> streamed;
  for (auto& f : files) {
    if (f.hashed) continue;
    struct stat before;
    if (::stat(f.local.c_str(), &before) != 0) return Status::FromErrno("stat " + f.local, errno);
    MR_ASSIGN_OR_RETURN(f.digest, UploadFileHashing(f.local, f.size, &out.stats));
    f.hashed = true;
    streamed.insert(f.digest.str());
    cache.Store(f.local, before, f.digest);
  }
  const std::string config = SerializeLineage(lineage);
  const Digest config_digest = Digest::Of(config);
  Manifest m = BuildManifest(kModelArtifactType,
                             Descriptor{kLineageMediaType, config_digest, config.size(), ""},
                             ToBundleFiles(files));
  const std::string manifest = SerializeManifest(m);
  const BundleLimits limits;
  if (manifest.size() > limits.max_manifest_bytes)
    return Status::ResourceExhausted("manifest of " + std::to_string(files.size()) + " files is " +
                                     std::to_string(manifest.size()) + " bytes; the limit is " +
                                     std::to_string(limits.max_manifest_bytes));

  out.stats.files = files.size();
  out.stats.bytes_total = m.TotalLayerBytes();
  std::vector<std::string> digests = {config_digest.str()};
  for (const auto& f : files) digests.push_back(f.digest.str());
  std::sort(digests.begin(), digests.end());
  digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
  MR_ASSIGN_OR_RETURN(auto missing_list, MissingBlobs(digests));
  std::set<std::string> missing(missing_list.begin(), missing_list.end());

  if (missing.count(config_digest.str()))
    MR_RETURN_IF_ERROR(UploadBytes(config, config_digest, &out.stats));
  std::vector<const LocalFile*> batch;
  uint64_t batch_bytes = 0;
  std::set<std::string> sent = streamed;
  for (const auto& f : files) {
    if (!missing.count(f.digest.str()) || !sent.insert(f.digest.str()).second) continue;
    if (f.size > impl_->opts.batch_threshold) {
      MR_RETURN_IF_ERROR(UploadFile(f.local, f.digest, f.size, &out.stats));
      continue;
    }
    batch.push_back(&f);
    batch_bytes += f.size;
    if (batch_bytes >= impl_->opts.batch_max_bytes || batch.size() >= 10000) {
      MR_RETURN_IF_ERROR(UploadBatch(batch, &out.stats));
      batch.clear();
      batch_bytes = 0;
    }
  }
  MR_RETURN_IF_ERROR(UploadBatch(batch, &out.stats));
  MR_ASSIGN_OR_RETURN(out.version, PutManifest(model, manifest));
  return out;
}

// ---- pull ----

namespace {

// Downloads one blob into `path` (created new), verifying size and digest
// while streaming; resumes with Range after a lost connection.
// `resume_from` > 0: `path` already holds that many bytes of the blob (left
// by a killed pull; hashed here, not trusted until the whole blob verifies).
Status DownloadBlob(RegistryClient::Impl& impl, const std::string& url_path, const std::string& path,
                    const Digest& digest, uint64_t size, TransferStats* stats, uint64_t resume_from = 0) {
  UniqueFd fd(resume_from > 0 ? ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW)
                              : ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return LocalDisk(Status::FromErrno("create " + path, errno));
  // This thread reads the socket; helper threads hash, write and sync.
  std::unique_ptr<Sha256> hash;
  std::unique_ptr<PipelinedWriter> writer;
  auto start_at = [&](uint64_t offset) {  // a fresh writer from `offset`, after `hash` took [0, offset)
    writer = std::make_unique<PipelinedWriter>(fd.get(), path, hash.get(), offset, size - offset,
                                               PipelinedWriter::kSyncEvery, impl.opts.direct_io);
  };
  auto start_over = [&] {  // a fresh hash and writer from offset 0
    hash = std::make_unique<Sha256>();
    start_at(0);
  };
  uint64_t got = 0;
  if (resume_from > 0 && resume_from < size) {
    hash = std::make_unique<Sha256>();
    MR_RETURN_IF_ERROR(HashFd(fd.get(), hash.get(), path));
    if (hash->bytes() != resume_from) return Status::FailedPrecondition(path + " changed while the pull resumed it");
    start_at(resume_from);
    got = resume_from;
  } else {
    start_over();
  }
  Status io;     // a transfer error (Unavailable: retried)
  Status local;  // an error of this machine's disk (a full one too): final
  auto take = [&](const char* data, size_t n) {
    if (got + n > size) {
      io = Status::DataLoss("blob " + digest.str() + " is longer than its manifest size");
      return false;
    }
    local = writer->Write(data, n);
    got += n;
    if (stats) stats->bytes_downloaded += n;
    impl.Moved(n);
    return local.ok();
  };
  for (int attempt = 0;; ++attempt) {
    httplib::Headers h = impl.Auth();
    if (got > 0) h.emplace("Range", "bytes=" + std::to_string(got) + "-");
    int status = 0;
    bool direct_done = false;
    uint64_t resp_len = 0, resp_got = 0;  // this response's Content-Length and bytes so far
    std::string error_body;               // the body of an error answer (the registry's JSON error)
    auto r = impl.http->Get(
        url_path, h,
        [&](const httplib::Response& res) {
          status = res.status;
          const std::string cl = res.get_header_value("Content-Length");
          resp_len = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
          if (got > 0 && res.status == 200) {  // server ignored Range: start over
            local = writer->Finish();
            if (local.ok() && (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0))
              local = Status::FromErrno("truncate " + path, errno);
            if (!local.ok()) return false;
            start_over();
            got = 0;
          }
          return true;  // an error answer's body is read too: it says what went wrong
        },
        [&](const char* data, size_t n) {
          if (status != 200 && status != 206) {
            net::AppendErrorBody(&error_body, data, n);
            return true;
          }
          if (!take(data, n)) return false;
          resp_got += n;
          // A large body over plain HTTP: after httplib's first chunk (what it
          // had buffered with the headers) nothing of the body is left inside
          // httplib; read the rest from the socket straight into the
          // writer's buffers, then stop httplib (the connection is then
          // closed, which costs one connect).
          const int fd = impl.socket_fd;
          const uint64_t rest = resp_len > resp_got ? resp_len - resp_got : 0;
          if (rest >= kMinDirectDownload && impl.plain_http() && fd >= 0) {
            if (got + rest > size) {
              io = Status::DataLoss("blob " + digest.str() + " is longer than its manifest size");
              return false;
            }
            Status st = ReadSocketInto(
                fd, rest, impl.opts.timeout_s * 1000, [&] { return writer->Space(); },
                [&](size_t n) {
                  local = writer->Commit(n);
                  MR_RETURN_IF_ERROR(local);
                  got += n;
                  if (stats) stats->bytes_downloaded += n;
                  impl.Moved(n);
                  return Status::OK();
                });
            if (!st.ok() && local.ok()) io = st;  // Unavailable: resumed with Range below
            direct_done = st.ok();
            return false;
          }
          return true;
        });
    MR_RETURN_IF_ERROR(LocalDisk(local));
    if (direct_done && got == size) break;
    if (io.code() == StatusCode::kUnavailable && attempt < impl.opts.retries) {
      io = Status::OK();
      Backoff(attempt);
      continue;
    }
    MR_RETURN_IF_ERROR(io);
    if (r && (status == 200 || status == 206) && got == size) break;
    Status st = r ? (status >= 300 ? impl.FromResponse(status, error_body, "download " + digest.str())
                                   : Status::Unavailable("download of " + digest.str() + " ended early"))
                  : impl.FromResult(r, "download " + digest.str());
    if (st.code() != StatusCode::kUnavailable || attempt >= impl.opts.retries) return st;
    Backoff(attempt);
  }
  MR_RETURN_IF_ERROR(LocalDisk(writer->Finish()));
  Digest d = hash->Finish();
  if (d != digest)
    return Status::DataLoss("downloaded bytes of " + path + " hash to " + d.str() + ", manifest says " +
                            digest.str());
  return Status::OK();
}

// Downloads `items` (name: the file to create) with POST {base}/blobs/fetch:
// the answer is their bytes concatenated in the order asked, cut and
// checked by a BlobSplitter as it streams. After a lost connection it asks
// again for the files not yet complete. False if the server answers 404 (a
// server without the endpoint: the caller falls back to one GET per file,
// which also names a blob that is really missing).
Result<bool> FetchBlobs(RegistryClient::Impl& impl, const std::string& base, const std::vector<SplitBlob>& items,
                        TransferStats* stats) {
  const httplib::Headers auth = impl.Auth();
  const std::vector<std::pair<std::string, std::string>> headers(auth.begin(), auth.end());
  size_t done = 0;  // items[0, done) are complete and checked
  for (int attempt = 0; done < items.size(); ++attempt) {
    BlobSplitter split(
        items, done, [&](size_t i) { return CreateFresh(items[i].name); },  // after an attempt cut short too
        [](size_t, int) { return Status::OK(); });                          // made durable by the pull, all at once
    uint64_t received = 0;
    net::FetchAnswer a = net::PostFetch(*impl.http, base + "/blobs/fetch", headers, items, done, split, &received);
    if (stats) stats->bytes_downloaded += received;
    impl.Moved(received);
    done = split.complete();
    MR_RETURN_IF_ERROR(LocalDisk(a.io));
    if (a.transport_ok && a.status == 404) return false;
    Status answer = a.transport_ok && a.status != 200 ? impl.FromResponse(a.status, a.error_body, "fetch blobs")
                                                       : Status::OK();
    if (answer.code() != StatusCode::kUnavailable) MR_RETURN_IF_ERROR(answer);  // 503: try again below
    if (done == items.size()) break;
    if (attempt >= impl.opts.retries)
      return !answer.ok() ? answer
                          : Status::Unavailable("fetch of " + std::to_string(items.size()) + " blobs " +
                                                (a.transport_ok ? "ended early" : "failed: connection lost"));
    Backoff(attempt);
  }
  return true;
}

Status CopyFile(const std::string& from, const std::string& to) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Status::FromErrno("open " + from, errno);
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.valid()) return Status::FromErrno("create " + to, errno);
  std::vector<char> buf(kIoBuffer);
  for (;;) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0) return Status::FromErrno("read " + from, errno);
    if (n == 0) return Status::OK();
    MR_RETURN_IF_ERROR(WriteAll(out.get(), buf.data(), static_cast<size_t>(n), to));
  }
}

}  // namespace

Result<PullOutcome> RegistryClient::Pull(const std::string& model, const std::string& ref,
                                         const std::string& dest_in) {
  namespace fs = std::filesystem;
  MR_RETURN_IF_ERROR(ValidateModelName(model));
  std::string base = "/api/v1/models/" + UrlEscape(model);
  MR_ASSIGN_OR_RETURN(auto v, GetJson(base + "/versions/" + UrlEscape(ref)));
  MR_ASSIGN_OR_RETURN(Digest digest, Digest::Parse(v.value("digest", "")));
  auto r = impl_->Once(
      [&] { return impl_->http->Get(base + "/versions/" + UrlEscape(ref) + "/manifest", impl_->Auth()); });
  MR_RETURN_IF_ERROR(impl_->FromResult(r, "manifest of " + model + " " + ref));
  if (Digest::Of(r->body) != digest)
    return Status::DataLoss("manifest of " + model + " " + ref + " does not hash to " + digest.str());
  MR_ASSIGN_OR_RETURN(Manifest m, ParseManifest(r->body));

  fs::path dest = fs::absolute(dest_in).lexically_normal();
  if (dest.filename().empty()) dest = dest.parent_path();
  std::error_code ec;
  if (fs::exists(dest, ec) && !(fs::is_directory(dest) && fs::is_empty(dest)))
    return Status::AlreadyExists(dest.string() + " exists and is not an empty directory");
  fs::path parent = dest.parent_path();
  MR_RETURN_IF_ERROR(MakeDirs(parent.string()));
  // A temporary directory beside DEST: a new one, or the one a killed pull
  // of this bundle left (its files that verify are kept). Removed on error.
  MR_ASSIGN_OR_RETURN(auto partial, PullDir::Open(dest, digest));
  const fs::path tmp = partial->path();

  PullOutcome out;
  out.digest = digest.str();
  out.version = v.value("version", 0);
  Status st = [&]() -> Status {
    MR_ASSIGN_OR_RETURN(PullDir::Leftovers left, partial->KeepVerified(m));
    // A digest's first file is downloaded (small ones in batches, large
    // ones one by one); its other files are copied from it.
    std::map<std::string, std::string> first;  // digest -> its first file
    std::vector<SplitBlob> small, large;
    std::vector<std::pair<std::string, std::string>> copies;  // (to, from)
    for (const auto& l : m.layers) {
      fs::path target = tmp / l.title;  // title validated: relative, no '..'
      fs::create_directories(target.parent_path(), ec);
      if (ec) return LocalDisk(Status::FromErrno("mkdir " + target.parent_path().string(), ec.value()));
      ++out.stats.files;
      out.stats.bytes_total += l.size;
      if (left.whole.count(target.string())) {  // left by a killed pull, verified
        out.stats.bytes_reused += l.size;
        first.emplace(l.digest.str(), target.string());
        continue;
      }
      auto [it, fresh] = first.emplace(l.digest.str(), target.string());
      if (!fresh)
        copies.emplace_back(target.string(), it->second);
      else
        (l.size <= kFetchBlobMax ? small : large).push_back(SplitBlob{l.digest, l.size, target.string()});
    }
    // A large file a killed pull cut short resumes where it ended; other
    // leftovers of files still to download go.
    std::map<std::string, uint64_t> resume;
    for (const auto& [p, have] : left.prefix) {
      const bool is_large = std::any_of(large.begin(), large.end(), [&](const SplitBlob& f) { return f.name == p; });
      if (is_large) resume[p] = have;
      else ::unlink(p.c_str());
    }
    if (impl_->opts.progress) {
      uint64_t to_download = 0;
      for (const auto* list : {&small, &large})
        for (const auto& f : *list) to_download += f.size;
      for (const auto& [p, have] : resume) to_download -= have;
      impl_->opts.progress->total.store(to_download, std::memory_order_relaxed);
    }
    auto download = [&](const SplitBlob& f) {
      const std::string url = base + "/blobs/" + f.digest.str();
      auto r = resume.find(f.name);
      if (r == resume.end()) return DownloadBlob(*impl_, url, f.name, f.digest, f.size, &out.stats);
      Status st = DownloadBlob(*impl_, url, f.name, f.digest, f.size, &out.stats, r->second);
      if (st.ok()) {
        out.stats.bytes_reused += r->second;
        return st;
      }
      if (st.code() != StatusCode::kDataLoss) return st;
      // The kept prefix was not the blob's (a machine that crashed while
      // writing it): once more from the start.
      if (::unlink(f.name.c_str()) != 0) return Status::FromErrno("remove " + f.name, errno);
      return DownloadBlob(*impl_, url, f.name, f.digest, f.size, &out.stats);
    };
    MR_RETURN_IF_ERROR(FetchInBatches(
        small, [&](const std::vector<SplitBlob>& batch) { return FetchBlobs(*impl_, base, batch, &out.stats); },
        download));
    for (const auto& f : large) MR_RETURN_IF_ERROR(download(f));
    for (const auto& [to, from] : copies) MR_RETURN_IF_ERROR(LocalDisk(CopyFile(from, to)));
    // Durability before the rename. A few files: fsync each (their
    // writeback started while downloading) and their directories. Many
    // files: one syncfs, cheaper than thousands of fsyncs, though it also
    // waits for other programs' dirty data on the filesystem.
    if (m.layers.size() <= 64) {
      std::set<std::string> dirs = {tmp.string()};
      for (const auto& l : m.layers) {
        fs::path target = tmp / l.title;
        UniqueFd f(::open(target.c_str(), O_RDONLY | O_CLOEXEC));
        if (!f.valid() || ::fsync(f.get()) != 0) return LocalDisk(Status::FromErrno("fsync " + target.string(), errno));
        for (fs::path d = target.parent_path(); d.string().size() >= tmp.string().size(); d = d.parent_path()) {
          dirs.insert(d.string());
          if (d == tmp) break;
        }
      }
      for (const auto& d : dirs) MR_RETURN_IF_ERROR(FsyncDir(d));
    } else {
      UniqueFd dfd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dfd.valid() || ::syncfs(dfd.get()) != 0) return LocalDisk(Status::FromErrno("sync " + tmp.string(), errno));
    }
    return partial->Commit();
  }();
  if (!st.ok()) {
    // The registry could not be reached (after the retries): keep what
    // arrived for the next pull into DEST. Any other error: `partial`
    // removes the directory.
    if (st.code() == StatusCode::kUnavailable && out.stats.bytes_downloaded + out.stats.bytes_reused > 0) {
      partial->Keep();
      return Status(st.code(), st.message() + "; what arrived is kept in " + tmp.string() +
                                   ": the same pull into " + dest.string() + " continues from it");
    }
    return st;
  }
  return out;
}

}  // namespace modelreg
