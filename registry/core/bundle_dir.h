// Reading a bundle directory from disk: walks it, refuses anything that is
// not a regular file or directory (symlinks, hardlinks, devices, sockets,
// FIFOs), validates every path by the bundle rules, and hashes each file by
// streaming. Used for model bundles and for dataset directories.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/bundle_path.h"
#include "core/manifest.h"
#include "core/status.h"

namespace modelreg {

struct LocalFile {
  std::string path;   // bundle path (relative, '/'-separated)
  std::string local;  // path on disk
  Digest digest;
  uint64_t size = 0;
  bool hashed = true;  // false: digest not computed yet (see ScanBundleDir)
};

// Sorted by bundle path. InvalidArgument naming the offending entry. Files
// larger than `defer_hash_above` are not hashed (hashed = false): the
// uploader may hash them while sending, saving one full read. The bytes
// hashed are added to *hashed as it goes, if given.
Result<std::vector<LocalFile>> ScanBundleDir(const std::string& dir, const BundleLimits& limits = {},
                                             uint64_t defer_hash_above = UINT64_MAX,
                                             std::atomic<uint64_t>* hashed = nullptr);

std::vector<BundleFile> ToBundleFiles(const std::vector<LocalFile>& files);

// Digest of a dataset: sha256 of a file's bytes, or for a directory the
// digest of its manifest (artifactType dataset, empty config).
Result<Digest> DigestDataPath(const std::string& path);

}  // namespace modelreg
