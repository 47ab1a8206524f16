// Fsck's cross-checks: database rows that have a second source are compared
// with it, so that a row edited in place (the file still a sound SQLite
// database) is reported instead of served as truth. Internal to the service
// library; call inside one read transaction, one model at a time.
//
// Each mismatch is one line for FsckReport.problems naming the model, the
// version and both values. The second sources, each harder to change
// unnoticed than a row:
//  - a version's manifest and lineage record: blobs named by its bundle
//    digest (manifest = sha256 of its bytes; lineage record = the manifest's
//    config). Checked: the version's size/file/byte counts and blob
//    references against the manifest; code, parent, datasets and metrics
//    against the lineage record (params are stored in the record only).
//  - the hash-chained audit log: the register event's digest and counts;
//    each stage change (from, to, kind, actor, reason) and the stage now;
//    each approval (approver, comment); the last policy.set; each token's
//    role, models, expiry and revocation.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "core/records.h"
#include "service/registry_service.h"
#include "store/database.h"

namespace modelreg::service_internal {

// Rows of `versions` (all of model `m`) against their manifests and
// lineage records. Blobs it cannot read are reported as not cross-checked.
void CheckRowsAgainstLineage(Tx& tx, const BlobBackend& blobs, const ServiceOptions& options, const ModelRecord& m,
                             const std::vector<VersionRecord>& versions, std::vector<std::string>* problems);

// Rows of model `m` (versions = all of its versions) against the events the
// audit log holds about it. Versions registered before the log's first event
// (a registry older than the log) need no register event.
// `first_audit_ms`: at_ms of the log's first event, nullopt if it is empty.
void CheckRowsAgainstAudit(Tx& tx, const ModelRecord& m, const std::vector<VersionRecord>& versions,
                           std::optional<int64_t> first_audit_ms, std::vector<std::string>* problems);

// Token rows (role, models, expiry, revocation) against token.create and
// token.revoke events. The token's hash has no second source.
void CheckTokensAgainstAudit(Tx& tx, std::optional<int64_t> first_audit_ms, std::vector<std::string>* problems);

}  // namespace modelreg::service_internal
