#include "registry_link.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/blob_splitter.h"
#include "core/clock.h"
#include "core/file_util.h"
#include "net/blob_download.h"
#include "net/http_error.h"
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

bool RegistryLink::RetryFresh(std::chrono::steady_clock::time_point started, httplib::Error error) const {
  if (interrupted_) return false;
  // Only a failure on an open connection (the send or the read of the
  // answer): one that could not connect means the registry is down.
  if (error != httplib::Error::Read && error != httplib::Error::Write) return false;
  // A read that failed after a long wait (a long poll cut, a timeout) is
  // not a stale connection; a stale one fails at once. The window is wide
  // because "at once" can take seconds on a loaded machine.
  return std::chrono::steady_clock::now() - started < std::chrono::seconds(5);
}

template <typename Send>
httplib::Result RegistryLink::SendFresh(Send&& send) {
  const auto started = std::chrono::steady_clock::now();
  httplib::Result r = send();
  if (!r && RetryFresh(started, r.error())) r = send();
  return r;
}

Status RegistryLink::FromResult(const httplib::Result& r, const std::string& what) const {
  if (!r) return net::TransportFailure(static_cast<int>(r.error()), o_.registry, what);
  return FromAnswer(r->status, r->body, what);
}

Status RegistryLink::FromAnswer(int status, const std::string& body, const std::string& what) const {
  return RegistryFailure(net::StatusFromHttpAnswer(status, body, what), status);
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
  SignedRelease rel{p.value("model", ""),           p.value("stage", ""),       p.value("digest", ""),
                    p.value("version", int64_t{0}), p.value("seq", int64_t{0}), std::nullopt};
  std::string subject;
  if (st.contains("subject") && st["subject"].is_array() && !st["subject"].empty())
    subject = "sha256:" + st["subject"][0]["digest"].value("sha256", "");
  if (rel.model != o_.model || rel.stage != o_.stage)
    return Status::InvalidArgument("signed release is for " + rel.model + "/" + rel.stage + ", not " + o_.model + "/" +
                                   o_.stage);
  if (!Digest::Parse(rel.digest).ok() || subject != rel.digest)
    return Status::InvalidArgument("signed release has an inconsistent subject digest");
  if (p.contains("rollout") && !p["rollout"].is_null()) {
    MR_ASSIGN_OR_RETURN(rel.rollout, ParseRolloutSpec(p["rollout"].dump(), rel.digest));
    if (rel.rollout->baseline_version != rel.version)
      return Status::InvalidArgument("signed release has an inconsistent rollout: its baseline is version " +
                                     std::to_string(rel.rollout->baseline_version) + ", the release's " +
                                     std::to_string(rel.version));
  }
  return std::optional<SignedRelease>(rel);
}

Result<Manifest> RegistryLink::FetchManifest(const std::string& digest) {
  auto r = SendFresh([&] { return http_->Get("/api/v1/models/" + o_.model + "/versions/" + digest + "/manifest"); });
  MR_RETURN_IF_ERROR(FromResult(r, "manifest"));
  if (Digest::Of(r->body).str() != digest)
    return Status::DataLoss("manifest bytes do not hash to the signed digest " + digest);
  return ParseManifest(r->body);
}

net::BlobTransfer RegistryLink::Transfer(uint64_t* bytes) {
  net::BlobTransfer t;
  t.http = http_.get();
  t.registry_url = o_.registry;
  const bool tls = o_.registry.rfind("http://", 0) != 0;
  t.connection = [this, tls] { return net::ConnectionOn(socket_fd_, tls); };
  t.read_timeout_ms = static_cast<int>(o_.interval_s + 30) * 1000;
  t.direct_io = o_.direct_io;
  t.moved = [bytes](uint64_t n) { *bytes += n; };
  t.cancelled = [this] { return interrupted_.load(); };
  t.disk_error = AgentDiskFailure;
  return t;
}

Status RegistryLink::RegistryFailure(Status st, int http_status) const {
  // A registry's own failure is retried later, except a damaged blob in its
  // store (DATA_LOSS), which the agent reports as such.
  if (http_status >= 500 && st.code() != StatusCode::kDataLoss && st.code() != StatusCode::kUnavailable)
    return Status::Unavailable(st.message());
  return st;
}

Status RegistryLink::DownloadBlob(LocalStore& store, const Descriptor& blob, uint64_t* bytes) {
  net::BlobFile file{store.PartialPath(blob.digest), blob.digest, blob.size, /*resume=*/true, /*fsync=*/true};
  net::BlobDownloadInfo info;
  Status st =
      net::DownloadBlob(Transfer(bytes), "/api/v1/models/" + o_.model + "/blobs/" + blob.digest.str(), file, &info);
  MR_RETURN_IF_ERROR(RegistryFailure(std::move(st), info.http_status));
  return store.CommitBlob(blob.digest);
}

Result<bool> RegistryLink::FetchBlobs(LocalStore& store, const std::vector<Descriptor>& blobs, uint64_t* bytes) {
  std::vector<SplitBlob> items;
  for (const auto& b : blobs) items.push_back(SplitBlob{b.digest, b.size, "blob " + b.digest.str()});
  // A few blobs: fsync each as it completes. Many: one syncfs after each
  // attempt, before the blobs it completed go into the cache.
  const bool fsync_each = items.size() <= 64;
  net::BatchFiles files;
  files.open = [&](size_t i) { return CreateFresh(store.PartialPath(items[i].digest)); };  // over an earlier partial
  files.done = [&](size_t i, int fd) {
    if (fsync_each && ::fsync(fd) != 0) return Status::FromErrno("fsync " + items[i].name, errno);
    return Status::OK();
  };
  files.settle = [&](size_t begin, size_t end) -> Status {
    if (!fsync_each) {
      UniqueFd dir(::open(store.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dir.valid() || ::syncfs(dir.get()) != 0)
        return AgentDiskFailure(Status::FromErrno("sync the blob cache", errno));
    }
    for (size_t i = begin; i < end; ++i) MR_RETURN_IF_ERROR(store.CommitBlob(items[i].digest));
    return Status::OK();
  };
  net::BatchInfo info;
  auto fetched =
      net::FetchBlobBatch(Transfer(bytes), "/api/v1/models/" + o_.model + "/blobs/fetch", items, files, &info);
  if (!fetched.ok()) return RegistryFailure(fetched.status(), info.http_status);
  return fetched;
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
  json body = {{"host", host_},      {"model", o_.model},          {"stage", o_.stage},           {"state", r.state},
               {"digest", r.digest}, {"last_error", r.last_error}, {"heartbeat_s", o_.interval_s}};
  if (r.version > 0) body["version"] = r.version;
  if (r.spool_max_bytes > 0)
    body["spool"] = {
        {"pending_bytes", r.spool_pending_bytes}, {"max_bytes", r.spool_max_bytes}, {"dropped", r.decisions_dropped}};
  if (!r.rollout_json.empty()) body["rollout"] = json::parse(r.rollout_json, nullptr, false);
  std::lock_guard<std::mutex> l(report_mu_);
  std::string text = body.dump();
  // Completed monitoring windows ride along until the registry takes them.
  Monitoring* monitoring = monitoring_;
  std::optional<Monitoring::Batch> windows = monitoring ? monitoring->Pending(NowMs()) : std::nullopt;
  if (windows) text.insert(text.size() - 1, ",\"monitoring\":" + windows->json);
  if (!report_http_) report_http_ = SideClient();
  auto post = [&] {
    return SendFresh(
        [&] { return report_http_->Post("/api/v1/agents/" + o_.id + "/status", text, "application/json"); });
  };
  auto res = post();
  Status st = FromResult(res, "report");
  if (windows && res && (res->status == 400 || res->status == 413)) {
    // The registry refuses these windows (it would every time): they go,
    // counted as dropped, so that they do not silence the agent's state.
    monitoring->Drop(windows->upto);
    text = body.dump();
    res = post();
    return FromResult(res, "report");
  }
  if (st.ok() && windows) monitoring->Ack(windows->upto);
  return st;
}

}  // namespace modelreg::agent
