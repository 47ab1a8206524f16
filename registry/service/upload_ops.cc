// Blob upload use cases: missing-blob checks, resumable sessions, batches.
#include "blob/blob_store.h"
#include "service/blob_reach_internal.h"
#include "service/registry_service.h"
#include "store/model_store.h"
#include "store/token_store.h"

namespace modelreg {

Result<std::vector<std::string>> RegistryService::MissingBlobs(const Principal& p,
                                                               const std::vector<std::string>& digests) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kRegister));
  std::vector<Digest> parsed;
  parsed.reserve(digests.size());
  for (const auto& s : digests) {
    MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(s));
    parsed.push_back(d);
  }
  // A blob the caller may not reach is missing to it: it uploads the bytes,
  // which proves it holds them (service/blob_reach_internal.h).
  // Asked before any transaction: a remote backend answers over the network.
  std::vector<bool> stored(parsed.size());
  for (size_t i = 0; i < parsed.size(); ++i) {
    MR_ASSIGN_OR_RETURN(auto size, blobs_->Stat(parsed[i]));
    stored[i] = size.has_value();
    // Told it need not upload these, the client registers soon: gc's grace
    // period counts from now (service/retention_ops.cc, 4.).
    if (stored[i]) blobs_->Touch(parsed[i]);
  }
  std::vector<std::string> missing;
  auto collect = [&](const std::function<bool(const std::string&)>& reachable) {
    for (size_t i = 0; i < parsed.size(); ++i)
      if (!stored[i] || !reachable(digests[i])) missing.push_back(digests[i]);
  };
  if (!p.scoped()) {
    collect([](const std::string&) { return true; });  // no transaction needed
    return missing;
  }
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    collect(service_internal::BlobReachFor(tx, p));
    return Status::OK();
  }));
  return missing;
}

Result<std::vector<bool>> RegistryService::MatchBlobSamples(const Principal& p,
                                                            const std::vector<SampleProbe>& probes) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kRegister));
  std::vector<bool> maybe;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    maybe = store::MatchSamples(tx, probes, service_internal::BlobReachFor(tx, p));
    return Status::OK();
  }));
  return maybe;
}

Result<std::optional<uint64_t>> RegistryService::BlobSize(const Principal& p, const Digest& d) const {
  if (!RoleAllows(p.role, Action::kRegister)) MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels));
  MR_ASSIGN_OR_RETURN(auto size, blobs_->Stat(d));
  if (!size || !p.scoped()) return size;
  bool reachable = false;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    reachable = service_internal::BlobReachFor(tx, p)(d.str());
    return Status::OK();
  }));
  if (!reachable) return std::optional<uint64_t>();  // answered as absent
  return size;
}

Result<UploadState> RegistryService::StartUpload(const Principal& p) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kRegister));
  std::string id = RandomHex(16);
  MR_RETURN_IF_ERROR(blobs_->CreateUpload(id));
  int64_t now = NowMs();
  Status st = db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    store::InsertUpload(tx, UploadRecord{id, p.name, now, now});
    return Status::OK();
  });
  if (!st.ok()) {
    blobs_->RemoveUpload(id);
    return st;
  }
  return UploadState{id, 0};
}

Result<std::string> RegistryService::CheckUploadOwner(const Principal& p, const std::string& id) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kRegister));
  if (!IsValidUploadId(id)) return Status::NotFound("upload '" + id.substr(0, 64) + "' not found");
  std::optional<UploadRecord> rec;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    rec = store::FindUpload(tx, id);
    return Status::OK();
  }));
  if (!rec) return Status::NotFound("upload " + id + " not found (finished, cancelled or expired)");
  if (rec->created_by != p.name && p.role != Role::kAdmin)
    return Status::PermissionDenied("upload " + id + " belongs to another token");
  return rec->created_by;
}

Result<UploadState> RegistryService::GetUpload(const Principal& p, const std::string& id) const {
  MR_RETURN_IF_ERROR(CheckUploadOwner(p, id).status());
  MR_ASSIGN_OR_RETURN(uint64_t size, blobs_->UploadSize(id));
  return UploadState{id, size};
}

Result<std::unique_ptr<BlobAppender>> RegistryService::AppendUpload(const Principal& p, const std::string& id,
                                                                    uint64_t offset) {
  MR_RETURN_IF_ERROR(CheckUploadOwner(p, id).status());
  MR_ASSIGN_OR_RETURN(auto appender, blobs_->Append(id, offset));
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    store::TouchUpload(tx, id, NowMs());
    return Status::OK();
  }));
  return appender;
}

Result<FileDigest> RegistryService::FinishUpload(const Principal& p, const std::string& id, const Digest& digest) {
  MR_RETURN_IF_ERROR(CheckUploadOwner(p, id).status());
  auto r = blobs_->CommitUpload(id, digest);
  if (r.ok() || r.status().code() == StatusCode::kInvalidArgument) {
    // Done, or the bytes were wrong and are gone: the session ends either way.
    // A stored blob's sample lets clients tell a new large file from it
    // without hashing the file first; none recorded only costs them that.
    std::optional<std::string> sample;
    if (r.ok()) {
      if (BlobStore* local = blobs_->local()) {  // a remote blob is not read back for it
        uint64_t size = 0;
        if (auto fd = local->OpenBlob(r->digest, &size); fd.ok())
          if (auto s = SampleFd(fd->get(), size, "blob " + r->digest.str()); s.ok()) sample = s->str();
      }
    }
    // The caller proved it holds these bytes: it may link them from now on.
    MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) {
      store::DeleteUpload(tx, id);
      if (sample) store::InsertBlobSample(tx, r->digest.str(), r->size, *sample);
      if (r.ok()) service_internal::RecordUploads(tx, p, {r->digest.str()});
      return Status::OK();
    }));
  }
  return r;
}

Status RegistryService::CancelUpload(const Principal& p, const std::string& id) {
  MR_RETURN_IF_ERROR(CheckUploadOwner(p, id).status());
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    store::DeleteUpload(tx, id);
    return Status::OK();
  }));
  blobs_->RemoveUpload(id);
  return Status::OK();
}

Result<std::unique_ptr<BlobBatch>> RegistryService::StartBatch(const Principal& p) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kRegister));
  return blobs_->NewBatch();
}

Result<size_t> RegistryService::CommitBatch(const Principal& p, BlobBatch& batch) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kRegister));
  MR_ASSIGN_OR_RETURN(size_t stored, batch.Commit());
  std::vector<std::string> digests;
  digests.reserve(batch.committed().size());
  for (const auto& d : batch.committed()) digests.push_back(d.str());
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    service_internal::RecordUploads(tx, p, digests);
    return Status::OK();
  }));
  return stored;
}

Result<size_t> RegistryService::ExpireUploads(int64_t now_ms) {
  std::vector<std::string> ids;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    ids = store::ListUploadsIdleSince(tx, now_ms - options_.upload_ttl_ms);
    for (const auto& id : ids) store::DeleteUpload(tx, id);
    return Status::OK();
  }));
  for (const auto& id : ids) blobs_->RemoveUpload(id);
  return ids.size();
}

void RegistryService::RemoveOrphanUploads() {
  std::vector<std::string> known;
  Status st = db_->Transact(TxMode::kRead, [&](Tx& tx) {
    known = store::ListAllUploads(tx);
    return Status::OK();
  });
  if (!st.ok()) return;
  blobs_->RemoveUploadFilesExcept(std::move(known));
}

}  // namespace modelreg
