// Shared by the lineage and live-at use cases. Internal to the service
// library; call inside a read transaction.
#pragma once

#include "auth/permissions.h"
#include "blob/blob_store.h"
#include "core/audit_queries.h"
#include "core/lineage_record.h"
#include "core/manifest.h"
#include "store/database.h"

namespace modelreg::service_internal {

// Reads and parses a version's lineage record (its config blob).
Result<LineageRecord> LoadLineageRecord(const BlobBackend& blobs, const VersionRecord& v, size_t max_bytes);

// The lineage of `v` as `p` may see it: models outside the token's scope
// are left out (a parent there is reported as unresolved).
Result<VersionLineage> BuildVersionLineage(Tx& tx, const BlobBackend& blobs, const Principal& p, const VersionRecord& v,
                                           size_t max_config_bytes);

VersionRef RefOf(const VersionRecord& v);

// The reference profile (profile_ops.cc): at most this large, and on
// register the layer lineage.profile names must be in `m` (title
// kProfilePath, same digest and size) and its bytes must pass ParseProfile.
// InvalidArgument naming the problem.
inline constexpr size_t kMaxProfileBytes = 16 << 20;
Status CheckProfileLayer(const BlobBackend& blobs, const Manifest& m, const ProfileRef& ref);

}  // namespace modelreg::service_internal
