#include "core/mapped_file.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

namespace modelreg {
namespace {

// The range this thread is reading inside Read(), and where to go back to.
thread_local const char* t_lo = nullptr;
thread_local const char* t_hi = nullptr;
thread_local sigjmp_buf* t_jump = nullptr;

struct sigaction g_previous;

void OnSigbus(int sig, siginfo_t* info, void* ucontext) {
  const char* addr = static_cast<const char*>(info->si_addr);
  if (t_jump && addr >= t_lo && addr < t_hi) siglongjmp(*t_jump, 1);
  // Not ours: hand it on. With the default action, restoring it and
  // returning re-runs the faulting access, which then ends the process.
  if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction) {
    g_previous.sa_sigaction(sig, info, ucontext);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
  } else {
    sigaction(SIGBUS, &g_previous, nullptr);
  }
}

void InstallHandlerOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &g_previous);
  });
}

}  // namespace

Result<std::unique_ptr<MappedFile>> MappedFile::Map(int fd, uint64_t size, const std::string& path) {
  if (size == 0) return Status::InvalidArgument("cannot map an empty file");
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Status::FromErrno("mmap " + path, errno);
  ::madvise(p, size, MADV_SEQUENTIAL);
  InstallHandlerOnce();
  return std::unique_ptr<MappedFile>(new MappedFile(static_cast<const char*>(p), size, path));
}

MappedFile::~MappedFile() { ::munmap(const_cast<char*>(data_), size_); }

void MappedFile::Release(uint64_t offset, uint64_t len) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t end = std::min(offset + len, size_);
  const uint64_t first = (offset + page - 1) / page * page;
  const uint64_t last = end == size_ ? end : end / page * page;  // the mapping's tail page is whole
  if (last > first) ::munmap(const_cast<char*>(data_) + first, last - first);
}

Status MappedFile::Read(uint64_t offset, size_t len, const std::function<void(const char*, size_t)>& fn) const {
  if (offset > size_ || len > size_ - offset) return Status::OutOfRange("read past the mapping of " + path_);
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) != 0) {
    t_jump = nullptr;
    return Status::FailedPrecondition(path_ + " shrank while it was being read");
  }
  t_lo = data_ + offset;
  t_hi = data_ + offset + len;
  t_jump = &jump;
  fn(data_ + offset, len);
  t_jump = nullptr;
  return Status::OK();
}

}  // namespace modelreg
