// MappedFile: a read-only mapping of a whole file whose reads survive the
// file being truncated underneath.
//
// Reading a mapped page that lies past the file's end raises SIGBUS, which
// would kill the process when another program shortens a model file while
// it is being registered. Read() runs its callback with a SIGBUS handler
// armed for this thread and this mapping only: such a fault ends the
// callback early and comes back as FailedPrecondition. Any other SIGBUS
// goes to the handler that was there before (by default: the process dies,
// as it would have).
//
// Used by core/hashing_reader to hash large files without first copying
// them out of the page cache (the copy was a tenth to a third of the
// client's CPU for a 1 GiB register on the 2-core test machines).
//
// Thread-safe: Read() may run on several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "core/status.h"

namespace modelreg {

class MappedFile {
 public:
  // Maps `size` bytes of `fd` (not owned; the mapping stays valid after it
  // is closed). Fails for size 0 or where the file cannot be mapped.
  static Result<std::unique_ptr<MappedFile>> Map(int fd, uint64_t size, const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  uint64_t size() const { return size_; }

  // Calls fn(data() + offset, len). A page of that range past the file's
  // end (the file shrank) stops fn and returns FailedPrecondition. `fn`
  // must not allocate or take locks the fault could leave held: it is
  // left by siglongjmp (hashing a block is fine).
  Status Read(uint64_t offset, size_t len, const std::function<void(const char*, size_t)>& fn) const;

  // Unmaps the pages wholly inside [offset, offset + len): nothing may read
  // them afterwards. A long sequential reader calls this as it goes, so that
  // tearing down a 1 GiB mapping (~30 ms of page-table work here) is spread
  // over the read instead of coming all at once at the end.
  void Release(uint64_t offset, uint64_t len);

 private:
  MappedFile(const char* data, uint64_t size, std::string path) : data_(data), size_(size), path_(std::move(path)) {}
  const char* data_;
  uint64_t size_;
  std::string path_;
};

}  // namespace modelreg
