// Unit tests for registry/blob/blob_store.h on a real directory: layout,
// upload sessions (offsets, concurrency, restart), batches, and that no
// unverified byte ever becomes visible.
#include "blob/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::unique_ptr<BlobStore> OpenStore(const std::string& root) {
  auto s = BlobStore::Open(root);
  REQUIRE(s.ok());
  return std::move(s).value();
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::string ReadBlob(const BlobStore& store, const Digest& d) {
  uint64_t size = 0;
  auto fd = store.OpenBlob(d, &size);
  REQUIRE(fd.ok());
  std::string bytes = ReadAll(fd->get());
  CHECK(bytes.size() == size);
  return bytes;
}

std::string Pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

// Appends `data` at `offset` in chunks of `chunk` bytes.
Status AppendAll(BlobStore& store, const std::string& id, uint64_t offset, const std::string& data,
                 size_t chunk = 1 << 16) {
  auto a = store.Append(id, offset);
  if (!a.ok()) return a.status();
  for (size_t i = 0; i < data.size(); i += chunk)
    MR_RETURN_IF_ERROR((*a)->Write(data.data() + i, std::min(chunk, data.size() - i)));
  MR_RETURN_IF_ERROR((*a)->Close());
  if ((*a)->offset() != offset + data.size()) return Status::Internal("offset not advanced");
  return Status::OK();
}

TEST_CASE("PutBytes, Stat and OpenBlob use the content-addressed layout", "[blob]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const std::string bytes = "{\"schemaVersion\":2}";
  const Digest d = Digest::Of(bytes);

  CHECK_FALSE(store->Stat(d).has_value());
  CHECK(store->OpenBlob(d, nullptr).status().code() == StatusCode::kNotFound);
  REQUIRE(store->PutBytes(d, bytes).ok());

  const std::string expected_path = t.path() + "/blobs/sha256/" + d.hex().substr(0, 2) + "/" + d.hex();
  CHECK(store->BlobPath(d) == expected_path);
  CHECK(ReadFile(expected_path) == bytes);
  REQUIRE(store->Stat(d).has_value());
  CHECK(*store->Stat(d) == bytes.size());
  CHECK(ReadBlob(*store, d) == bytes);
  struct stat sb;
  REQUIRE(::stat(expected_path.c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0222) == 0);  // committed blobs are read-only

  // Idempotent, and no temp files are left behind.
  CHECK(store->PutBytes(d, bytes).ok());
  CHECK(store->ListUploadFiles().empty());

  // Empty blob.
  REQUIRE(store->PutBytes(Digest::Of(""), "").ok());
  CHECK(store->Stat(Digest::Of("")) == std::optional<uint64_t>(0));
}

TEST_CASE("PutBytes refuses bytes that do not match the digest", "[blob]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const Digest claimed = Digest::Of("expected");
  Status st = store->PutBytes(claimed, "something else");
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(store->Stat(claimed).has_value());
  CHECK_FALSE(store->Stat(Digest::Of("something else")).has_value());
  CHECK(store->ListBlobs().empty());
  CHECK(store->ListUploadFiles().empty());
}

TEST_CASE("RemoveUploadFilesExcept deletes crash leftovers and keeps known sessions", "[blob][upload]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const std::string kept = RandomHex(16), orphan = RandomHex(16);
  REQUIRE(store->CreateUpload(kept).ok());
  REQUIRE(store->CreateUpload(orphan).ok());
  {  // a stray file whose name is no upload id
    UniqueFd fd(::open((t.path() + "/uploads/not-an-id").c_str(), O_CREAT | O_WRONLY, 0600));
    REQUIRE(fd.valid());
  }
  CHECK(store->RemoveUploadFilesExcept({kept, RandomHex(16)}) == 2);
  CHECK(store->ListUploadFiles() == std::vector<std::string>{kept});
  CHECK(store->RemoveUploadFilesExcept({kept}) == 0);
}

TEST_CASE("Upload session: append in order, commit makes the blob visible", "[blob][upload]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const std::string id = RandomHex(16);
  REQUIRE(store->CreateUpload(id).ok());
  CHECK(store->CreateUpload(id).code() != StatusCode::kOk);  // ids are not reused
  CHECK(store->UploadSize(id).value() == 0);

  REQUIRE(AppendAll(*store, id, 0, "hello ").ok());
  CHECK(store->UploadSize(id).value() == 6);

  // A chunk at the wrong offset is refused and changes nothing.
  for (uint64_t bad : {uint64_t{0}, uint64_t{5}, uint64_t{7}, uint64_t{1000}}) {
    auto a = store->Append(id, bad);
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().code() == StatusCode::kOutOfRange);
  }
  CHECK(store->UploadSize(id).value() == 6);

  REQUIRE(AppendAll(*store, id, 6, "world").ok());
  const Digest d = Digest::Of("hello world");
  CHECK_FALSE(store->Stat(d).has_value());  // not visible before commit

  auto fd = store->CommitUpload(id, d);
  REQUIRE(fd.ok());
  CHECK(fd->digest == d);
  CHECK(fd->size == 11);
  CHECK(ReadBlob(*store, d) == "hello world");
  CHECK(store->UploadSize(id).status().code() == StatusCode::kNotFound);
  CHECK(store->ListUploadFiles().empty());
  CHECK(store->Append(id, 11).status().code() == StatusCode::kNotFound);
  CHECK(store->CommitUpload(id, d).status().code() == StatusCode::kNotFound);
}

TEST_CASE("Upload session: multi-MiB upload in uneven chunks", "[blob][upload]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const std::string data = Pattern((3u << 20) + 4321, 1);
  const std::string id = RandomHex(16);
  REQUIRE(store->CreateUpload(id).ok());
  const size_t split = (2u << 20) + 17;
  REQUIRE(AppendAll(*store, id, 0, data.substr(0, split), 100003).ok());
  REQUIRE(AppendAll(*store, id, split, data.substr(split), 7777).ok());
  auto fd = store->CommitUpload(id, Digest::Of(data));
  REQUIRE(fd.ok());
  CHECK(fd->size == data.size());
  CHECK(ReadBlob(*store, Digest::Of(data)) == data);
}

TEST_CASE("Upload session: a second concurrent appender is Aborted", "[blob][upload]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const std::string id = RandomHex(16);
  REQUIRE(store->CreateUpload(id).ok());
  auto first = store->Append(id, 0);
  REQUIRE(first.ok());
  REQUIRE((*first)->Write("abc", 3).ok());

  StatusCode append_code = StatusCode::kOk, commit_code = StatusCode::kOk;
  std::thread other([&] {
    append_code = store->Append(id, 0).status().code();
    commit_code = store->CommitUpload(id, Digest::Of("abc")).status().code();
  });
  other.join();
  CHECK(append_code == StatusCode::kAborted);
  CHECK(commit_code == StatusCode::kAborted);

  REQUIRE((*first)->Close().ok());
  CHECK((*first)->offset() == 3);
  CHECK((*first)->Write("x", 1).code() == StatusCode::kFailedPrecondition);
  // Once the first appender is closed the session is free again.
  REQUIRE(AppendAll(*store, id, 3, "def").ok());
  REQUIRE(store->CommitUpload(id, Digest::Of("abcdef")).ok());
}

TEST_CASE("Upload session: a wrong digest discards the upload", "[blob][upload]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const std::string id = RandomHex(16);
  REQUIRE(store->CreateUpload(id).ok());
  REQUIRE(AppendAll(*store, id, 0, "actual bytes").ok());
  const Digest claimed = Digest::Of("claimed bytes");
  auto r = store->CommitUpload(id, claimed);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(r.status().message(), Catch::Contains("mismatch"));
  CHECK_FALSE(store->Stat(claimed).has_value());
  CHECK_FALSE(store->Stat(Digest::Of("actual bytes")).has_value());
  CHECK(store->ListBlobs().empty());
  CHECK(store->UploadSize(id).status().code() == StatusCode::kNotFound);
  CHECK(store->ListUploadFiles().empty());
}

TEST_CASE("Upload session: commit after a restart re-hashes the bytes", "[blob][upload]") {
  TempDir t;
  const std::string id = RandomHex(16);
  const std::string part1 = Pattern(1500000, 2), part2 = Pattern(600000, 3);
  auto before = OpenStore(t.path());
  REQUIRE(before->CreateUpload(id).ok());
  REQUIRE(AppendAll(*before, id, 0, part1).ok());

  SECTION("commit right away on the new store") {
    auto after = OpenStore(t.path());  // no in-memory hash state
    CHECK(after->UploadSize(id).value() == part1.size());
    auto r = after->CommitUpload(id, Digest::Of(part1));
    REQUIRE(r.ok());
    CHECK(r->size == part1.size());
    CHECK(ReadBlob(*after, Digest::Of(part1)) == part1);
    CHECK(after->ListUploadFiles().empty());
  }
  SECTION("resume appending on the new store, then commit") {
    auto after = OpenStore(t.path());
    REQUIRE(AppendAll(*after, id, part1.size(), part2).ok());
    REQUIRE(after->CommitUpload(id, Digest::Of(part1 + part2)).ok());
    CHECK(ReadBlob(*after, Digest::Of(part1 + part2)) == part1 + part2);
  }
  SECTION("the old store's running hash is stale after another store appended") {
    auto after = OpenStore(t.path());
    REQUIRE(AppendAll(*after, id, part1.size(), part2).ok());
    auto r = before->CommitUpload(id, Digest::Of(part1 + part2));
    REQUIRE(r.ok());
    CHECK(r->size == part1.size() + part2.size());
  }
  SECTION("a wrong digest is still detected after the restart") {
    auto after = OpenStore(t.path());
    CHECK(after->CommitUpload(id, Digest::Of(part2)).status().code() == StatusCode::kInvalidArgument);
    CHECK(after->ListBlobs().empty());
    CHECK(after->ListUploadFiles().empty());
  }
}

TEST_CASE("Upload session: committing bytes already stored keeps one blob", "[blob][upload]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const Digest d = Digest::Of("dup");
  REQUIRE(store->PutBytes(d, "dup").ok());
  const std::string id = RandomHex(16);
  REQUIRE(store->CreateUpload(id).ok());
  REQUIRE(AppendAll(*store, id, 0, "dup").ok());
  REQUIRE(store->CommitUpload(id, d).ok());
  CHECK(store->ListBlobs() == std::vector<Digest>{d});
  CHECK(store->ListUploadFiles().empty());
  CHECK(ReadBlob(*store, d) == "dup");
}

TEST_CASE("Upload ids must be 32 lowercase hex characters", "[blob][upload]") {
  TempDir t;
  auto store = OpenStore(t.path());
  for (const std::string id :
       {"", "../../etc/passwd", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0", "0123456789abcdef/123456789abcdef", "put-0123456789abcdef0123456789"}) {
    INFO(id);
    CHECK_FALSE(IsValidUploadId(id));
    CHECK(store->CreateUpload(id).code() == StatusCode::kInvalidArgument);
    CHECK(store->Append(id, 0).status().code() == StatusCode::kInvalidArgument);
    CHECK(store->UploadSize(id).status().code() == StatusCode::kInvalidArgument);
    CHECK(store->CommitUpload(id, Digest::Of("")).status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(IsValidUploadId(RandomHex(16)));
  CHECK(store->ListUploadFiles().empty());
}

TEST_CASE("BlobBatch commits several blobs together", "[blob][batch]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const std::vector<std::string> contents = {"one", "two", "", Pattern((1u << 20) + 500, 4)};
  {
    auto batch = store->NewBatch();
    for (const auto& c : contents) {
      REQUIRE(batch->Begin(Digest::Of(c), c.size()).ok());
      for (size_t i = 0; i < c.size(); i += 4096)
        REQUIRE(batch->Write(c.data() + i, std::min<size_t>(4096, c.size() - i)).ok());
      REQUIRE(batch->End().ok());
    }
    for (const auto& c : contents) CHECK_FALSE(store->Stat(Digest::Of(c)).has_value());
    auto n = batch->Commit();
    REQUIRE(n.ok());
    CHECK(*n == contents.size());
  }
  for (const auto& c : contents) CHECK(ReadBlob(*store, Digest::Of(c)) == c);
  CHECK(store->ListUploadFiles().empty());

  // A second batch holding a known blob stores only the new one.
  auto again = store->NewBatch();
  REQUIRE(again->Begin(Digest::Of("one"), 3).ok());
  REQUIRE(again->Write("one", 3).ok());
  REQUIRE(again->End().ok());
  REQUIRE(again->Begin(Digest::Of("four"), 4).ok());
  REQUIRE(again->Write("four", 4).ok());
  REQUIRE(again->End().ok());
  CHECK(again->Commit().value() == 1);
  CHECK(store->ListBlobs().size() == contents.size() + 1);
  CHECK(store->ListUploadFiles().empty());
}

TEST_CASE("BlobBatch refuses bad blobs at End and leaves nothing visible", "[blob][batch]") {
  TempDir t;
  auto store = OpenStore(t.path());
  auto batch = store->NewBatch();

  REQUIRE(batch->Begin(Digest::Of("abc"), 3).ok());
  REQUIRE(batch->Write("abd", 3).ok());
  Status mismatch = batch->End();
  CHECK(mismatch.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(mismatch.message(), Catch::Contains("mismatch"));

  REQUIRE(batch->Begin(Digest::Of("hello"), 5).ok());
  REQUIRE(batch->Write("hel", 3).ok());
  Status truncated = batch->End();
  CHECK(truncated.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(truncated.message(), Catch::Contains("truncated"));

  REQUIRE(batch->Begin(Digest::Of("hi"), 2).ok());
  CHECK(batch->Write("hi!", 3).code() == StatusCode::kInvalidArgument);  // longer than stated
  CHECK(batch->End().code() == StatusCode::kInvalidArgument);

  REQUIRE(batch->Begin(Digest::Of("good"), 4).ok());
  REQUIRE(batch->Write("good", 4).ok());
  REQUIRE(batch->End().ok());
  CHECK(batch->Commit().value() == 1);

  CHECK(store->ListBlobs() == std::vector<Digest>{Digest::Of("good")});
  for (const char* s : {"abc", "abd", "hello", "hel", "hi", "hi!"}) CHECK_FALSE(store->Stat(Digest::Of(s)).has_value());
  CHECK(store->ListUploadFiles().empty());
}

TEST_CASE("BlobBatch misuse is FailedPrecondition", "[blob][batch]") {
  TempDir t;
  auto store = OpenStore(t.path());
  auto batch = store->NewBatch();
  CHECK(batch->Write("x", 1).code() == StatusCode::kFailedPrecondition);
  CHECK(batch->End().code() == StatusCode::kFailedPrecondition);
  REQUIRE(batch->Begin(Digest::Of("x"), 1).ok());
  CHECK(batch->Begin(Digest::Of("y"), 1).code() == StatusCode::kFailedPrecondition);
  CHECK(batch->Commit().status().code() == StatusCode::kFailedPrecondition);
  CHECK(store->NewBatch()->Commit().value() == 0);  // an empty batch is fine
}

TEST_CASE("Destroying an uncommitted batch leaves no files", "[blob][batch]") {
  TempDir t;
  auto store = OpenStore(t.path());
  {
    auto batch = store->NewBatch();
    REQUIRE(batch->Begin(Digest::Of("done"), 4).ok());
    REQUIRE(batch->Write("done", 4).ok());
    REQUIRE(batch->End().ok());
    REQUIRE(batch->Begin(Digest::Of("half"), 4).ok());
    REQUIRE(batch->Write("ha", 2).ok());
    CHECK(store->ListUploadFiles().size() == 2);  // temp files exist while open
  }
  CHECK(store->ListUploadFiles().empty());
  CHECK(store->ListBlobs().empty());
  CHECK_FALSE(store->Stat(Digest::Of("done")).has_value());
}

TEST_CASE("ListBlobs lists every committed blob, sorted", "[blob]") {
  TempDir t;
  auto store = OpenStore(t.path());
  CHECK(store->ListBlobs().empty());
  std::vector<Digest> want;
  for (int i = 0; i < 20; ++i) {
    const std::string c = "blob-" + std::to_string(i);
    REQUIRE(store->PutBytes(Digest::Of(c), c).ok());
    want.push_back(Digest::Of(c));
  }
  std::sort(want.begin(), want.end());
  // Stray files that are not digests are not blobs.
  WriteFile(t.path() + "/blobs/sha256/" + want[0].shard() + "/not-a-digest", "junk");
  WriteFile(t.path() + "/blobs/sha256/" + want[0].shard() + "/" + want[0].hex() + ".tmp", "junk");
  CHECK(store->ListBlobs() == want);

  // A reopened store sees the same blobs.
  auto reopened = OpenStore(t.path());
  CHECK(reopened->ListBlobs() == want);
}

TEST_CASE("Quarantine moves a corrupt blob aside, but not one replaced since it was checked", "[blob]") {
  TempDir t;
  auto store = OpenStore(t.path());
  const std::string good = "the blob's bytes";
  const Digest d = Digest::Of(good);
  REQUIRE(store->PutBytes(d, good).ok());
  const std::string path = store->BlobPath(d);
  auto rot = [&](const std::string& bytes) {
    ::chmod(path.c_str(), 0644);
    WriteFile(path, bytes);
  };
  auto stat_of = [&] {
    struct stat sb {};
    REQUIRE(::stat(path.c_str(), &sb) == 0);
    return sb;
  };

  SECTION("unchanged since checked: moved, the store no longer claims it, a good copy can come back") {
    rot("the blob's bytez");
    auto moved = store->Quarantine(d, stat_of());
    REQUIRE(moved.ok());
    CHECK(*moved == t.path() + "/quarantine/sha256/" + d.hex());
    CHECK(ReadFile(*moved) == "the blob's bytez");
    CHECK_FALSE(store->Stat(d).has_value());
    CHECK(store->ListBlobs().empty());
    REQUIRE(store->PutBytes(d, good).ok());
    CHECK(ReadBlob(*store, d) == good);
    // A second quarantine of the same digest keeps the first piece of evidence.
    rot("rotten again");
    auto second = store->Quarantine(d, stat_of());
    REQUIRE(second.ok());
    CHECK(*second == t.path() + "/quarantine/sha256/" + d.hex() + ".1");
    CHECK(ReadFile(*moved) == "the blob's bytez");
  }
  SECTION("replaced by a good copy between the check and the move: left in place") {
    rot("the blob's bytez");
    const struct stat seen = stat_of();
    // A register uploads the bytes again meanwhile: a new file is renamed over the old one.
    // (The old one stays open so that its inode number cannot be reused.)
    const int old_fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(old_fd >= 0);
    ::unlink(path.c_str());
    REQUIRE(store->PutBytes(d, good).ok());
    ::close(old_fd);
    auto moved = store->Quarantine(d, seen);
    CHECK(moved.status().code() == StatusCode::kFailedPrecondition);
    CHECK(moved.status().message().find("changed while it was checked") != std::string::npos);
    CHECK(ReadBlob(*store, d) == good);
    CHECK_FALSE(::access((t.path() + "/quarantine/sha256/" + d.hex()).c_str(), F_OK) == 0);
  }
  SECTION("rewritten in place after the check (same inode, new size): left in place") {
    rot("the blob's bytez");
    const struct stat seen = stat_of();
    rot("the blob's bytes, longer");
    CHECK(store->Quarantine(d, seen).status().code() == StatusCode::kFailedPrecondition);
    CHECK(store->Stat(d).has_value());
  }
  SECTION("already gone: an error naming the file") {
    const struct stat seen = stat_of();
    ::unlink(path.c_str());
    auto moved = store->Quarantine(d, seen);
    CHECK_FALSE(moved.ok());
    CHECK(moved.status().message().find(path) != std::string::npos);
  }
}

}  // namespace
}  // namespace modelreg
