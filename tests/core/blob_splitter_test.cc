// Unit tests for registry/core/blob_splitter.h: a concatenation of blobs
// fed in pieces of every size is cut into the right files; empty blobs,
// digest mismatches, surplus bytes, a stream that breaks off, and a resume
// from a later blob.
#include "core/blob_splitter.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::ReadFile;
using testing::TempDir;

struct Split {
  TempDir dir;
  std::vector<std::string> contents;
  std::vector<SplitBlob> blobs;
  std::vector<size_t> done;  // order in which blobs completed
  std::string stream;        // all contents concatenated

  explicit Split(std::vector<std::string> c) : contents(std::move(c)) {
    for (size_t i = 0; i < contents.size(); ++i) {
      blobs.push_back(SplitBlob{Digest::Of(contents[i]), contents[i].size(), dir / ("f" + std::to_string(i))});
      stream += contents[i];
    }
  }
  BlobSplitter Make(size_t first = 0) {
    return BlobSplitter(
        blobs, first,
        [this](size_t i) -> Result<UniqueFd> {
          UniqueFd fd(::open(blobs[i].name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
          if (!fd.valid()) return Status::FromErrno("create", errno);
          return fd;
        },
        [this](size_t i, int fd) {
          CHECK(fd >= 0);
          done.push_back(i);
          return Status::OK();
        });
  }
};

TEST_CASE("BlobSplitter cuts a stream fed in pieces of any size into checked files", "[core][blob_splitter]") {
  std::string big(300000, 'b');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  for (size_t piece : {size_t{1}, size_t{3}, size_t{4096}, size_t{1} << 20}) {
    Split s({"", "alpha", "", "", big, "omega", ""});
    auto split = s.Make();
    for (size_t at = 0; at < s.stream.size(); at += piece) {
      REQUIRE(split.Feed(s.stream.data() + at, std::min(piece, s.stream.size() - at)).ok());
    }
    REQUIRE(split.End().ok());
    CHECK(split.all_complete());
    CHECK(s.done == std::vector<size_t>{0, 1, 2, 3, 4, 5, 6});
    for (size_t i = 0; i < s.contents.size(); ++i) CHECK(ReadFile(s.blobs[i].name) == s.contents[i]);
  }
}

TEST_CASE("BlobSplitter refuses a blob whose bytes do not match its digest, and stops there", "[core][blob_splitter]") {
  Split s({"one", "two", "three"});
  std::string bad = s.stream;
  bad[4] = 'X';  // inside "two"
  auto split = s.Make();
  Status st = split.Feed(bad.data(), bad.size());
  CHECK(st.code() == StatusCode::kDataLoss);
  CHECK(st.message().find(s.blobs[1].name) != std::string::npos);
  CHECK(st.message().find(s.blobs[1].digest.str()) != std::string::npos);
  CHECK(split.complete() == 1);
  // Final: nothing more is accepted.
  CHECK(split.Feed("three", 5).code() == StatusCode::kDataLoss);
  CHECK(split.complete() == 1);
}

TEST_CASE("BlobSplitter refuses more bytes than the blobs add up to", "[core][blob_splitter]") {
  Split s({"one", ""});
  auto split = s.Make();
  Status st = split.Feed("oneX", 4);
  CHECK(st.code() == StatusCode::kDataLoss);
  CHECK(st.message().find("more bytes") != std::string::npos);
  CHECK(split.complete() == 2);
}

TEST_CASE("BlobSplitter after a stream broke off: complete() counts the checked blobs, a resume goes on",
          "[core][blob_splitter]") {
  Split s({"first", "second", "third"});
  {
    auto split = s.Make();
    REQUIRE(split.Feed(s.stream.data(), 8).ok());  // "first" + "sec"
    CHECK(split.complete() == 1);
    CHECK_FALSE(split.all_complete());
  }
  // Asked again for the rest: the half-written "second" starts over.
  const std::string rest = s.contents[1] + s.contents[2];
  auto again = s.Make(1);
  REQUIRE(again.Feed(rest.data(), rest.size()).ok());
  REQUIRE(again.End().ok());
  CHECK(again.all_complete());
  CHECK(s.done == std::vector<size_t>{0, 1, 2});
  CHECK(ReadFile(s.blobs[1].name) == "second");
  CHECK(ReadFile(s.blobs[2].name) == "third");
}

TEST_CASE("BlobSplitter passes on an error of the file it writes to", "[core][blob_splitter]") {
  Split s({"abc"});
  BlobSplitter split(
      s.blobs, 0, [](size_t) -> Result<UniqueFd> { return UniqueFd(::open("/dev/full", O_WRONLY | O_CLOEXEC)); },
      [](size_t, int) { return Status::OK(); });
  Status st = split.Feed("abc", 3);
  CHECK(st.code() == StatusCode::kUnavailable);  // ENOSPC, as everywhere (core/status.cc)
  CHECK(st.message().find("storage full") != std::string::npos);
  CHECK(split.complete() == 0);
}

TEST_CASE("FetchBatchEnd cuts batches at 10 000 blobs or 64 MiB, at least one blob each", "[core][blob_splitter]") {
  struct Item {
    uint64_t size;
  };
  std::vector<Item> tiny(10001, Item{10});
  CHECK(FetchBatchEnd(tiny, 0) == 10000);
  CHECK(FetchBatchEnd(tiny, 10000) == 10001);
  CHECK(FetchBatchEnd(tiny, 10001) == 10001);      // nothing left
  std::vector<Item> big(20, Item{kFetchBlobMax});  // 4 MiB each
  CHECK(FetchBatchEnd(big, 0) == 16);              // 16 x 4 MiB = 64 MiB
  CHECK(FetchBatchEnd(big, 16) == 20);
  std::vector<Item> huge = {{kFetchMaxBytes + 1}, {1}};
  CHECK(FetchBatchEnd(huge, 0) == 1);  // one too large still goes alone
}

}  // namespace
}  // namespace modelreg
