// Names for a version of a model (docs/api.md, docs/cli.md), taken wherever
// a VERSION is: in REST paths /api/v1/models/{m}/versions/{ref}/... and so
// in every CLI command.
//   3                   the version number (1-11 digits)
//   sha256:<64 hex>     the bundle digest
//   <12-64 hex>, sha256:<12-63 hex>   a unique prefix of the digest (tables
//                       print 12)
//   production, staging the version now in that stage
//   latest              the highest number
// Resolved inside the caller's transaction, with one query. A name that is
// none of these, or a prefix two versions share (the candidates in the
// details), is InvalidArgument (400); a version that is not there, or a
// stage no version is in, is NotFound (404).
#pragma once

#include <string>

#include "core/records.h"
#include "core/status.h"
#include "store/database.h"

namespace modelreg::service_internal {

Result<VersionRecord> ResolveVersionRef(Tx& tx, const std::string& model, const std::string& ref);

}  // namespace modelreg::service_internal
