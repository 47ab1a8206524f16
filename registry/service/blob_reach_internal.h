// Which stored blobs a caller may reach: learn that they are stored (HEAD,
// `missing`, samples) and link into a new version. Knowing a digest grants
// nothing: a token limited to some models reaches a blob only if a version
// of a model it can read holds it, or it uploaded those bytes itself
// (store/blob_reach.h); a blob it may not reach is answered as absent. A
// token not limited to some models reaches every blob. Internal to the
// service library.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "auth/permissions.h"
#include "store/database.h"

namespace modelreg::service_internal {

// The predicate for `p`, valid inside `tx` only.
std::function<bool(const std::string& digest)> BlobReachFor(Tx& tx, const Principal& p);

// Records, for a limited token, that it uploaded these digests (bytes
// checked); a token that reaches every blob is not recorded.
void RecordUploads(Tx& tx, const Principal& p, const std::vector<std::string>& digests);

}  // namespace modelreg::service_internal
