// OciBackend upload sessions, their state kept in the registry (blob/oci_backend.h).
#include <chrono>
#include <future>

#include "blob/oci_backend_internal.h"
#include "core/upload_framing.h"

namespace modelreg {

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
  if (!ann || !ann->contains(kOciLocationAnnotation) || !ann->contains(kOciOffsetAnnotation) ||
      !(*ann)[kOciLocationAnnotation].is_string() || !(*ann)[kOciOffsetAnnotation].is_string())
    return Status::DataLoss("upload " + id + ": its state in the blob backend is unreadable");
  State s;
  s.location = (*ann)[kOciLocationAnnotation].get<std::string>();
  if (s.location.empty()) return Status::NotFound("upload " + id + " not found (cancelled)");
  s.offset = std::strtoull((*ann)[kOciOffsetAnnotation].get<std::string>().c_str(), nullptr, 10);
  s.manifest_digest = r.get_header_value("Docker-Content-Digest");
  if (s.manifest_digest.empty()) s.manifest_digest = Digest::Of(r.body).str();
  return s;
}

Status OciBackend::SaveState(httplib::Client& cli, const std::string& id, const State& s) const {
  nlohmann::json m = {
      {"schemaVersion", 2},
      {"mediaType", kOciManifestMediaType},
      {"config", {{"mediaType", kOciStateMediaType}, {"digest", empty_config_.str()}, {"size", 2}}},
      {"layers", nlohmann::json::array()},
      {"annotations", {{kOciLocationAnnotation, s.location}, {kOciOffsetAnnotation, std::to_string(s.offset)}}}};
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
  MR_RETURN_IF_ERROR(SaveState(*cli, id, State{OciPathOf(r.get_header_value("Location")), 0, ""}));
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
// Two buffers: while one is PATCHed on a thread of its own, the caller fills
// (and hashes) the other, so receiving from the client, hashing and writing
// to the registry overlap (one PATCH in flight at a time, in order;
// 2 x chunk_bytes of memory per upload being written).
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
    if (failed_.ok()) (void)Flush();
    (void)Wait();
    if (failed_.code() == StatusCode::kNotFound) {
      b_->DropState(*cli_, id_);  // later status queries answer 404: the client starts over
    } else if (Status st = MaybeSave(true); !st.ok() && failed_.ok()) {
      failed_ = st;
    }
    if (lock_.owns_lock()) lock_.unlock();
    return failed_;
  }
  // After Close (the PATCH in flight, if any, owns state_ until then).
  uint64_t offset() const override { return state_.offset; }

 private:
  // Waits for the PATCH in flight; its failure becomes failed_ (and the
  // hash, which took its bytes, is dropped: the digest is then checked by
  // reading the blob back when the upload is finished).
  Status Wait() {
    if (!inflight_.valid()) return failed_;
    Status st = inflight_.get();
    if (!st.ok()) {
      if (failed_.ok()) failed_ = st;
      if (hashing_) local_->hash.reset();
      hashing_ = false;
    } else if (hashing_) {
      local_->hashed = state_.offset;
    }
    return failed_;
  }

  // Hashes the filled buffer while the previous PATCH is on its way, then
  // hands it to a PATCH of its own once that one is done.
  Status Flush() {
    if (used_ > 0 && hashing_) local_->hash->Update(buf_.data(), used_);
    MR_RETURN_IF_ERROR(Wait());
    if (used_ == 0) return Status::OK();
    std::swap(buf_, sending_);
    const size_t n = used_;
    used_ = 0;
    buf_.resize(b_->cfg().chunk_bytes);
    inflight_ = std::async(std::launch::async, [this, n] { return Send(n); });
    return Status::OK();
  }

  // On the PATCH's thread: only it touches sending_, state_ and cli_ meanwhile.
  Status Send(size_t n) {
    const std::string range = std::to_string(state_.offset) + "-" + std::to_string(state_.offset + n - 1);
    auto r = b_->Call(*cli_, "PATCH upload", [&](httplib::Client& c, const httplib::Headers& h) {
      httplib::Headers all = h;
      all.emplace("Content-Range", range);
      // Streamed from sending_: the (const char*, size) overload copies the
      // whole body into the request first, a fresh 16 MiB per PATCH.
      return c.Patch(
          state_.location, all, n,
          [&](size_t offset, size_t length, httplib::DataSink& sink) {
            return sink.write(sending_.data() + offset, std::min<size_t>(length, 1u << 20));
          },
          "application/octet-stream");
    });
    if (!r.ok()) {
      // A registry that refuses the session answers at once, before it
      // reads the body, and closes the connection: all httplib sees then is
      // its write failing (seen as "Canceled" when a replica killed
      // mid-chunk left a state older than the registry's session). Ask the
      // session's state to tell that from the network failing.
      if (r.status().code() == StatusCode::kUnavailable && SessionGone()) return Gone();
      return r.status();
    }
    if (r->status == 416) return Moved();
    if (r->status == 404) return Gone();
    if (r->status != 202) return b_->Unexpected("PATCH upload", *r);
    state_.offset += n;
    state_.location = OciPathOf(r->get_header_value("Location"));
    return MaybeSave(false);
  }

  Status Moved() const {
    return Status::Aborted("upload " + id_ +
                           ": the blob backend's session is at another offset; ask for the offset and resume");
  }
  Status Gone() const {
    return Status::NotFound("upload " + id_ +
                            ": the blob backend no longer accepts this session (a replica stopped mid-chunk, or "
                            "another wrote to it); start the upload over");
  }
  // After a PATCH broke off: the registry no longer knows the session (404
  // to GET of its location), or holds it at another offset than state_'s.
  bool SessionGone() {
    auto r = b_->Call(*cli_, "GET upload",
                      [&](httplib::Client& c, const httplib::Headers& h) { return c.Get(state_.location, h); });
    if (!r.ok()) return false;  // the network, then
    if (r->status == 404) return true;
    if (r->status != 204) return false;
    auto held = ParseContentRange(r->get_header_value("Range"));  // "0-<last byte>"
    return held.ok() && held->second + 1 != state_.offset;        // moved on without us: start over too
  }

  // The session's state goes to the registry at most every kSaveEvery while
  // chunks stream (a manifest PUT each), and always when the request ends:
  // another replica continues from a request's end. A replica killed
  // mid-request leaves a state up to kSaveEvery old; the registry refuses
  // its location (404), the session is dropped, and the client starts the
  // upload over (client/register_ops.cc).
  Status MaybeSave(bool closing) {
    constexpr auto kSaveEvery = std::chrono::milliseconds(250);
    const auto now = std::chrono::steady_clock::now();
    if (!closing && now - saved_at_ < kSaveEvery) {
      unsaved_ = true;
      return Status::OK();
    }
    if (closing && !unsaved_) return Status::OK();
    saved_at_ = now;
    unsaved_ = false;
    return b_->SaveState(*cli_, id_, state_);
  }

  OciBackend* b_;
  std::string id_;
  std::shared_ptr<OciBackend::Local> local_;
  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<httplib::Client> cli_;
  OciBackend::State state_;
  std::vector<char> buf_;      // being filled by the caller
  std::vector<char> sending_;  // being PATCHed by inflight_
  std::future<Status> inflight_;
  std::chrono::steady_clock::time_point saved_at_ = std::chrono::steady_clock::now();
  bool unsaved_ = false;  // state_ is ahead of what the registry holds
  size_t used_ = 0;
  bool hashing_ = false;
  bool closed_ = false;
  Status failed_;  // the caller's thread only
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
  const std::string put = OciWithParam(s.location, "digest=" + expected.str());
  MR_ASSIGN_OR_RETURN(auto r, Call(*cli, "finish upload", [&](httplib::Client& c, const httplib::Headers& h) {
                        return c.Put(put, h, "", "application/octet-stream");
                      }));
  if (r.status == 400 && r.body.find("DIGEST_INVALID") != std::string::npos)
    return mismatch("another digest (the blob backend's check)");
  if (r.status == 404) {
    // The session was finished already, by a replica killed between the
    // registry's PUT and its answer: the blob is there then (checked below
    // like any blob this replica did not hash), else the upload is lost.
    MR_ASSIGN_OR_RETURN(auto have, Stat(expected));
    if (!have || *have != s.offset)
      return Status::NotFound("upload " + id + " is no longer known to the blob backend; start the upload over");
  } else if (r.status != 201) {
    return Unexpected("PUT ?digest= of upload " + id, r);
  }
  if (!hashed_here || r.status == 404) {
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

}  // namespace modelreg
