// Internal to the blob library: the OciBackend class (blob/oci_backend.h
// describes it), shared by oci_backend.cc (HTTP, blobs, bundles),
// oci_reader.cc (checked readers), oci_upload.cc (sessions whose state lives
// in the registry) and oci_batch.cc (batches).
#pragma once

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "blob/blob_store.h"
#include "blob/oci_backend.h"
#include "core/manifest.h"

namespace modelreg {

inline constexpr char kOciStateMediaType[] = "application/vnd.modelreg.upload-state.v1+json";
inline constexpr char kOciLocationAnnotation[] = "org.modelreg.upload.location";
inline constexpr char kOciOffsetAnnotation[] = "org.modelreg.upload.offset";
// A reader hands out a blob in windows of this many bytes, each hashed
// first; up to kOciReadAhead more windows are fetched ahead of the caller.
inline constexpr size_t kOciReadWindow = 4u << 20;
inline constexpr size_t kOciReadAhead = 2;

// Keeps path and query of a Location (absolute or not).
std::string OciPathOf(const std::string& location);
// `url` with one more query parameter `kv`.
std::string OciWithParam(const std::string& url, const std::string& kv);

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

}  // namespace modelreg
