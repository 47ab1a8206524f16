#include "service/registry_service.h"

#include <unistd.h>

#include "auth/signing.h"
#include "blob/local_backend.h"
#include "service/release_internal.h"
#include "store/model_store.h"
namespace modelreg {

RegistryService::RegistryService(std::string data_dir, ServiceOptions options, std::unique_ptr<Database> db,
                                 std::unique_ptr<BlobBackend> blobs)
    : data_dir_(std::move(data_dir)),
      options_(options),
      db_(std::move(db)),
      blobs_(std::move(blobs)),
      waiters_(std::make_unique<ReleaseWaiters>()),
      envelopes_(std::make_unique<EnvelopeCache>()),
      tokens_(std::make_unique<TokenCache>()) {}

RegistryService::~RegistryService() = default;

Result<std::unique_ptr<RegistryService>> RegistryService::Open(const std::string& data_dir, ServiceOptions options) {
  MR_RETURN_IF_ERROR(MakeDirs(data_dir));
  MR_ASSIGN_OR_RETURN(auto db, Database::Open(data_dir + "/registry.db"));
  std::unique_ptr<BlobBackend> blobs;
  if (options.oci_blobs) {
    MR_ASSIGN_OR_RETURN(blobs, OpenOciBackend(*options.oci_blobs, data_dir));
  } else {
    MR_ASSIGN_OR_RETURN(auto local, BlobStore::Open(data_dir, options.direct_io));
    blobs = std::make_unique<LocalBlobBackend>(std::move(local));
  }
  MR_ASSIGN_OR_RETURN(auto key, SigningKey::LoadOrCreate(data_dir + "/keys"));
  std::unique_ptr<RegistryService> svc(new RegistryService(data_dir, options, std::move(db), std::move(blobs)));
  svc->release_key_ = std::move(key);
  return svc;
}

Status RegistryService::CheckReady() const {
  Status st = db_->Transact(TxMode::kRead, [](Tx& tx) {
    store::Ping(tx);
    return Status::OK();
  });
  if (!st.ok()) return st;
  if (blobs_->local() && ::access((data_dir_ + "/blobs/sha256").c_str(), W_OK) != 0)
    return Status::Unavailable("blob store is not writable");
  return blobs_->Ping();
}

}  // namespace modelreg
