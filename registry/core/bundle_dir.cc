#include "core/bundle_dir.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

namespace modelreg {
namespace {

Status Walk(const std::string& root, const std::string& rel, const BundleLimits& limits, std::vector<LocalFile>* out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Status::FromErrno("open directory " + dir, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    std::string full = root + "/" + r;
    struct stat sb;
    if (::lstat(full.c_str(), &sb) != 0) return Status::FromErrno("stat " + full, errno);
    MR_RETURN_IF_ERROR(ValidateBundlePath(r, limits));
    if (S_ISLNK(sb.st_mode))
      return Status::InvalidArgument("'" + r + "' is a symlink; bundles hold regular files only");
    if (S_ISDIR(sb.st_mode)) {
      MR_RETURN_IF_ERROR(Walk(root, r, limits, out));
      continue;
    }
    if (!S_ISREG(sb.st_mode))
      return Status::InvalidArgument("'" + r + "' is not a regular file (device, socket or FIFO)");
    if (sb.st_nlink > 1)
      return Status::InvalidArgument("'" + r + "' is a hardlink (" + std::to_string(sb.st_nlink) +
                                     " links); copy it into a regular file");
    if (out->size() >= limits.max_files)
      return Status::ResourceExhausted("more than " + std::to_string(limits.max_files) + " files");
    out->push_back(LocalFile{r, full, Digest::Of(""), static_cast<uint64_t>(sb.st_size)});
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<LocalFile>> ScanBundleDir(const std::string& dir, const BundleLimits& limits,
                                             uint64_t defer_hash_above, std::atomic<uint64_t>* hashed) {
  struct stat sb;
  if (::stat(dir.c_str(), &sb) != 0) return Status::FromErrno("bundle directory " + dir, errno);
  if (!S_ISDIR(sb.st_mode)) return Status::InvalidArgument(dir + " is not a directory");
  std::vector<LocalFile> files;
  MR_RETURN_IF_ERROR(Walk(dir, "", limits, &files));
  std::sort(files.begin(), files.end(), [](const LocalFile& a, const LocalFile& b) { return a.path < b.path; });
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  MR_RETURN_IF_ERROR(ValidateBundlePathSet(paths, limits));
  for (auto& f : files) {
    if (f.size > defer_hash_above) {
      f.hashed = false;
      continue;
    }
    MR_ASSIGN_OR_RETURN(FileDigest h, HashFile(f.local, hashed));
    if (h.size != f.size) return Status::FailedPrecondition("'" + f.path + "' changed while it was being read");
    f.digest = h.digest;
  }
  return files;
}

std::vector<BundleFile> ToBundleFiles(const std::vector<LocalFile>& files) {
  std::vector<BundleFile> out;
  out.reserve(files.size());
  for (const auto& f : files) out.push_back(BundleFile{f.path, f.digest, f.size});
  return out;
}

Result<Digest> DigestDataPath(const std::string& path) {
  struct stat sb;
  if (::stat(path.c_str(), &sb) != 0) return Status::FromErrno("dataset " + path, errno);
  if (S_ISREG(sb.st_mode)) {
    MR_ASSIGN_OR_RETURN(FileDigest h, HashFile(path));
    return h.digest;
  }
  MR_ASSIGN_OR_RETURN(auto files, ScanBundleDir(path));
  Manifest m = BuildManifest(kDatasetArtifactType, EmptyConfigDescriptor(), ToBundleFiles(files));
  return Digest::Of(SerializeManifest(m));
}

}  // namespace modelreg
