// Fault injection for tests, loaded with LD_PRELOAD: fdatasync() fails with
// EIO on any file whose path contains $MODELREG_FAULT_FDATASYNC, and fsync()
// on any containing $MODELREG_FAULT_FSYNC, as on a disk that failed to
// write back. Other calls go to libc. (A real failing
// disk, e.g. device-mapper's error target, needs privileges CI lacks.)
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// True if `fd` names a file whose path contains the value of `env`.
bool Matches(int fd, const char* env) {
  const char* match = std::getenv(env);
  if (!match || !*match) return false;
  char link[64], target[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = 0;
  return std::strstr(target, match) != nullptr;
}

}  // namespace

extern "C" int fdatasync(int fd) {
  using Fn = int (*)(int);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fdatasync"));
  if (Matches(fd, "MODELREG_FAULT_FDATASYNC")) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

extern "C" int fsync(int fd) {
  using Fn = int (*)(int);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fsync"));
  if (Matches(fd, "MODELREG_FAULT_FSYNC")) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}
