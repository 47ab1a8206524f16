// Unit tests for registry/core/bundle_dir.h: reading a bundle directory from
// a real filesystem, refusing anything but regular files and directories.
#include "core/bundle_dir.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace modelreg {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;
using testing::WriteRandomFile;

std::vector<std::string> PathsOf(const std::vector<LocalFile>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.path);
  return out;
}

void ExpectRefused(const std::string& dir, const std::string& what) {
  auto r = ScanBundleDir(dir);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(r.status().message(), Catch::Contains(what));
}

TEST_CASE("ScanBundleDir lists files sorted by byte order with digests and sizes", "[core][bundle_dir]") {
  TempDir t;
  const std::string root = t / "bundle";
  WriteFile(root + "/b.txt", "bee");
  WriteFile(root + "/a/x.bin", "x-content");
  WriteFile(root + "/a/y/z", "");
  WriteFile(root + "/a-b", "dash");
  WriteFile(root + "/a.txt", "dot");
  WriteFile(root + "/C", "upper");
  WriteFile(root + "/\xc3\xa4.txt", "umlaut");
  WriteRandomFile(root + "/weights/big.bin", (2u << 20) + 3, 9);
  fs::create_directories(root + "/empty/dir");  // directories without files add nothing

  auto r = ScanBundleDir(root);
  REQUIRE(r.ok());
  // Byte order over whole paths, not per directory: '-' < '.' < '/'.
  CHECK(PathsOf(*r) ==
        std::vector<std::string>{"C", "a-b", "a.txt", "a/x.bin", "a/y/z", "b.txt", "weights/big.bin", "\xc3\xa4.txt"});
  for (const auto& f : *r) {
    INFO(f.path);
    CHECK(f.local == root + "/" + f.path);
    const std::string bytes = ReadFile(f.local);
    CHECK(f.size == bytes.size());
    CHECK(f.digest == Digest::Of(bytes));
  }
  CHECK(r->at(4).size == 0);
  CHECK(r->at(4).digest == Digest::Of(""));
  CHECK(r->at(6).size == (2u << 20) + 3);

  std::vector<BundleFile> bf = ToBundleFiles(*r);
  REQUIRE(bf.size() == r->size());
  CHECK(bf[3].path == "a/x.bin");
  CHECK(bf[3].digest == Digest::Of("x-content"));
  CHECK(bf[3].size == 9);
}

TEST_CASE("ScanBundleDir of an empty directory gives no files", "[core][bundle_dir]") {
  TempDir t;
  auto r = ScanBundleDir(t.path());
  REQUIRE(r.ok());
  CHECK(r->empty());
}

TEST_CASE("ScanBundleDir refuses symlinks", "[core][bundle_dir]") {
  TempDir t;
  WriteFile(t / "b/real.txt", "data");
  SECTION("to a file inside") {
    REQUIRE(::symlink("real.txt", (t / "b/link.txt").c_str()) == 0);
    ExpectRefused(t / "b", "symlink");
  }
  SECTION("to a directory outside") {
    WriteFile(t / "outside/secret", "s");
    REQUIRE(::symlink((t / "outside").c_str(), (t / "b/dir").c_str()) == 0);
    ExpectRefused(t / "b", "symlink");
  }
  SECTION("dangling") {
    fs::create_directories(t / "b/sub");
    REQUIRE(::symlink("/nonexistent/target", (t / "b/sub/dangling").c_str()) == 0);
    ExpectRefused(t / "b", "symlink");
  }
}

TEST_CASE("ScanBundleDir refuses hardlinks", "[core][bundle_dir]") {
  TempDir t;
  WriteFile(t / "b/one", "same inode");
  REQUIRE(::link((t / "b/one").c_str(), (t / "b/two").c_str()) == 0);
  ExpectRefused(t / "b", "hardlink");

  // A second link outside the bundle counts as well.
  TempDir u;
  WriteFile(u / "b/model.bin", "w");
  REQUIRE(::link((u / "b/model.bin").c_str(), (u / "elsewhere").c_str()) == 0);
  ExpectRefused(u / "b", "hardlink");
  REQUIRE(::unlink((u / "elsewhere").c_str()) == 0);
  CHECK(ScanBundleDir(u / "b").ok());
}

TEST_CASE("ScanBundleDir refuses FIFOs and sockets without blocking", "[core][bundle_dir]") {
  TempDir t;
  WriteFile(t / "b/ok.txt", "ok");
  SECTION("FIFO") {
    REQUIRE(::mkfifo((t / "b/pipe").c_str(), 0644) == 0);
    ExpectRefused(t / "b", "not a regular file");
  }
  SECTION("unix socket") {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = t / "b/sock";
    REQUIRE(p.size() < sizeof(addr.sun_path));
    std::strcpy(addr.sun_path, p.c_str());
    int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::close(fd);
    REQUIRE(rc == 0);
    ExpectRefused(t / "b", "not a regular file");
  }
}

TEST_CASE("ScanBundleDir refuses names that break the bundle rules", "[core][bundle_dir]") {
  TempDir t;
  SECTION("case collision on disk") {
    WriteFile(t / "b/A", "upper");
    WriteFile(t / "b/a", "lower");
    ExpectRefused(t / "b", "case");
  }
  SECTION("case collision between a file and a directory") {
    WriteFile(t / "b/Model", "file");
    WriteFile(t / "b/model/weights", "dir");
    auto r = ScanBundleDir(t / "b");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("backslash in a file name") {
    WriteFile(t / "b/a\\b", "x");
    ExpectRefused(t / "b", "backslash");
  }
  SECTION("control character in a directory name") {
    WriteFile(t / "b/d\x01r/f", "x");
    ExpectRefused(t / "b", "control character");
  }
  SECTION("invalid UTF-8") {
    WriteFile(t / "b/\xff.bin", "x");
    ExpectRefused(t / "b", "UTF-8");
  }
}

TEST_CASE("ScanBundleDir enforces limits and reports missing directories", "[core][bundle_dir]") {
  TempDir t;
  for (int i = 0; i < 5; ++i) WriteFile(t / ("b/f" + std::to_string(i)), "x");
  BundleLimits limits;
  limits.max_files = 5;
  CHECK(ScanBundleDir(t / "b", limits).ok());
  limits.max_files = 4;
  CHECK(ScanBundleDir(t / "b", limits).status().code() == StatusCode::kResourceExhausted);

  CHECK(ScanBundleDir(t / "missing").status().code() == StatusCode::kNotFound);
  CHECK(ScanBundleDir(t / "b/f0").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("DigestDataPath of a file is the sha256 of its bytes", "[core][bundle_dir]") {
  TempDir t;
  WriteFile(t / "train.csv", "a,b\n1,2\n");
  auto d = DigestDataPath(t / "train.csv");
  REQUIRE(d.ok());
  CHECK(*d == Digest::Of("a,b\n1,2\n"));

  WriteFile(t / "empty.csv", "");
  auto e = DigestDataPath(t / "empty.csv");
  REQUIRE(e.ok());
  CHECK(e->str() == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(DigestDataPath(t / "missing.csv").status().code() == StatusCode::kNotFound);
}

TEST_CASE("DigestDataPath of a directory is stable and content-sensitive", "[core][bundle_dir]") {
  TempDir t;
  const std::string ds = t / "ds";
  WriteFile(ds + "/part-0000.csv", "id,label\n1,0\n");
  WriteFile(ds + "/part-0001.csv", "id,label\n2,1\n");
  WriteFile(ds + "/meta/schema.json", "{\"id\":\"int\"}");

  auto first = DigestDataPath(ds);
  REQUIRE(first.ok());
  auto second = DigestDataPath(ds);
  REQUIRE(second.ok());
  CHECK(*first == *second);

  // It is the digest of the dataset manifest over the same files.
  auto files = ScanBundleDir(ds);
  REQUIRE(files.ok());
  CHECK(*first == Digest::Of(SerializeManifest(
                      BuildManifest(kDatasetArtifactType, EmptyConfigDescriptor(), ToBundleFiles(*files)))));
  // A directory is not hashed like a file of the same bytes.
  CHECK(*first != Digest::Of(""));

  // The same tree somewhere else has the same digest: the root path is not hashed.
  fs::copy(ds, t / "copy", fs::copy_options::recursive);
  auto copy = DigestDataPath(t / "copy");
  REQUIRE(copy.ok());
  CHECK(*copy == *first);

  SECTION("one changed byte, same size") {
    WriteFile(ds + "/part-0001.csv", "id,label\n2,0\n");
    auto changed = DigestDataPath(ds);
    REQUIRE(changed.ok());
    CHECK(*changed != *first);
  }
  SECTION("a renamed file") {
    fs::rename(ds + "/part-0001.csv", ds + "/part-0002.csv");
    auto changed = DigestDataPath(ds);
    REQUIRE(changed.ok());
    CHECK(*changed != *first);
  }
  SECTION("an added empty file") {
    WriteFile(ds + "/_SUCCESS", "");
    auto changed = DigestDataPath(ds);
    REQUIRE(changed.ok());
    CHECK(*changed != *first);
  }
  SECTION("a symlink inside is refused") {
    REQUIRE(::symlink("part-0000.csv", (ds + "/link.csv").c_str()) == 0);
    CHECK(DigestDataPath(ds).status().code() == StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace modelreg
