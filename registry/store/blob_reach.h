// Which stored blobs a token limited to some models may reach (learn that
// they are stored, link into a version): those it uploaded itself, and those
// some version of a model it can read holds (migrations/0010). Call only
// inside Database::Transact. All SQL is bound, never spliced.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/database.h"

namespace modelreg::store {

// Records that `uploader` (a token name) sent bytes whose sha256 is each of
// `digests`, checked against it. A row already there is kept.
void RecordUploads(Tx& tx, const std::vector<std::string>& digests, const std::string& uploader);

// Answers "may `uploader`, who can read the models `can_see` accepts, reach
// this blob?" for many digests within one transaction: its statements are
// prepared once. Each answer is one primary-key lookup, then a walk of the
// digest's index rows in version_blobs that stops at the first readable
// model. Only as long-lived as `tx`; not thread-safe.
class BlobReach {
 public:
  BlobReach(Tx& tx, std::string uploader, std::function<bool(const std::string& model)> can_see);
  ~BlobReach();
  BlobReach(const BlobReach&) = delete;
  BlobReach& operator=(const BlobReach&) = delete;

  bool Reaches(const std::string& digest);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace modelreg::store
