// Manifests pushed to /v2/ with a subject (migrations/0013_oci_referrers.sql).
// Call only inside Database::Transact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"
#include "store/model_store.h"

namespace modelreg::store {

struct ReferrerRow {
  std::string subject;  // the version's bundle digest
  std::string digest;   // the pushed manifest's
  int64_t size = 0;
  std::string artifact_type;
  int64_t created_at_ms = 0;
  std::string created_by;
};

// False if the model already has this manifest (nothing changes).
bool InsertReferrer(Tx& tx, int64_t model_id, const ReferrerRow& r, const std::vector<BlobRef>& blobs);
// The model's pushed referrers of `subject`, oldest first.
std::vector<ReferrerRow> ListReferrers(Tx& tx, int64_t model_id, const std::string& subject);
std::optional<ReferrerRow> FindReferrer(Tx& tx, int64_t model_id, const std::string& digest);
// The size of blob `digest` if a pushed referrer of the model references it.
std::optional<int64_t> ReferrerBlobSize(Tx& tx, int64_t model_id, const std::string& digest);

}  // namespace modelreg::store
