// Fault injection for tests, loaded with LD_PRELOAD: fdatasync() fails with
// EIO on any file whose path contains $MODELREG_FAULT_FDATASYNC, as on a
// disk that failed to write back. Other calls go to libc. (A real failing
// disk, e.g. device-mapper's error target, needs privileges CI lacks.)
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" int fdatasync(int fd) {
  using Fn = int (*)(int);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fdatasync"));
  const char* match = std::getenv("MODELREG_FAULT_FDATASYNC");
  if (match && *match) {
    char link[64], target[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = ::readlink(link, target, sizeof target - 1);
    if (n > 0) {
      target[n] = 0;
      if (std::strstr(target, match)) {
        errno = EIO;
        return -1;
      }
    }
  }
  return real(fd);
}
