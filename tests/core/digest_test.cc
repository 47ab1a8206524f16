// Unit tests for registry/core/digest.h: the digest value type, streaming
// SHA-256 and file hashing.
#include "core/digest.h"

#include <fcntl.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <random>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;
using testing::WriteRandomFile;

constexpr char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbcSha[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
// FIPS 180-2 test vectors: 448-bit message and one million 'a'.
constexpr char k448Msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr char k448Sha[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr char kMillionASha[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

TEST_CASE("Digest::Parse accepts exactly sha256 plus 64 lowercase hex", "[core][digest]") {
  const std::string text = std::string("sha256:") + kAbcSha;
  auto d = Digest::Parse(text);
  REQUIRE(d.ok());
  CHECK(d->str() == text);
  CHECK(d->hex() == kAbcSha);
  CHECK(d->shard() == "ba");
  CHECK(Digest::Parse("sha256:" + std::string(64, '0')).ok());
  CHECK(Digest::Parse("sha256:" + std::string(64, 'f')).ok());
  CHECK(Digest::Parse("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").ok());
}

TEST_CASE("Digest::Parse rejects everything else", "[core][digest]") {
  const std::string hex = kAbcSha;
  std::string upper = hex;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string one_upper = hex;
  one_upper[10] = 'F';
  const std::vector<std::string> bad = {
      "",
      "sha256:",
      "sha256:" + upper,
      "sha256:" + one_upper,
      "SHA256:" + hex,
      "Sha256:" + hex,
      "sha256:" + hex.substr(0, 63),
      "sha256:" + hex + "0",
      "sha256:" + hex.substr(0, 63) + "g",
      "sha256:" + hex.substr(0, 63) + " ",
      "sha512:" + hex + hex,
      "sha384:" + hex,
      "md5:" + hex.substr(0, 32),
      "sha256-" + hex,
      "sha256::" + hex.substr(1),
      " sha256:" + hex.substr(1),
      "sha256:" + hex + "\n",
      hex,
      "sha256:" + hex.substr(0, 63) + std::string(1, '\0'),
  };
  for (const auto& b : bad) {
    INFO(Catch::Detail::stringify(b));
    auto d = Digest::Parse(b);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Digest known vectors", "[core][digest]") {
  CHECK(Digest::Of("").hex() == kEmptySha);
  CHECK(Digest::Of("abc").hex() == kAbcSha);
  CHECK(Digest::Of("abc").str() == std::string("sha256:") + kAbcSha);
  CHECK(Digest::Of(k448Msg).hex() == k448Sha);
  CHECK(Digest::Of(std::string(1000000, 'a')).hex() == kMillionASha);
  // Bytes after a NUL count.
  CHECK(Digest::Of(std::string("abc\0", 4)) != Digest::Of("abc"));
}

TEST_CASE("Digest comparison and FromBytes", "[core][digest]") {
  Digest a = Digest::Of("a");
  Digest b = Digest::Of("b");
  CHECK(a == Digest::Of("a"));
  CHECK(a != b);
  CHECK((a < b) == (a.str() < b.str()));
  CHECK((a < b) != (b < a));

  unsigned char raw[32];
  for (int i = 0; i < 32; ++i) raw[i] = static_cast<unsigned char>(i * 8 + 7);
  Digest d = Digest::FromBytes(raw);
  CHECK(d.str() == "sha256:070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
  CHECK(Digest::Parse(d.str()).ok());
  CHECK(HexEncode(raw, 3) == "070f17");
  CHECK(HexEncode(raw, 0).empty());
}

TEST_CASE("Sha256 incremental equals one-shot", "[core][digest]") {
  const std::string data = RandomBytes(300000, 7);
  const Digest expected = Digest::Of(data);

  SECTION("byte by byte for a short prefix, then the rest") {
    Sha256 h;
    for (size_t i = 0; i < 200; ++i) h.Update(&data[i], 1);
    h.Update(data.data() + 200, data.size() - 200);
    CHECK(h.bytes() == data.size());
    CHECK(h.Finish() == expected);
  }
  SECTION("odd chunk sizes across block boundaries, with empty updates") {
    for (size_t chunk : {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4095}, size_t{65536}, size_t{299999}}) {
      INFO("chunk " << chunk);
      Sha256 h;
      h.Update("", 0);
      for (size_t off = 0; off < data.size(); off += chunk) {
        h.Update(std::string_view(data).substr(off, chunk));
        h.Update(nullptr, 0);
      }
      CHECK(h.bytes() == data.size());
      CHECK(h.Finish() == expected);
    }
  }
  SECTION("the one-million-a vector in uneven pieces") {
    Sha256 h;
    const std::string a(1000, 'a');
    size_t left = 1000000, step = 1;
    while (left > 0) {
      size_t n = std::min({left, step, a.size()});
      h.Update(a.data(), n);
      left -= n;
      step = step * 3 + 1;
    }
    CHECK(h.Finish().hex() == kMillionASha);
  }
  SECTION("a fresh hasher is the empty digest; instances are independent") {
    Sha256 empty;
    Sha256 other;
    other.Update("abc");
    CHECK(empty.bytes() == 0);
    CHECK(empty.Finish().hex() == kEmptySha);
    CHECK(other.Finish().hex() == kAbcSha);
  }
  SECTION("a moved hasher keeps its state") {
    Sha256 h;
    h.Update("ab");
    Sha256 moved(std::move(h));
    moved.Update("c");
    CHECK(moved.bytes() == 3);
    CHECK(moved.Finish().hex() == kAbcSha);
  }
}

TEST_CASE("HashFile equals Digest::Of the contents", "[core][digest]") {
  TempDir dir;
  SECTION("empty file") {
    WriteFile(dir / "empty", "");
    auto h = HashFile(dir / "empty");
    REQUIRE(h.ok());
    CHECK(h->size == 0);
    CHECK(h->digest.hex() == kEmptySha);
  }
  SECTION("small file") {
    WriteFile(dir / "abc", "abc");
    auto h = HashFile(dir / "abc");
    REQUIRE(h.ok());
    CHECK(h->size == 3);
    CHECK(h->digest.hex() == kAbcSha);
  }
  SECTION("multi-MiB file that is not a multiple of the read buffer") {
    const uint64_t size = (5ull << 20) + 12345;
    WriteRandomFile(dir / "big", size, 42);
    const std::string bytes = ReadFile(dir / "big");
    REQUIRE(bytes.size() == size);
    auto h = HashFile(dir / "big");
    REQUIRE(h.ok());
    CHECK(h->size == size);
    CHECK(h->digest == Digest::Of(bytes));
  }
  SECTION("exactly one read buffer") {
    WriteRandomFile(dir / "mib", 1 << 20, 3);
    auto h = HashFile(dir / "mib");
    REQUIRE(h.ok());
    CHECK(h->size == (1u << 20));
    CHECK(h->digest == Digest::Of(ReadFile(dir / "mib")));
  }
  SECTION("missing file is NotFound") {
    auto h = HashFile(dir / "missing");
    REQUIRE_FALSE(h.ok());
    CHECK(h.status().code() == StatusCode::kNotFound);
    CHECK_THAT(h.status().message(), Catch::Contains("missing"));
  }
}

TEST_CASE("SampleFd: equal files sample equal, and a changed sampled block or size changes it", "[core][digest]") {
  TempDir dir;
  const uint64_t size = (10ull << 20) + 7;
  WriteRandomFile(dir / "a", size, 5);
  std::string bytes = ReadFile(dir / "a");
  auto sample = [&](const std::string& name, uint64_t n) {
    UniqueFd fd(::open((dir / name).c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd.valid());
    return SampleFd(fd.get(), n, name);
  };
  WriteFile(dir / "b", bytes);
  const Digest a = *sample("a", size);
  CHECK(*sample("b", size) == a);
  // Blocks of 4 KiB at i * (size - 4096) / 15: the first, one in the middle, the last.
  const uint64_t step = (size - 4096) / 15;
  for (uint64_t off : {uint64_t{0}, 7 * (size - 4096) / 15 + 100, size - 1}) {
    std::string changed = bytes;
    changed[off] ^= 1;
    WriteFile(dir / "c", changed);
    CHECK(*sample("c", size) != a);
  }
  std::string between = bytes;  // not a sampled byte: the sample cannot tell
  between[step / 2] ^= 1;
  WriteFile(dir / "c", between);
  CHECK(*sample("c", size) == a);
  // The size is part of it: 1 and 2 MiB of zeros have the same blocks.
  WriteFile(dir / "z1", std::string(1 << 20, '\0'));
  WriteFile(dir / "z2", std::string(2 << 20, '\0'));
  CHECK(*sample("z1", 1 << 20) != *sample("z2", 2 << 20));
  WriteFile(dir / "small", bytes.substr(0, 64 << 10));
  // A small file is sampled whole.
  std::string small = bytes.substr(0, 64 << 10);
  small[40000] ^= 1;
  WriteFile(dir / "small2", small);
  CHECK(*sample("small2", 64 << 10) != *sample("small", 64 << 10));
  // A file shorter than it is said to be is an error, not a sample.
  auto short_file = sample("small", 65 << 10);
  CHECK(!short_file.ok());
}

}  // namespace
}  // namespace modelreg
