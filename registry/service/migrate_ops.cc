// admin migrate: a single-node registry (SQLite + local blobs) copied into
// the backends of a replicated one (docs/operations.md "Moving an existing
// registry"). Blobs first, then rows, so that the target's database never
// names a blob its backend lacks; both steps skip what the target already
// holds, so a migration interrupted and run again completes.
#include "blob/blob_store.h"
#include "service/registry_service.h"
#include "store/copy_rows.h"
#include "store/model_store.h"

namespace modelreg {
namespace {

constexpr size_t kChunk = 8 << 20;

Status CopyBlob(const BlobBackend& from, BlobBackend& to, const Digest& d, uint64_t* bytes) {
  MR_ASSIGN_OR_RETURN(auto reader, from.Open(d));
  const std::string id = RandomHex(16);
  MR_RETURN_IF_ERROR(to.CreateUpload(id));
  Status st = [&]() -> Status {
    MR_ASSIGN_OR_RETURN(auto out, to.Append(id, 0));
    std::string buf(kChunk, '\0');
    for (uint64_t off = 0; off < reader->size();) {
      MR_ASSIGN_OR_RETURN(size_t n, reader->ReadAt(off, buf.data(), buf.size()));
      if (n == 0) return Status::DataLoss("blob " + d.str() + " ended early in the source");
      MR_RETURN_IF_ERROR(out->Write(buf.data(), n));
      off += n;
    }
    MR_RETURN_IF_ERROR(reader->VerifyWhole());
    MR_RETURN_IF_ERROR(out->Close());
    return to.CommitUpload(id, d).status();
  }();
  if (!st.ok()) {
    to.RemoveUpload(id);
    return st.WithContext("copying blob " + d.str());
  }
  *bytes += reader->size();
  return Status::OK();
}

}  // namespace

Status RegistryService::MigrateInto(RegistryService& target, MigrateReport* report) {
  BlobStore* local = blobs_->local();
  if (!local) return Status::FailedPrecondition("admin migrate copies from a registry whose blobs are local");
  for (const Digest& d : local->ListBlobs()) {
    MR_ASSIGN_OR_RETURN(auto have, target.blobs_->Stat(d));
    if (have) {
      ++report->blobs_present;
      continue;
    }
    MR_RETURN_IF_ERROR(CopyBlob(*blobs_, *target.blobs_, d, &report->bytes_copied));
    ++report->blobs_copied;
  }
  // Bundles as artifacts of their own where the backend presents them so
  // (OCI: PREFIX/<model>:<number>).
  std::vector<VersionRecord> versions;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    for (const auto& m : store::ListModels(tx))
      for (auto& v : store::ListVersions(tx, m.name)) versions.push_back(std::move(v));
    return Status::OK();
  }));
  for (const auto& v : versions) {
    MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(v.digest));
    MR_ASSIGN_OR_RETURN(std::string manifest, blobs_->ReadSmall(d, options_.max_config_bytes * 16));
    MR_RETURN_IF_ERROR(target.blobs_->PublishBundle(v.model, manifest, ""));
    (void)target.blobs_->PublishBundle(v.model, manifest, std::to_string(v.number));
  }
  store::CopyReport rows;
  MR_RETURN_IF_ERROR(store::CopyAllRows(*db_, *target.db_, &rows));
  report->rows = rows.rows;
  return Status::OK();
}

}  // namespace modelreg
