// Operator use cases: integrity checking.
#include "service/registry_service.h"
#include "store/model_store.h"

namespace modelreg {

Result<FsckReport> RegistryService::Fsck() const {
  FsckReport r;
  std::vector<store::BlobRef> refs;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    r.problems = store::IntegrityProblems(tx);
    refs = store::AllReferencedBlobs(tx);
    return Status::OK();
  }));
  for (const Digest& d : blobs_->ListBlobs()) {
    auto h = HashFile(blobs_->BlobPath(d));
    ++r.blobs_checked;
    if (!h.ok()) {
      r.problems.push_back("blob " + d.str() + ": " + h.status().message());
      continue;
    }
    r.bytes_checked += h->size;
    if (h->digest != d) r.problems.push_back("blob " + d.str() + " is corrupt: its bytes hash to " + h->digest.str());
  }
  for (const auto& ref : refs) {
    ++r.references_checked;
    auto d = Digest::Parse(ref.digest);
    if (!d.ok()) {
      r.problems.push_back("reference to malformed digest " + ref.digest);
      continue;
    }
    auto size = blobs_->Stat(*d);
    if (!size) r.problems.push_back("referenced blob " + ref.digest + " is missing");
    else if (static_cast<int64_t>(*size) != ref.size)
      r.problems.push_back("referenced blob " + ref.digest + " has " + std::to_string(*size) +
                           " bytes, expected " + std::to_string(ref.size));
  }
  return r;
}

}  // namespace modelreg
