// Unit tests for registry/core/hashing_reader.h: the bytes handed out and
// the digest for files of every shape, skipping, a caller that stops early,
// and a file that shrinks while it is read.
#include "core/hashing_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "core/file_util.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteRandomFile;

// A file of `size` pseudo-random bytes; returns its content.
std::string RandomFile(const std::string& path, uint64_t size, uint64_t seed) {
  WriteRandomFile(path, size, seed);
  return ReadFile(path);
}

TEST_CASE("HashingReader hands out every byte in order and hashes the whole file", "[core][hashing_reader]") {
  TempDir dir;
  const size_t mib = 1 << 20;
  for (size_t size : {size_t{0}, size_t{1}, mib - 1, mib, mib + 1, 9 * mib + 777}) {
    CAPTURE(size);
    const std::string path = dir / ("f" + std::to_string(size));
    const std::string data = RandomFile(path, size, size);
    UniqueFd fd(::open(path.c_str(), O_RDONLY));
    REQUIRE(fd.valid());
    HashingReader r(fd.get(), path, size);
    std::mt19937 rng(3);
    std::string got;
    for (;;) {
      auto piece = r.Next(1 + rng() % (2 * mib));
      REQUIRE(piece.ok());
      if (piece->empty()) break;
      got.append(piece->data(), piece->size());
      CHECK(r.position() == got.size());
    }
    CHECK(got == data);
    auto d = r.Finish();
    REQUIRE(d.ok());
    CHECK(*d == Digest::Of(data));
  }
}

TEST_CASE("HashingReader: skipped bytes and bytes never taken are still hashed", "[core][hashing_reader]") {
  TempDir dir;
  const std::string path = dir / "f";
  const std::string data = RandomFile(path, (5 << 20) + 3, 9);
  UniqueFd fd(::open(path.c_str(), O_RDONLY));
  REQUIRE(fd.valid());
  HashingReader r(fd.get(), path, data.size());
  auto first = r.Next(100);
  REQUIRE(first.ok());
  CHECK(std::string(*first) == data.substr(0, 100));
  REQUIRE(r.Skip(3 << 20).ok());  // e.g. the server already holds these
  auto after = r.Next(10);
  REQUIRE(after.ok());
  CHECK(std::string(*after) == data.substr(3 << 20, 10));
  auto d = r.Finish();  // the rest is never taken
  REQUIRE(d.ok());
  CHECK(*d == Digest::Of(data));
}

TEST_CASE("HashingReader reports a file that shrank and can be dropped part way", "[core][hashing_reader]") {
  TempDir dir;
  const std::string path = dir / "f";
  const std::string data = RandomFile(path, 6 << 20, 4);
  UniqueFd fd(::open(path.c_str(), O_RDONLY));
  REQUIRE(fd.valid());
  SECTION("the file is shorter than announced") {
    HashingReader r(fd.get(), path, data.size() + 5);
    Status st;
    for (;;) {
      auto piece = r.Next(1 << 20);
      if (!piece.ok()) {
        st = piece.status();
        break;
      }
      REQUIRE_FALSE(piece->empty());
    }
    CHECK(st.code() == StatusCode::kFailedPrecondition);
    CHECK(st.message().find("shrank") != std::string::npos);
    CHECK(r.Finish().status().code() == StatusCode::kFailedPrecondition);
  }
  SECTION("dropped after one piece") {
    HashingReader r(fd.get(), path, data.size());
    REQUIRE(r.Next(1).ok());
  }
}

}  // namespace
}  // namespace modelreg
