// Downloading blobs from a registry into files: the one implementation
// that `pull` (client/pull_ops.cc) and the agent (agent/registry_link.cc)
// both use. Two ways, as docs/api.md offers them:
//  - DownloadBlob: one blob with GET /api/v1/models/{m}/blobs/{digest},
//    streamed into its file (PipelinedWriter: hashing, writing and syncing
//    on helper threads), large bodies read straight from the connection
//    (net/socket_read.h); resumed with Range after a break.
//  - FetchBlobBatch: many small blobs with one POST .../blobs/fetch
//    (net/blob_fetch.h), cut and checked by a BlobSplitter; after a break
//    the blobs not yet complete are asked for again.
//
// The retry policy, the same for both and for both callers:
//  - A failure of the transfer is retried, at most `retries` times after
//    the first attempt: no HTTP answer (a refused or lost connection), an
//    answer that broke off or ended early, an answer the registry marks
//    UNAVAILABLE, a 502/503/504 without a JSON error (net/http_error.h).
//    Before retry k (0-based) it waits BackoffDelay(k): 100 ms doubling to
//    5 s, plus up to half of that again at random. A single blob's retry
//    asks for the rest only (`Range: bytes=N-`); a batch's asks for the
//    blobs not yet complete.
//  - A 200 answer to a Range request (a server or proxy that ignores
//    Range) carries the whole blob: the file is emptied and the download
//    starts over from its first byte, within the same attempt.
//  - Final, never retried: any other error answer (its code from the
//    registry's JSON error), DATA_LOSS (more bytes than the size, or bytes
//    that hash to another digest; the file is removed), an untrusted
//    server certificate, and every error of this machine's disk, which
//    goes through BlobTransfer::disk_error so that the caller can tell
//    it from the network's.
//  - A blob resumed from bytes an earlier run kept that then does not hash
//    to its digest is downloaded once more whole (the kept bytes may be
//    what was wrong) before DATA_LOSS is returned.
//  - `cancelled()` true (checked before each attempt and during back-off)
//    ends it with UNAVAILABLE ("interrupted").
// Not thread-safe: one download at a time per BlobTransfer's client.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/blob_splitter.h"
#include "core/digest.h"
#include "core/status.h"
#include "net/socket_read.h"

namespace httplib {
class Client;
}

namespace modelreg::net {

// A GET answer with at least this many body bytes still to come is read
// from the connection directly instead of through cpp-httplib (which reads
// 4 KiB at a time with a poll() each; docs/http.md).
inline constexpr uint64_t kDirectReadMin = 4 << 20;
// Retries after the first attempt, unless the caller says otherwise.
inline constexpr int kBlobRetries = 5;

// The wait before retry `attempt` (0-based), in milliseconds: 100 doubling
// to 5000, plus up to half of that again at random.
int BackoffDelay(int attempt);

// A full disk is UNAVAILABLE "storage full" from Status::FromErrno (right
// for a server: "try later"); during a download it would read like a
// registry out of reach and be retried. This makes it RESOURCE_EXHAUSTED;
// other codes pass as they are. The default BlobTransfer::disk_error.
Status DiskFullIsFinal(Status st);

// How to reach the registry, and the caller's policy knobs.
struct BlobTransfer {
  httplib::Client* http = nullptr;
  std::string registry_url;                                  // names the registry in transport failures
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization
  // http's current connection, found while http reads an answer on this
  // thread (net/tls_session.h ConnectionOn); null or fd -1: no direct reads.
  std::function<Connection()> connection;
  int read_timeout_ms = 30000;  // of a direct read without data
  int retries = kBlobRetries;
  bool direct_io = true;  // PipelinedWriter's O_DIRECT writes
  // Called with body bytes as they arrive (also of attempts that fail
  // later): progress displays, byte counters.
  std::function<void(uint64_t)> moved;
  std::function<bool()> cancelled;
  // Every error of this machine's disk passes through here.
  std::function<Status(Status)> disk_error = DiskFullIsFinal;
};

struct BlobFile {
  std::string path;
  Digest digest;
  uint64_t size = 0;
  // True: `path` may hold the blob's first bytes (left by an earlier,
  // interrupted download): they are hashed and kept, and only the rest is
  // asked for. False: `path` is created and must not exist.
  bool resume = false;
  bool fsync = false;  // fsync the file before returning OK
};

struct BlobDownloadInfo {
  uint64_t reused = 0;  // bytes kept from an earlier run, part of the verified blob
  int http_status = 0;  // of the last answer (0: none)
};

// Downloads `f` from `url_path` (/api/v1/models/{m}/blobs/{digest}) by the
// policy above. OK: `f.path` holds exactly the blob's bytes, verified.
Status DownloadBlob(const BlobTransfer& t, const std::string& url_path, const BlobFile& f,
                    BlobDownloadInfo* info = nullptr);

// Where the blobs of a batch go.
struct BatchFiles {
  BlobSplitter::OpenFn open;  // creates blob i's file (fresh, also after a broken attempt)
  BlobSplitter::DoneFn done;  // blob i is written and checked, its fd still open
  // After each attempt: blobs [begin, end) were completed by it (called
  // also when the attempt then failed; may be null).
  std::function<Status(size_t begin, size_t end)> settle;
};

struct BatchInfo {
  int http_status = 0;  // of the last answer (0: none)
};

// Downloads `items` with POST `fetch_path` (/api/v1/models/{m}/blobs/fetch)
// by the policy above. False: the server answered 404 (one without the
// endpoint; the caller falls back to DownloadBlob, which also names a blob
// really missing). An error leaves the blobs already settled in place.
Result<bool> FetchBlobBatch(const BlobTransfer& t, const std::string& fetch_path, const std::vector<SplitBlob>& items,
                            const BatchFiles& files, BatchInfo* info = nullptr);

}  // namespace modelreg::net
