// PullDir: the temporary directory a pull downloads into, beside DEST:
// PARENT/.NAME.partial-XXXX, with a lock file PARENT/.NAME.partial-XXXX.lock
// that the pulling process holds (flock) and that names the bundle's digest.
//
// A pull that is killed leaves both. The next pull of the same bundle into
// the same DEST adopts the directory and keeps the files that verify (size
// and sha256 against the manifest), so that only the rest is downloaded
// again; a file cut short is continued from where it ended (its bytes are
// checked with the rest, when the whole file is hashed). A directory whose lock is held belongs to a pull still running
// and is left alone; one left by a pull of another bundle is removed. Directories without a lock file are never
// touched.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/digest.h"
#include "core/file_util.h"
#include "core/manifest.h"
#include "core/status.h"

namespace modelreg {

class PullDir {
 public:
  // Adopts a directory a killed pull of `bundle` into `dest` left, or
  // creates one. `dest` is absolute and normalized.
  static Result<std::unique_ptr<PullDir>> Open(const std::filesystem::path& dest, const Digest& bundle);
  ~PullDir();  // unless committed: removes the directory and its lock file
  PullDir(const PullDir&) = delete;
  PullDir& operator=(const PullDir&) = delete;

  const std::filesystem::path& path() const { return dir_; }
  bool adopted() const { return adopted_; }

  // What an adopted directory held, by path (as path() / title).
  struct Leftovers {
    std::set<std::string> whole;             // the file verified: size and sha256
    std::map<std::string, uint64_t> prefix;  // shorter than its size: how many bytes (unverified)
  };
  // For an adopted directory: removes every file and directory the manifest
  // does not name (and anything that is not a plain file or directory), and
  // every named file that is empty, too long, or of the right size but
  // another sha256. Empty for a new directory.
  Result<Leftovers> KeepVerified(const Manifest& m);

  // Renames the directory to DEST, fsyncs the parent, and drops the lock.
  Status Commit();
  // Leaves the directory and its lock file in place (the lock itself is
  // dropped), for the next pull into DEST to continue from.
  void Keep() { committed_ = true; }

 private:
  PullDir() = default;

  std::filesystem::path dest_, dir_, lock_path_;
  UniqueFd lock_;
  bool adopted_ = false;
  bool committed_ = false;
};

}  // namespace modelreg
