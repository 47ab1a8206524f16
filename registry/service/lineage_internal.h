// Shared by the lineage and live-at use cases. Internal to the service
// library; call inside a read transaction.
#pragma once

#include "auth/permissions.h"
#include "blob/blob_store.h"
#include "core/audit_queries.h"
#include "store/database.h"

namespace modelreg::service_internal {

// Reads and parses a version's lineage record (its config blob).
Result<LineageRecord> LoadLineageRecord(const BlobBackend& blobs, const VersionRecord& v, size_t max_bytes);

// The lineage of `v` as `p` may see it: models outside the token's scope
// are left out (a parent there is reported as unresolved).
Result<VersionLineage> BuildVersionLineage(Tx& tx, const BlobBackend& blobs, const Principal& p, const VersionRecord& v,
                                           size_t max_config_bytes);

VersionRef RefOf(const VersionRecord& v);

}  // namespace modelreg::service_internal
