// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction unless MODELREG_KEEP_TEST_DIRS is set.
#pragma once

#include <string>

namespace modelreg::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Writes `content` to `path`, creating parent directories.
void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
// `n` pseudo-random bytes from `seed` (deterministic; each byte value occurs).
std::string RandomBytes(size_t n, unsigned seed);
// Writes `size` pseudo-random bytes from `seed` (fast, deterministic).
void WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed);
// Whether the filesystem under `dir` takes O_DIRECT (ext4 and tmpfs do).
bool TakesDirectIo(const std::string& dir);

}  // namespace modelreg::testing
