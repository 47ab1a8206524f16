#include "registry_link.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/blob_splitter.h"
#include "core/file_util.h"
#include "core/pipelined_writer.h"
#include "net/blob_fetch.h"
#include "net/http_error.h"
#include "net/socket_read.h"
#include "net/tls_session.h"

namespace modelreg::agent {
using nlohmann::json;

RegistryLink::RegistryLink(const Options& o, std::unique_ptr<VerifyKey> key) : o_(o), key_(std::move(key)) {
  http_ = std::make_unique<httplib::Client>(o.registry);
  if (!o.ca_file.empty()) http_->set_ca_cert_path(o.ca_file.c_str());
  http_->enable_server_certificate_verification(true);
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);
  http_->set_connection_timeout(5, 0);
  http_->set_read_timeout(static_cast<time_t>(o.interval_s) + 30, 0);
  http_->set_bearer_token_auth(o.token);
  http_->set_socket_options([this](int fd) { socket_fd_ = fd; });
  net::TrackTlsSessions(http_->ssl_context());  // null for http://
  char h[256] = {0};
  gethostname(h, sizeof h - 1);
  host_ = h;
}

RegistryLink::~RegistryLink() = default;

void RegistryLink::Interrupt() {
  interrupted_ = true;
  http_->stop();
}

bool RegistryLink::RetryFresh(std::chrono::steady_clock::time_point started) const {
  return !interrupted_ && std::chrono::steady_clock::now() - started < std::chrono::seconds(1);
}

template <typename Send>
httplib::Result RegistryLink::SendFresh(Send&& send) {
  const auto started = std::chrono::steady_clock::now();
  httplib::Result r = send();
  if (!r && RetryFresh(started)) r = send();
  return r;
}

Status RegistryLink::FromResult(const httplib::Result& r, const std::string& what) const {
  if (!r) return net::TransportFailure(static_cast<int>(r.error()), o_.registry, what);
  return FromAnswer(r->status, r->body, what);
}

Status RegistryLink::FromAnswer(int status, const std::string& body, const std::string& what) const {
  Status st = net::StatusFromHttpAnswer(status, body, what);
  // A registry's own failure is retried later, except a damaged blob in its
  // store (DATA_LOSS), which the agent reports as such.
  if (status >= 500 && st.code() != StatusCode::kDataLoss && st.code() != StatusCode::kUnavailable)
    return Status::Unavailable(st.message());
  return st;
}

Result<std::optional<SignedRelease>> RegistryLink::PollRelease(int64_t known_seq, double wait_s) {
  std::string path = "/api/v1/models/" + o_.model + "/release?stage=" + o_.stage;
  httplib::Headers h;
  if (known_seq > 0) {
    h.emplace("If-None-Match", "\"" + std::to_string(known_seq) + "\"");
    path += "&wait=" + std::to_string(static_cast<int>(wait_s));
  }
  auto r = SendFresh([&] { return http_->Get(path, h); });
  if (r && r->status == 304) return std::optional<SignedRelease>();
  MR_RETURN_IF_ERROR(FromResult(r, "release"));
  // Verify first, parse second.
  auto payload = OpenDsse(*key_, r->body, kInTotoPayloadType);
  if (!payload.ok()) return payload.status().WithContext("release of " + o_.model + " refused");
  auto st = json::parse(*payload, nullptr, false);
  if (st.is_discarded() || !st.contains("predicate") || !st["predicate"].is_object())
    return Status::InvalidArgument("signed release is not an in-toto statement");
  const auto& p = st["predicate"];
  SignedRelease rel{p.value("model", ""), p.value("stage", ""), p.value("digest", ""), p.value("version", int64_t{0}),
                    p.value("seq", int64_t{0})};
  std::string subject;
  if (st.contains("subject") && st["subject"].is_array() && !st["subject"].empty())
    subject = "sha256:" + st["subject"][0]["digest"].value("sha256", "");
  if (rel.model != o_.model || rel.stage != o_.stage)
    return Status::InvalidArgument("signed release is for " + rel.model + "/" + rel.stage + ", not " + o_.model + "/" + o_.stage);
  if (!Digest::Parse(rel.digest).ok() || subject != rel.digest)
    return Status::InvalidArgument("signed release has an inconsistent subject digest");
  return std::optional<SignedRelease>(rel);
}

Result<Manifest> RegistryLink::FetchManifest(const std::string& digest) {
  auto r = SendFresh([&] { return http_->Get("/api/v1/models/" + o_.model + "/versions/" + digest + "/manifest"); });
  MR_RETURN_IF_ERROR(FromResult(r, "manifest"));
  if (Digest::Of(r->body).str() != digest)
    return Status::DataLoss("manifest bytes do not hash to the signed digest " + digest);
  return ParseManifest(r->body);
}

Status RegistryLink::DownloadBlob(LocalStore& store, const Descriptor& blob, uint64_t* bytes) {
  bool resumed = false;
  Status st = DownloadBlobOnce(store, blob, bytes, &resumed);
  // A mismatch removed the partial file: the next attempt starts at 0.
  if (st.code() == StatusCode::kDataLoss && resumed && !interrupted_ &&
      !std::filesystem::exists(store.PartialPath(blob.digest)))
    st = DownloadBlobOnce(store, blob, bytes, &resumed);
  return st;
}

Status RegistryLink::DownloadBlobOnce(LocalStore& store, const Descriptor& blob, uint64_t* bytes, bool* resumed) {
  const std::string partial = store.PartialPath(blob.digest);
  UniqueFd fd(::open(partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return LocalDisk(Status::FromErrno("open " + partial, errno));
  // Resume: hash what an earlier attempt kept, then ask for the rest.
  Sha256 hash;
  MR_RETURN_IF_ERROR(LocalDisk(HashFd(fd.get(), &hash, partial)));
  uint64_t have = hash.bytes();
  if (have > blob.size) {
    if (::ftruncate(fd.get(), 0) != 0) return LocalDisk(Status::FromErrno("truncate", errno));
    ::lseek(fd.get(), 0, SEEK_SET);
    hash = Sha256();
    have = 0;
  }
  *resumed = have > 0;
  // This thread reads the socket; helper threads hash, write and sync.
  ::lseek(fd.get(), static_cast<off_t>(have), SEEK_SET);
  PipelinedWriter writer(fd.get(), partial, &hash, have, blob.size - have, PipelinedWriter::kSyncEvery,
                         o_.direct_io, PipelinedWriter::HashOn::kThread);
  Status io;
  if (have < blob.size) {
    httplib::Headers h;
    if (have > 0) h.emplace("Range", "bytes=" + std::to_string(have) + "-");
    int status = 0;
    uint64_t resp_len = 0, resp_got = 0;
    bool direct_done = false;
    auto take = [&](const char* data, size_t n) {
      if (have + n > blob.size) {
        io = Status::DataLoss("blob " + blob.digest.str() + " is longer than the manifest says");
        return false;
      }
      io = LocalDisk(writer.Write(data, n));
      have += n;
      resp_got += n;
      *bytes += n;
      return io.ok();
    };
    std::string error_body;  // an error answer's body (the registry's JSON error)
    const int expect = have > 0 ? 206 : 200;
    // Nothing answered (status unset) means nothing was written either.
    const auto started = std::chrono::steady_clock::now();
    auto get = [&] {
      return http_->Get(
          "/api/v1/models/" + o_.model + "/blobs/" + blob.digest.str(), h,
          [&](const httplib::Response& res) {
            status = res.status;
            const std::string cl = res.get_header_value("Content-Length");
            resp_len = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
            // Another success status (200 to a Range): stop. An error: read
            // its body, which says what went wrong (e.g. DATA_LOSS).
            return res.status == expect || res.status >= 300;
          },
          [&](const char* data, size_t n) {
            if (status != expect) {
              net::AppendErrorBody(&error_body, data, n);
              return true;
            }
            if (!take(data, n)) return false;
            // Large bodies: the rest straight from the connection into the
            // writer's buffers (net/socket_read.h), then stop httplib.
            const uint64_t rest = resp_len > resp_got ? resp_len - resp_got : 0;
            const Connection conn = net::ConnectionOn(socket_fd_, o_.registry.rfind("http://", 0) != 0);
            if (rest >= (4u << 20) && conn.fd >= 0) {
              if (have + rest > blob.size) {
                io = Status::DataLoss("blob " + blob.digest.str() + " is longer than the manifest says");
                return false;
              }
              Status st = ReadConnectionInto(
                  conn, rest, static_cast<int>(o_.interval_s + 30) * 1000,
                  [&]() -> Result<std::pair<char*, size_t>> {
                    auto space = writer.Space();
                    if (!space.ok()) return LocalDisk(space.status());
                    return space;
                  },
                  [&](size_t n) {
                    MR_RETURN_IF_ERROR(LocalDisk(writer.Commit(n)));
                    have += n;
                    resp_got += n;
                    *bytes += n;
                    return Status::OK();
                  });
              if (io.ok() && !st.ok()) io = st;
              direct_done = st.ok();
              return false;
            }
            return true;
          });
    };
    auto r = get();
    if (!r && status == 0 && RetryFresh(started)) r = get();
    Status fin = LocalDisk(writer.Finish());
    MR_RETURN_IF_ERROR(io);
    MR_RETURN_IF_ERROR(fin);
    if (!r && !direct_done) return Status::Unavailable("download of " + blob.digest.str() + " interrupted at " + std::to_string(have) + " bytes");
    if (status != 200 && status != 206) return FromAnswer(status, error_body, "download " + blob.digest.str());
    if (have != blob.size) return Status::Unavailable("download of " + blob.digest.str() + " ended early");
  }
  MR_RETURN_IF_ERROR(LocalDisk(writer.Finish()));
  if (::fsync(fd.get()) != 0) return LocalDisk(Status::FromErrno("fsync " + partial, errno));
  Digest got = hash.Finish();
  if (got != blob.digest) {
    ::unlink(partial.c_str());
    return Status::DataLoss("blob " + blob.digest.str() + " from the registry hashes to " + got.str());
  }
  return store.CommitBlob(blob.digest);
}

Result<bool> RegistryLink::FetchBlobs(LocalStore& store, const std::vector<Descriptor>& blobs, uint64_t* bytes) {
  std::vector<SplitBlob> items;
  for (const auto& b : blobs) items.push_back(SplitBlob{b.digest, b.size, "blob " + b.digest.str()});
  // A few blobs: fsync each as it completes. Many: one syncfs after.
  const bool fsync_each = items.size() <= 64;
  BlobSplitter split(
      items, 0,
      [&](size_t i) { return CreateFresh(store.PartialPath(items[i].digest)); },  // over an earlier partial
      [&](size_t i, int fd) {
        if (fsync_each && ::fsync(fd) != 0) return Status::FromErrno("fsync " + items[i].name, errno);
        return Status::OK();
      });
  const auto started = std::chrono::steady_clock::now();
  auto fetch = [&] {
    return net::PostFetch(*http_, "/api/v1/models/" + o_.model + "/blobs/fetch", {}, items, 0, split, bytes);
  };
  net::FetchAnswer a = fetch();
  // No answer at all (status 0) gave the splitter nothing: ask again.
  if (!a.transport_ok && a.status == 0 && a.io.ok() && split.complete() == 0 && RetryFresh(started)) a = fetch();
  // What was checked is kept, even if the answer broke off later.
  if (split.complete() > 0) {
    if (!fsync_each) {
      UniqueFd dir(::open(store.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dir.valid() || ::syncfs(dir.get()) != 0) return LocalDisk(Status::FromErrno("sync the blob cache", errno));
    }
    for (size_t i = 0; i < split.complete(); ++i) MR_RETURN_IF_ERROR(store.CommitBlob(items[i].digest));
  }
  MR_RETURN_IF_ERROR(LocalDisk(a.io));  // the splitter's: writing and checking, no network
  if (a.transport_ok && a.status == 404) return false;
  if (a.transport_ok && a.status != 200) return FromAnswer(a.status, a.error_body, "fetch blobs");
  if (!a.transport_ok && a.status == 0) return net::TransportFailure(a.error, o_.registry, "fetch blobs");
  if (!split.all_complete())
    return Status::Unavailable("fetch of " + std::to_string(items.size()) + " blobs broke off after " +
                               std::to_string(split.complete()));
  return true;
}

std::unique_ptr<httplib::Client> RegistryLink::SideClient() const {
  auto c = std::make_unique<httplib::Client>(o_.registry);
  if (!o_.ca_file.empty()) c->set_ca_cert_path(o_.ca_file.c_str());
  c->enable_server_certificate_verification(true);
  c->set_bearer_token_auth(o_.token);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(15, 0);
  return c;
}

Status RegistryLink::SendDecisions(const std::string& json_array) {
  if (!decisions_http_) decisions_http_ = SideClient();
  auto r = decisions_http_->Post("/api/v1/decisions", "{\"decisions\":" + json_array + "}", "application/json");
  Status st = FromResult(r, "decisions");
  if (st.code() == StatusCode::kFailedPrecondition && r && r->status == 400)
    return Status::InvalidArgument(st.message());
  return st;
}

Status RegistryLink::SendReport(const Report& r) {
  json body = {{"host", host_}, {"model", o_.model}, {"stage", o_.stage}, {"state", r.state},
               {"digest", r.digest}, {"last_error", r.last_error}, {"heartbeat_s", o_.interval_s}};
  if (r.version > 0) body["version"] = r.version;
  if (r.spool_max_bytes > 0)
    body["spool"] = {{"pending_bytes", r.spool_pending_bytes}, {"max_bytes", r.spool_max_bytes},
                     {"dropped", r.decisions_dropped}};
  std::lock_guard<std::mutex> l(report_mu_);
  if (!report_http_) report_http_ = SideClient();
  auto res = SendFresh([&] { return report_http_->Post("/api/v1/agents/" + o_.id + "/status", body.dump(), "application/json"); });
  return FromResult(res, "report");
}

}  // namespace modelreg::agent
