// Unit tests for registry/core/pipelined_writer.h: the bytes and the hash
// that come out for every shape of stream, appends at an offset, background
// syncs on long streams, and write errors.
#include "core/pipelined_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "core/file_util.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::ReadFile;
using testing::TakesDirectIo;
using testing::TempDir;
using testing::WriteFile;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  for (size_t i = n & ~size_t{7}; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

// Feeds `data` to a writer in pieces of random sizes (1 byte to 3 MiB).
Status WriteInPieces(PipelinedWriter& w, const std::string& data, uint32_t seed) {
  std::mt19937 rng(seed);
  size_t pos = 0;
  while (pos < data.size()) {
    size_t n = std::min<size_t>(data.size() - pos, 1 + rng() % (rng() % 2 ? 3u << 20 : 5000u));
    MR_RETURN_IF_ERROR(w.Write(data.data() + pos, n));
    pos += n;
  }
  return w.Finish();
}

TEST_CASE("PipelinedWriter writes and hashes streams of every shape", "[core][pipelined_writer]") {
  TempDir dir;
  const size_t mib = 1 << 20;
  for (auto hash_on : {PipelinedWriter::HashOn::kCaller, PipelinedWriter::HashOn::kThread})
    for (size_t size : {size_t{0}, size_t{1}, mib - 1, mib, mib + 1, 7 * mib + 12345}) {
      for (bool hint : {false, true}) {
        const bool on_thread = hash_on == PipelinedWriter::HashOn::kThread;
        CAPTURE(size, hint, on_thread);
        const std::string data = RandomBytes(size, static_cast<uint32_t>(size));
        const std::string path = dir / ("f" + std::to_string(size) + (hint ? "h" : "") + (on_thread ? "t" : ""));
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644));
        REQUIRE(fd.valid());
        Sha256 hash;
        PipelinedWriter w(fd.get(), path, &hash, 0, hint ? size : UINT64_MAX, PipelinedWriter::kSyncEvery, false,
                          hash_on);
        REQUIRE(WriteInPieces(w, data, 7).ok());
        CHECK(w.end_offset() == size);
        CHECK(hash.Finish() == Digest::Of(data));
        CHECK(ReadFile(path) == data);
      }
    }
}

TEST_CASE("PipelinedWriter lends its buffers: Space and Commit mixed with Write", "[core][pipelined_writer]") {
  TempDir dir;
  const size_t mib = 1 << 20;
  // Write first (the stream starts in its small buffer, up to a full block),
  // then lent buffers filled partly, then Write again.
  for (auto hash_on : {PipelinedWriter::HashOn::kCaller, PipelinedWriter::HashOn::kThread})
    for (size_t first : {size_t{0}, size_t{100}, mib}) {
      const bool on_thread = hash_on == PipelinedWriter::HashOn::kThread;
      CAPTURE(first, on_thread);
      const std::string data = RandomBytes(first + 5 * mib + 777, 11);
      const std::string path = dir / ("z" + std::to_string(first) + (on_thread ? "t" : ""));
      UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644));
      REQUIRE(fd.valid());
      Sha256 hash;
      PipelinedWriter w(fd.get(), path, &hash, 0, data.size(), PipelinedWriter::kSyncEvery, false, hash_on);
      REQUIRE(w.Write(data.data(), first).ok());
      size_t pos = first;
      std::mt19937 rng(3);
      while (pos < data.size() - 1000) {
        auto space = w.Space();
        REQUIRE(space.ok());
        REQUIRE(space->second >= 1);
        size_t n = std::min({space->second, data.size() - 1000 - pos, size_t{1 + rng() % 300000}});
        std::memcpy(space->first, data.data() + pos, n);
        REQUIRE(w.Commit(n).ok());
        pos += n;
      }
      REQUIRE(w.Write(data.data() + pos, data.size() - pos).ok());
      REQUIRE(w.Finish().ok());
      CHECK(hash.Finish() == Digest::Of(data));
      CHECK(ReadFile(path) == data);
      CHECK_FALSE(w.Space().ok());  // finished
    }
}

TEST_CASE("PipelinedWriter appends at an offset and works without a hash", "[core][pipelined_writer]") {
  TempDir dir;
  const std::string path = dir / "f";
  const std::string prefix = RandomBytes(1000, 1), rest = RandomBytes(3 * (1 << 20) + 5, 2);
  WriteFile(path, prefix);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND));
  REQUIRE(fd.valid());
  PipelinedWriter w(fd.get(), path, nullptr, prefix.size(), rest.size());
  REQUIRE(WriteInPieces(w, rest, 3).ok());
  CHECK(w.end_offset() == prefix.size() + rest.size());
  CHECK(ReadFile(path) == prefix + rest);
}

TEST_CASE("PipelinedWriter makes a long stream durable as it goes", "[core][pipelined_writer]") {
  TempDir dir;
  const std::string path = dir / "big";
  const std::string data = RandomBytes(24 << 20, 9);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644));
  REQUIRE(fd.valid());
  Sha256 hash;
  PipelinedWriter w(fd.get(), path, &hash, 0, data.size(), /*sync_every=*/4 << 20);
  REQUIRE(WriteInPieces(w, data, 4).ok());
  // The syncing thread ran while the stream was written (how often depends
  // on the disk: it folds requests that arrive while it syncs).
  CHECK(w.background_syncs() >= 1);
  CHECK(hash.Finish() == Digest::Of(data));
  CHECK(ReadFile(path) == data);
}

TEST_CASE("PipelinedWriter with direct I/O: aligned blocks bypass the page cache, the rest goes through it",
          "[core][pipelined_writer]") {
  TempDir dir;
  const size_t mib = 1 << 20;
  const bool direct_fs = TakesDirectIo(dir.path());
  for (size_t prefix : {size_t{0}, size_t{1000}}) {  // a fresh file, a resumed one at an unaligned offset
    for (size_t size : {size_t{0}, size_t{1}, mib - 1, mib, mib + 1, 7 * mib + 12345}) {
      for (bool lend : {false, true}) {  // fed by Write, or by Space and Commit
        // The pull's and the agent's way: hashed on a thread of the writer's.
        const auto hash_on = lend ? PipelinedWriter::HashOn::kThread : PipelinedWriter::HashOn::kCaller;
        CAPTURE(prefix, size, lend);
        const std::string head = RandomBytes(prefix, 11);
        const std::string data = RandomBytes(size, static_cast<uint32_t>(size + prefix));
        const std::string path = dir / ("d" + std::to_string(prefix) + "-" + std::to_string(size) + (lend ? "l" : ""));
        WriteFile(path, head);
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND));
        REQUIRE(fd.valid());
        Sha256 hash;
        PipelinedWriter w(fd.get(), path, &hash, prefix, size, PipelinedWriter::kSyncEvery, /*direct_io=*/true,
                          hash_on);
        if (!lend) {
          REQUIRE(WriteInPieces(w, data, 12).ok());
        } else {
          size_t pos = 0;
          while (pos < data.size()) {
            auto space = w.Space();
            REQUIRE(space.ok());
            size_t n = std::min<size_t>({space->second, data.size() - pos, 300000});
            std::memcpy(space->first, data.data() + pos, n);
            REQUIRE(w.Commit(n).ok());
            pos += n;
          }
          REQUIRE(w.Finish().ok());
        }
        CHECK(w.end_offset() == prefix + size);
        CHECK(hash.Finish() == Digest::Of(data));
        CHECK(ReadFile(path) == head + data);
        // Every whole aligned block went around the page cache: all but the
        // unaligned first piece and the tail.
        if (direct_fs && size >= 2 * mib) CHECK(w.direct_bytes() >= size - 2 * mib);
        if (!direct_fs || size < 2 * mib) CHECK(w.direct_bytes() <= size);
        // O_DIRECT is off again for whoever writes to the file next.
        CHECK((::fcntl(fd.get(), F_GETFL) & O_DIRECT) == 0);
      }
    }
  }
}

TEST_CASE("PipelinedWriter reports a write error and stops taking bytes", "[core][pipelined_writer]") {
  // /dev/full fails every write with ENOSPC: the disk-full case.
  UniqueFd fd(::open("/dev/full", O_WRONLY));
  REQUIRE(fd.valid());
  const std::string data = RandomBytes(8 << 20, 5);
  SECTION("a large stream, written by the writing thread") {
    Sha256 hash;
    PipelinedWriter w(fd.get(), "/dev/full", &hash, 0, data.size());
    Status st = WriteInPieces(w, data, 6);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("No space left") != std::string::npos);
    CHECK(w.Finish().code() == st.code());  // Finish repeats the first error
    CHECK(w.end_offset() == 0);
    CHECK_FALSE(w.Write("x", 1).ok());
  }
  SECTION("a large stream hashed on a thread of the writer's") {
    Sha256 hash;
    PipelinedWriter w(fd.get(), "/dev/full", &hash, 0, data.size(), PipelinedWriter::kSyncEvery, false,
                      PipelinedWriter::HashOn::kThread);
    Status st = WriteInPieces(w, data, 6);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("No space left") != std::string::npos);
    CHECK(w.end_offset() == 0);
  }
  SECTION("a large stream with direct I/O asked for (a device that refuses it: written through the page cache)") {
    Sha256 hash;
    PipelinedWriter w(fd.get(), "/dev/full", &hash, 0, data.size(), PipelinedWriter::kSyncEvery, true);
    Status st = WriteInPieces(w, data, 6);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("No space left") != std::string::npos);
    CHECK(w.direct_bytes() == 0);
  }
  SECTION("a small stream, written in Finish") {
    PipelinedWriter w(fd.get(), "/dev/full", nullptr, 0, 10);
    REQUIRE(w.Write("0123456789", 10).ok());
    Status st = w.Finish();
    CHECK_FALSE(st.ok());
    CHECK(w.end_offset() == 0);
  }
}

TEST_CASE("ProbeWriteModes times both modes and picks direct only where it won by the margin",
          "[core][pipelined_writer]") {
  TempDir dir;
  auto p = ProbeWriteModes(dir.path(), 4 << 20, 2);
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  CHECK(p->bytes == (4u << 20));
  CHECK(p->samples == 2);
  CHECK(p->buffered_gbps > 0);
  CHECK(p->ms > 0);
  CHECK(p->direct_supported == TakesDirectIo(dir.path()));
  if (p->direct_supported) CHECK(p->direct_gbps > 0);
  else CHECK(p->direct_gbps == 0);
  CHECK(p->choose_direct ==
        (p->direct_supported && !(p->buffered_gbps > p->direct_gbps * WriteProbe::kBufferedMargin)));
  // Its files are gone.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 0);
  // A directory it cannot write in is an error, not a choice.
  CHECK_FALSE(ProbeWriteModes(dir / "missing", 1 << 20, 1).ok());
}

}  // namespace
}  // namespace modelreg
