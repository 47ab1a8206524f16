#include "store/blob_reach.h"

#include <memory>

#include "service/blob_reach_internal.h"

namespace modelreg::service_internal {

std::function<bool(const std::string& digest)> BlobReachFor(Tx& tx, const Principal& p) {
  if (!p.scoped()) return [](const std::string&) { return true; };
  auto reach =
      std::make_shared<store::BlobReach>(tx, p.name, [p](const std::string& model) { return p.CanSeeModel(model); });
  return [reach](const std::string& digest) { return reach->Reaches(digest); };
}

void RecordUploads(Tx& tx, const Principal& p, const std::vector<std::string>& digests) {
  if (p.scoped() && !digests.empty()) store::RecordUploads(tx, digests, p.name);
}

}  // namespace modelreg::service_internal
