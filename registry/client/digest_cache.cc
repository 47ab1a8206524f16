#include "client/digest_cache.h"

#include <cstdlib>
#include <filesystem>

#include "core/file_util.h"

namespace modelreg {
namespace {

std::string Fingerprint(const struct stat& sb) {
  return std::to_string(sb.st_size) + " " + std::to_string(sb.st_mtim.tv_sec) + "." +
         std::to_string(sb.st_mtim.tv_nsec) + " " + std::to_string(sb.st_ctim.tv_sec) + "." +
         std::to_string(sb.st_ctim.tv_nsec);
}

}  // namespace

std::string DigestCache::DefaultDir() {
  if (const char* d = std::getenv("MODELREG_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/modelreg";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/modelreg";
  return "";
}

std::string DigestCache::EntryPath(const struct stat& sb) const {
  return dir_ + "/digests/" + std::to_string(sb.st_dev) + "-" + std::to_string(sb.st_ino);
}

std::optional<Digest> DigestCache::Lookup(const std::string& path) const {
  if (dir_.empty()) return std::nullopt;
  struct stat sb;
  if (::stat(path.c_str(), &sb) != 0) return std::nullopt;
  auto text = ReadSmallFile(EntryPath(sb), 1024);
  if (!text.ok()) return std::nullopt;
  const std::string want = Fingerprint(sb) + " ";
  if (text->rfind(want, 0) != 0) return std::nullopt;
  std::string rest = text->substr(want.size());
  while (!rest.empty() && rest.back() == '\n') rest.pop_back();
  auto d = Digest::Parse(rest);
  if (!d.ok()) return std::nullopt;
  return *d;
}

void DigestCache::Store(const std::string& path, const struct stat& before, const Digest& d) const {
  if (dir_.empty()) return;
  struct stat after;
  if (::stat(path.c_str(), &after) != 0 || Fingerprint(after) != Fingerprint(before) || after.st_ino != before.st_ino ||
      after.st_dev != before.st_dev)
    return;
  if (!MakeDirs(dir_ + "/digests").ok()) return;
  (void)WriteFileAtomic(EntryPath(after), Fingerprint(after) + " " + d.str() + "\n", 0600);
}

}  // namespace modelreg
