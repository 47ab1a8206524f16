// The agent's side of the registry's HTTP API: long-poll the signed release
// (verified with the pinned key before its payload is parsed), fetch and
// verify manifests, download blobs with resume, report state.
// Transport failures are Unavailable (retry later); everything else is final
// for that release. Not thread-safe, but for SendReport and SendDecisions,
// which each have a connection of their own and may be called from other
// threads.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auth/signing.h"
#include "core/manifest.h"
#include "local_store.h"
#include "monitoring.h"
#include "net/blob_download.h"
#include "options.h"
#include "rollout.h"

namespace httplib {
class Client;
class Result;
enum class Error;
}  // namespace httplib

namespace modelreg::agent {

struct SignedRelease {
  std::string model, stage, digest;
  int64_t version = 0;
  int64_t seq = 0;
  // The predicate's optional "rollout" (docs/agent.md): its baseline is
  // version/digest above; checked by ParseRolloutSpec.
  std::optional<RolloutSpec> rollout;
};

struct Report {
  std::string state;  // starting, downloading, serving, failed, offline, idle
  std::string digest;
  int64_t version = 0;
  std::string last_error;
  // Proxy mode: the decision spool (max_bytes 0: none).
  uint64_t spool_pending_bytes = 0, spool_max_bytes = 0, decisions_dropped = 0;
  // Proxy mode, while a rollout is served: the "rollout" object (per-arm
  // counts, RolloutCounts::ReportJson); empty: none.
  std::string rollout_json;
};

class RegistryLink {
 public:
  RegistryLink(const Options& o, std::unique_ptr<VerifyKey> key);
  ~RegistryLink();

  // nullopt: not modified (304) since `known_seq`. NotFound: nothing in the
  // stage. PermissionDenied: bad signature.
  Result<std::optional<SignedRelease>> PollRelease(int64_t known_seq, double wait_s);
  Result<Manifest> FetchManifest(const std::string& digest);
  // Downloads one blob into the cache, resuming a partial file, by the
  // policy of net/blob_download.h (retries with back-off; a resumed
  // download that does not hash to the digest is downloaded once more
  // whole before the registry's copy is called damaged); adds the bytes
  // transferred to *bytes.
  Status DownloadBlob(LocalStore& store, const Descriptor& blob, uint64_t* bytes);
  // Downloads many (small) blobs with one request (POST .../blobs/fetch),
  // each checked, made durable and moved into the cache; adds the bytes
  // transferred to *bytes. After a broken answer the blobs already checked
  // stay in the cache (the retries of net/blob_download.h ask for the
  // rest) and it returns Unavailable. False: the registry has no such endpoint (an older one).
  Result<bool> FetchBlobs(LocalStore& store, const std::vector<Descriptor>& blobs, uint64_t* bytes);
  // Thread-safe (the agent's heartbeat thread reports while a download
  // runs); reports are sent one at a time, in the order of the calls.
  // With monitoring set, each carries the windows waiting (its "monitoring"
  // member), acknowledged when the registry answers 2xx.
  Status SendReport(const Report& r);
  // Proxy mode: where the report's monitoring windows come from (set before
  // the first report; may stay null).
  void set_monitoring(Monitoring* m) { monitoring_ = m; }
  // POSTs {"decisions": ARRAY} on a connection of its own (called from the
  // spool's shipper thread).
  Status SendDecisions(const std::string& json_array);
  // From another thread: ends the poll or download in progress on the main
  // connection (it returns Unavailable), so that a stopping agent does not
  // wait out a long poll or a large blob.
  void Interrupt();
  bool interrupted() const { return interrupted_; }

 private:
  // An answer's status and body as a Status (a registry's own failure is
  // Unavailable, retried later, except DATA_LOSS).
  Status FromAnswer(int status, const std::string& body, const std::string& what) const;
  // The same for a whole httplib result; no answer: net::TransportFailure.
  Status FromResult(const httplib::Result& r, const std::string& what) const;
  // How blobs are downloaded (net/blob_download.h, which has the retry
  // policy): on http_, cancelled by Interrupt, the agent's disk errors
  // through AgentDiskFailure; adds the bytes received to *bytes.
  net::BlobTransfer Transfer(uint64_t* bytes);
  // A download's error after an answer of `http_status`: a registry's own
  // failure (5xx) is Unavailable, retried later, except DATA_LOSS.
  Status RegistryFailure(Status st, int http_status) const;
  // A client for short requests on a connection of its own.
  std::unique_ptr<httplib::Client> SideClient() const;
  // A kept-alive connection the registry closed (idle, or to make room for
  // other clients) just as it is reused fails the request at once, without
  // an answer. Such a request is sent once more, on a fresh connection:
  // `send()` again if it failed so (a read or write error, not a refused
  // connection) within 5 s of `started`, unless the link was interrupted.
  // Idempotent requests only.
  bool RetryFresh(std::chrono::steady_clock::time_point started, httplib::Error error) const;
  template <typename Send>
  httplib::Result SendFresh(Send&& send);
  std::atomic<bool> interrupted_{false};
  Options o_;
  std::unique_ptr<VerifyKey> key_;
  std::unique_ptr<httplib::Client> http_;
  std::atomic<int> socket_fd_{-1};  // http_'s current connection (set on connect)
  std::unique_ptr<httplib::Client> decisions_http_;
  std::mutex report_mu_;  // serializes reports, guards report_http_
  std::unique_ptr<httplib::Client> report_http_;
  std::atomic<Monitoring*> monitoring_{nullptr};
  std::string host_;
};

}  // namespace modelreg::agent
