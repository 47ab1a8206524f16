// A client-side cache of file digests keyed by what stat() says about the
// file (device, inode, size, mtime and ctime in nanoseconds), like git's
// index: re-registering an unchanged large file then reads nothing and
// uploads nothing. An entry is stored only if the file did not change while
// it was hashed; any write changes ctime, which no user can set.
// Files under $MODELREG_CACHE_DIR/digests (see ResumeJournalPath). Not
// thread-safe; entries are small files written atomically.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "core/digest.h"

namespace modelreg {

class DigestCache {
 public:
  explicit DigestCache(std::string dir) : dir_(std::move(dir)) {}
  // The cache dir for this user ("" if none can be found).
  static std::string DefaultDir();
  std::optional<Digest> Lookup(const std::string& path) const;
  // Stores `d` for `path` if its stat still equals `before`.
  void Store(const std::string& path, const struct stat& before, const Digest& d) const;

 private:
  std::string EntryPath(const struct stat& sb) const;
  std::string dir_;
};

}  // namespace modelreg
