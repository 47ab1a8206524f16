// Unit tests of the agent's disk layout (agent/local_store.h) on real files.
#include "local_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "support/temp_dir.h"

namespace modelreg::agent {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

Descriptor Layer(const std::string& title, const std::string& content) {
  return Descriptor{"application/octet-stream", Digest::Of(content), content.size(), title};
}

// A manifest of `layers` (the config is not used by the store).
Manifest Of(std::vector<Descriptor> layers) {
  return Manifest{"", Descriptor{"", Digest::Of("{}"), 2, ""}, std::move(layers)};
}

// Puts `content` into the cache as a verified blob would arrive.
void Cache(LocalStore& s, const std::string& content) {
  WriteFile(s.PartialPath(Digest::Of(content)), content);
  REQUIRE(s.CommitBlob(Digest::Of(content)).ok());
}

TEST_CASE("local store: Open lays out ROOT and removes an interrupted materialization") {
  TempDir t;
  WriteFile(t / "root/versions/abc.partial/f", "half");
  fs::permissions(t / "root/versions/abc.partial", fs::perms::owner_read | fs::perms::owner_exec);
  auto s = LocalStore::Open(t / "root");
  REQUIRE(s.ok());
  for (const char* d : {"cache/blobs", "cache/partial", "versions"}) CHECK(fs::is_directory(t / "root/" + d));
  CHECK_FALSE(fs::exists(t / "root/versions/abc.partial"));
  CHECK_FALSE(s->Current().has_value());
}

TEST_CASE("local store: blobs move from partial into the cache read-only - missing bytes count partials once") {
  TempDir t;
  auto s = LocalStore::Open(t / "root");
  REQUIRE(s.ok());
  const Manifest m = Of({Layer("a", "aaaa"), Layer("b", "bbbbbbbb"), Layer("c", "aaaa")});  // a and c: one blob
  CHECK(s->MissingBytes(m) == 12);
  WriteFile(s->PartialPath(Digest::Of("bbbbbbbb")), "bbb");  // 3 bytes of b already here
  CHECK(s->MissingBytes(m) == 9);
  Cache(*s, "aaaa");
  CHECK(s->HasBlob(Digest::Of("aaaa")));
  CHECK_FALSE(fs::exists(s->PartialPath(Digest::Of("aaaa"))));
  CHECK((fs::status(s->BlobPath(Digest::Of("aaaa"))).permissions() & fs::perms::owner_write) == fs::perms::none);
  CHECK(s->MissingBytes(m) == 5);
  CHECK(s->FreeBytes() > 0);
}

TEST_CASE("local store: a failure of its disk is marked as the agent's (AgentDiskFailure)") {
  TempDir t;
  auto s = LocalStore::Open(t / "root");
  REQUIRE(s.ok());
  Status st = s->CommitBlob(Digest::Of("never downloaded"));
  CHECK(st.code() == StatusCode::kFailedPrecondition);
  CHECK(st.message().rfind("the agent's disk: ", 0) == 0);
  CHECK(AgentDiskFailure(Status::FromErrno("write", ENOSPC)).code() == StatusCode::kResourceExhausted);
  CHECK(AgentDiskFailure(Status::DataLoss("x")).code() == StatusCode::kDataLoss);
  CHECK(AgentDiskFailure(Status::OK()).ok());
}

TEST_CASE("local store: Materialize builds a read-only version from the cache, Swap points current at it") {
  TempDir t;
  auto s = LocalStore::Open(t / "root");
  REQUIRE(s.ok());
  Cache(*s, "weights");
  Cache(*s, "config");
  const Manifest m = Of({Layer("cfg/c.json", "config"), Layer("w.bin", "weights")});
  const std::string digest = Digest::Of("manifest 1").str();
  REQUIRE(s->Materialize(digest, 1, m).ok());
  CHECK(s->HasVersion(digest));
  const std::string dir = s->VersionDir(digest);
  CHECK(ReadFile(dir + "/w.bin") == "weights");
  CHECK(ReadFile(dir + "/cfg/c.json") == "config");
  struct stat sb;
  REQUIRE(::stat((dir + "/w.bin").c_str(), &sb) == 0);
  CHECK(sb.st_nlink == 2);  // a hard link of the cache's blob
  CHECK((fs::status(dir + "/cfg").permissions() & fs::perms::owner_write) == fs::perms::none);
  CHECK(s->Materialize(digest, 1, m).ok());  // again: nothing to do
  CHECK_FALSE(s->Current().has_value());
  REQUIRE(s->Swap(digest).ok());
  auto cur = s->Current();
  REQUIRE(cur.has_value());
  CHECK(cur->digest == digest);
  CHECK(cur->version == 1);
  CHECK(ReadFile(t / "root/current/w.bin") == "weights");
  s->ClearCurrent();
  CHECK_FALSE(s->Current().has_value());
  CHECK(s->HasVersion(digest));
}

TEST_CASE("local store: Materialize of a blob not in the cache fails as the agent's disk, leaving no version") {
  TempDir t;
  auto s = LocalStore::Open(t / "root");
  REQUIRE(s.ok());
  const Manifest m = Of({Layer("w.bin", "not cached")});
  const std::string digest = Digest::Of("manifest x").str();
  Status st = s->Materialize(digest, 1, m);
  CHECK(st.code() == StatusCode::kFailedPrecondition);
  CHECK_FALSE(s->HasVersion(digest));
}

TEST_CASE("local store: CollectGarbage keeps the newest versions and current, and blobs only they use") {
  TempDir t;
  auto s = LocalStore::Open(t / "root");
  REQUIRE(s.ok());
  std::vector<std::string> digests;
  for (int v = 1; v <= 4; ++v) {
    const std::string content = "weights " + std::to_string(v);
    Cache(*s, content);
    const Manifest m = Of({Layer("shared.txt", "shared"), Layer("w.bin", content)});
    if (v == 1) Cache(*s, "shared");
    digests.push_back(Digest::Of("manifest " + std::to_string(v)).str());
    REQUIRE(s->Materialize(digests.back(), v, m).ok());
    // Newer at_ms for each (the order GC keeps by).
    const std::string meta = s->VersionDir(digests.back()) + ".json";
    WriteFile(meta, "{\"version\":" + std::to_string(v) + ",\"digest\":\"" + digests.back() +
                        "\",\"at_ms\":" + std::to_string(1000 * v) + "}\n");
  }
  REQUIRE(s->Swap(digests[0]).ok());  // current is the oldest
  s->CollectGarbage(2);
  CHECK(s->HasVersion(digests[0]));  // current
  CHECK_FALSE(s->HasVersion(digests[1]));
  CHECK(s->HasVersion(digests[2]));  // kept: current and the newest one
  CHECK(s->HasVersion(digests[3]));
  CHECK_FALSE(fs::exists(s->VersionDir(digests[1]) + ".json"));
  CHECK(s->HasBlob(Digest::Of("weights 1")));
  CHECK_FALSE(s->HasBlob(Digest::Of("weights 2")));
  CHECK(s->HasBlob(Digest::Of("shared")));
}

TEST_CASE("local store: state round-trips - a missing or garbled state file is a fresh start") {
  TempDir t;
  auto s = LocalStore::Open(t / "root");
  REQUIRE(s.ok());
  auto fresh = s->LoadState();
  REQUIRE(fresh.ok());
  CHECK(fresh->seq == 0);
  AgentState st{7, "sha256:ab", 6, 12345};
  REQUIRE(s->SaveState(st).ok());
  auto back = s->LoadState();
  REQUIRE(back.ok());
  CHECK(back->seq == 7);
  CHECK(back->failed_digest == "sha256:ab");
  CHECK(back->failed_seq == 6);
  CHECK(back->bytes_downloaded == 12345);
  WriteFile(t / "root/state.json", "{not json");
  auto garbled = s->LoadState();
  REQUIRE(garbled.ok());
  CHECK(garbled->seq == 0);
}

}  // namespace
}  // namespace modelreg::agent
