#include "service/registry_service.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cstdlib>

#include "auth/signing.h"
#include "blob/local_backend.h"
#include "service/channels.h"
#include "service/event_internal.h"
#include "service/gc_internal.h"
#include "service/oci_caches.h"
#include "service/release_internal.h"
#include "store/model_store.h"
#include "store/settings_store.h"
namespace modelreg {
namespace {

// Every replica of one database must sign with the same key: the first to
// start records its id, the others compare.
Status PinReleaseKey(Database& db, const std::string& key_id) {
  std::string pinned;
  MR_RETURN_IF_ERROR(db.Transact(TxMode::kWrite, [&](Tx& tx) {
    pinned = store::SetSettingIfAbsent(tx, "release_key_id", key_id);
    return Status::OK();
  }));
  if (pinned == key_id) return Status::OK();
  return Status::FailedPrecondition("this replica's release key (id " + key_id.substr(0, 16) +
                                    "...) is not the one the other replicas of " + db.path() + " sign with (id " +
                                    pinned.substr(0, 16) + "...): give every replica the same --release-key file");
}

}  // namespace

RegistryService::RegistryService(std::string data_dir, ServiceOptions options, std::unique_ptr<Database> db,
                                 std::unique_ptr<BlobBackend> blobs)
    : data_dir_(std::move(data_dir)),
      options_(options),
      db_(std::move(db)),
      blobs_(std::move(blobs)),
      waiters_(std::make_unique<ReleaseWaiters>()),
      event_waiters_(std::make_unique<EventWaiters>()),
      envelopes_(std::make_unique<EnvelopeCache>()),
      tokens_(std::make_unique<TokenCache>()),
      modelpacks_(std::make_unique<ModelPackCache>()),
      manifests_(std::make_unique<ManifestCache>()),
      gc_(std::make_unique<GcState>()) {}

// The event poll thread reads the database, so it ends first; then the
// database, whose notification thread calls into the caches and waiters.
RegistryService::~RegistryService() {
  event_waiters_->StopThread();
  db_.reset();
}

Result<std::unique_ptr<RegistryService>> RegistryService::Open(const std::string& data_dir, ServiceOptions options) {
  MR_RETURN_IF_ERROR(MakeDirs(data_dir));
  if (!options.db_url.empty() && !Database::IsPostgresUrl(options.db_url))
    return Status::InvalidArgument("--db takes a postgresql://USER@HOST:PORT/DB URL, not '" +
                                   options.db_url.substr(0, 80) + "' (without --db the database is SQLite under DIR)");
  Database::Options db_options;
  db_options.password_file = options.db_password_file;
  MR_ASSIGN_OR_RETURN(auto db,
                      Database::Open(options.db_url.empty() ? data_dir + "/registry.db" : options.db_url, db_options));
  std::unique_ptr<BlobBackend> blobs;
  if (options.oci_blobs) {
    MR_ASSIGN_OR_RETURN(blobs, OpenOciBackend(*options.oci_blobs, data_dir));
  } else {
    MR_ASSIGN_OR_RETURN(auto local, BlobStore::Open(data_dir, options.direct_io));
    blobs = std::make_unique<LocalBlobBackend>(std::move(local));
  }
  MR_ASSIGN_OR_RETURN(auto key, options.release_key_file.empty() ? SigningKey::LoadOrCreate(data_dir + "/keys")
                                                                 : SigningKey::LoadFile(options.release_key_file));
  const bool shared = db->dialect() == SqlDialect::kPostgres;
  if (shared) MR_RETURN_IF_ERROR(PinReleaseKey(*db, key->key_id()));
  std::unique_ptr<RegistryService> svc(new RegistryService(data_dir, options, std::move(db), std::move(blobs)));
  svc->release_key_ = std::move(key);
  svc->oci_bearer_key_ = svc->DeriveKey("modelreg /v2/ bearer key, version 1");
  svc->webhook_key_ = svc->DeriveKey("modelreg webhook secrets key, version 1");
  // Events committed (by this process; on PostgreSQL by every replica)
  // wake event watches. Changes committed by other replicas arrive as
  // notifications; a reconnect (empty channel) may have missed some:
  // refresh everything.
  using namespace service_internal;
  std::vector<std::string> channels = {kEventsChannel};
  if (shared) channels.insert(channels.end(), {kReleaseChannel, kTokensChannel});
  RegistryService* raw = svc.get();
  MR_RETURN_IF_ERROR(svc->db_->Listen(channels, [raw](const std::string& channel, const std::string& payload) {
    if (channel.empty() || channel == kReleaseChannel) raw->NotifyReleaseChanged();
    if (channel.empty() || channel == kTokensChannel) raw->TokensChanged();
    if (channel.empty() || channel == kEventsChannel)
      raw->EventsCommitted(channel.empty() ? 0 : std::atoll(payload.c_str()));
  }));
  return svc;
}

// The release key signs `purpose` (Ed25519 signatures are deterministic);
// the key is the signature's SHA-256.
std::string RegistryService::DeriveKey(const std::string& purpose) const {
  const std::string sig = release_key_->Sign(purpose);
  unsigned char out[32];
  unsigned int n = 0;
  EVP_Digest(sig.data(), sig.size(), out, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
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
