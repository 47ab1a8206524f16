// Fuzz target: the answer of POST .../blobs/fetch as pull and the agent cut
// it (core/blob_splitter.h): blobs concatenated, checked at their manifest
// sizes and digests. The input describes the blobs (count, sizes), then the
// stream a registry sends: the true bytes with some flipped, cut short, or
// with extra bytes, fed in pieces of a chosen size.
// Invariants: no crash; every blob the splitter calls checked holds exactly
// its true bytes; blobs are checked in order, each once; an error is final.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/blob_splitter.h"

using namespace modelreg;

namespace {

std::string ReadFd(int fd) {
  std::string out;
  char buf[4096];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    at += n;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  size_t at = 0;
  auto next = [&]() -> uint8_t { return at < size ? data[at++] : 0; };
  const size_t count = 1 + next() % 6;
  const size_t piece = 1 + next() % 64;
  const size_t first = next() % count;
  std::vector<std::string> truth(count);
  std::vector<SplitBlob> blobs;
  for (size_t i = 0; i < count; ++i) {
    const size_t n = next() % 40;  // 0..39 bytes, empty blobs included
    for (size_t k = 0; k < n; ++k) truth[i].push_back(static_cast<char>('a' + (i * 7 + k) % 26));
    blobs.push_back(SplitBlob{Digest::Of(truth[i]), truth[i].size(), "blob" + std::to_string(i)});
  }
  std::string stream;
  for (size_t i = first; i < count; ++i) stream += truth[i];
  // Then the rest of the input edits the stream: (op, position) pairs.
  while (at + 1 < size) {
    const uint8_t op = next(), pos = next();
    if (stream.empty() && op % 4 != 2) continue;
    switch (op % 4) {
      case 0:
        stream[pos % stream.size()] ^= static_cast<char>(1 + op / 4);
        break;  // flip
      case 1:
        stream.resize(pos % stream.size());
        break;  // cut short
      case 2:
        stream.push_back(static_cast<char>(pos));
        break;  // extra byte
      case 3:
        break;  // unchanged
    }
  }

  std::vector<int> fds(count, -1);
  std::vector<size_t> checked;
  BlobSplitter split(
      blobs, first,
      [&](size_t i) -> Result<UniqueFd> {
        if (i >= count || fds[i] >= 0) abort();  // each blob opened once
        const int fd = ::memfd_create("blob", MFD_CLOEXEC);
        if (fd < 0) abort();
        fds[i] = ::dup(fd);
        return UniqueFd(fd);
      },
      [&](size_t i, int) {
        if (ReadFd(fds[i]) != truth[i]) abort();                               // checked means exactly its bytes
        if (!checked.empty() ? i != checked.back() + 1 : i != first) abort();  // in order, once
        checked.push_back(i);
        return Status::OK();
      });
  Status st;
  for (size_t off = 0; off < stream.size() && st.ok(); off += piece)
    st = split.Feed(stream.data() + off, std::min(piece, stream.size() - off));
  if (st.ok()) st = split.End();
  if (!st.ok() && split.Feed("x", 1).ok()) abort();  // final
  if (split.complete() != first + checked.size()) abort();
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  return 0;
}
