// Deleting versions, retention and garbage collection against a real server
// (docs/operations.md "Retention and garbage collection").
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "api/api_util.h"
#include "core/file_util.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Bundle k: three of kShared shared files (overlapping with other bundles)
// and one file of its own.
constexpr int kShared = 12;

std::string SharedBytes(int i) { return "shared file " + std::to_string(i) + std::string(2000 + 97 * i, 's'); }

void WriteBundle(const std::string& dir, int k) {
  for (int i : {k % kShared, (k * 5 + 1) % kShared, (k * 7 + 3) % kShared})
    WriteFile(dir + "/shared/s" + std::to_string(i) + ".bin", SharedBytes(i));
  WriteFile(dir + "/own.bin", "own file of bundle " + std::to_string(k) + std::string(1000 + k, 'o'));
}

Policy NoApprovals() {
  Policy p;
  p.approvals_required = 0;
  return p;
}

// Sets the mtime of every blob file under DATA/blobs `seconds` back.
void AgeBlobFiles(const std::string& data_dir, int64_t seconds) {
  const auto when = fs::file_time_type::clock::now() - std::chrono::seconds(seconds);
  for (const auto& e : fs::recursive_directory_iterator(data_dir + "/blobs"))
    if (e.is_regular_file()) fs::last_write_time(e.path(), when);
}

json MustGc(RegistryClient& c, const json& opts) {
  auto r = c.CollectGarbage(opts);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("delete: refused for production, needs a reason and an admin, the version answers 410 and keeps its record") {
  ServerProcess server;
  TempDir t;
  auto admin = Client(server, server.admin_token());
  Http h(server.url(), server.admin_token());
  for (int k = 0; k < 3; ++k) {
    WriteBundle(t / ("b" + std::to_string(k)), k);
    REQUIRE(admin->Register("churn", t / ("b" + std::to_string(k)), Lineage("churn")).ok());
  }
  REQUIRE(admin->SetPolicy("churn", NoApprovals()).ok());
  REQUIRE(admin->Stage("churn", "1", "staging", "", "").ok());
  auto p = admin->Stage("churn", "1", "production", "", "ok");
  INFO(p.status().ToString());
  REQUIRE(p.ok());

  auto prod = admin->DeleteVersion("churn", "1", "space");
  REQUIRE_FALSE(prod.ok());
  CHECK(prod.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(prod.status().message(), Catch::Contains("production"));
  REQUIRE(admin->Stage("churn", "3", "staging", "", "").ok());
  auto staged = admin->DeleteVersion("churn", "3", "space");
  CHECK(staged.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(staged.status().message(), Catch::Contains("in staging"));
  auto no_reason = admin->DeleteVersion("churn", "2", "");
  CHECK(no_reason.status().code() == StatusCode::kInvalidArgument);
  auto trainer = Client(server, server.CreateToken("t1", "trainer"));
  CHECK(trainer->DeleteVersion("churn", "2", "x").status().code() == StatusCode::kPermissionDenied);

  auto del = admin->DeleteVersion("churn", "2", "superseded");
  INFO(del.status().ToString());
  REQUIRE(del.ok());
  CHECK(del->deleted());
  CHECK(del->delete_reason == "superseded");
  // Again: already deleted.
  CHECK(admin->DeleteVersion("churn", "2", "again").status().code() == StatusCode::kFailedPrecondition);

  // Its record stays and says so; its bytes are gone (410).
  auto got = h.Get("/api/v1/models/churn/versions/2");
  REQUIRE(got);
  CHECK(got->status == 200);
  auto j = json::parse(got->body);
  CHECK(j["deleted"]["reason"] == "superseded");
  CHECK(j["deleted"]["by"] == "admin");
  auto manifest = h.Get("/api/v1/models/churn/versions/2/manifest");
  REQUIRE(manifest);
  CHECK(manifest->status == 410);
  CHECK(ErrorCode(manifest) == "GONE");
  CHECK_THAT(ErrorMessage(manifest), Catch::Contains("superseded"));
  auto pulled = admin->Pull("churn", "2", t / "pulled");
  REQUIRE_FALSE(pulled.ok());
  CHECK(pulled.status().code() == StatusCode::kGone);
  // Neither staged again nor approved.
  CHECK(admin->Stage("churn", "2", "staging", "", "").status().code() == StatusCode::kGone);
  // Audited.
  auto audit = admin->AuditEvents({{"model", "churn"}, {"version", "2"}});
  REQUIRE(audit.ok());
  bool seen = false;
  for (const auto& e : (*audit)["events"])
    if (e["action"] == "delete") seen = e["details"]["reason"] == "superseded";
  CHECK(seen);
  // Lineage still answers (the lineage record is kept) after gc.
  MustGc(*admin, {{"grace_seconds", 0}});
  CHECK(admin->LineageOf("churn", "2").ok());
  CHECK(admin->Pull("churn", "1", t / "p1").ok());
  CHECK(admin->Pull("churn", "3", t / "p3").ok());
}

TEST_CASE("gc: a dry run changes nothing, then gc removes only what no remaining version references, metrics") {
  ServerProcess server;
  TempDir t;
  auto admin = Client(server, server.admin_token());
  Http h(server.url(), server.admin_token());
  for (int k = 0; k < 4; ++k) {
    WriteBundle(t / ("b" + std::to_string(k)), k);
    REQUIRE(admin->Register("churn", t / ("b" + std::to_string(k)), Lineage("churn")).ok());
  }
  REQUIRE(admin->DeleteVersion("churn", "1", "test").ok());
  const size_t before = CountBlobFiles(server.data_dir());
  CHECK(MetricValue(h, "modelreg_blobs") == before);
  const uint64_t reclaimable = MetricValue(h, "modelreg_blob_reclaimable_bytes");
  CHECK(reclaimable > 0);

  // Within the default grace period (the upload TTL) nothing goes.
  auto young = MustGc(*admin, {{"dry_run", true}});
  CHECK(young["blobs_removed"] == 0);
  CHECK(young["blobs_young"].get<int>() >= 1);

  auto dry = MustGc(*admin, {{"dry_run", true}, {"grace_seconds", 0}});
  CHECK(dry["dry_run"] == true);
  CHECK(dry["blobs_removed"].get<int>() >= 1);
  CHECK(dry["bytes_removed"].get<uint64_t>() == reclaimable);
  CHECK(CountBlobFiles(server.data_dir()) == before);

  auto done = MustGc(*admin, {{"grace_seconds", 0}});
  CHECK(done["blobs_removed"] == dry["blobs_removed"]);
  CHECK(done["bytes_removed"] == dry["bytes_removed"]);
  CHECK(CountBlobFiles(server.data_dir()) == before - done["blobs_removed"].get<size_t>());
  CHECK(MetricValue(h, "modelreg_blob_reclaimable_bytes") == 0);
  for (int v = 2; v <= 4; ++v) {
    auto p = admin->Pull("churn", std::to_string(v), t / ("p" + std::to_string(v)));
    INFO(p.status().ToString());
    CHECK(p.ok());
  }
  // A trainer may not run it.
  auto trainer = Client(server, server.CreateToken("t1", "trainer"));
  CHECK(trainer->CollectGarbage({{"dry_run", true}}).status().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("retention: archived beyond the newest N and old rejected versions are deleted by gc, production never") {
  ServerProcess server;
  TempDir t;
  auto admin = Client(server, server.admin_token());
  for (int k = 0; k < 6; ++k) {
    WriteBundle(t / ("b" + std::to_string(k)), k);
    REQUIRE(admin->Register("churn", t / ("b" + std::to_string(k)), Lineage("churn")).ok());
  }
  REQUIRE(admin->SetPolicy("churn", NoApprovals()).ok());
  for (int v : {1, 2, 3, 4}) REQUIRE(admin->Archive("churn", std::to_string(v), "old").ok());
  REQUIRE(admin->Reject("churn", "5", "bad").ok());
  REQUIRE(admin->Stage("churn", "6", "staging", "", "").ok());
  REQUIRE(admin->Stage("churn", "6", "production", "", "").ok());

  auto bad = admin->SetRetention("churn", {{"keep_archived", -1}});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  auto set = admin->SetRetention("churn", {{"keep_archived", 2}, {"keep_rejected_days", 0}});
  INFO(set.status().ToString());
  REQUIRE(set.ok());
  auto shown = admin->Retention("churn");
  REQUIRE(shown.ok());
  CHECK((*shown)["keep_archived"] == 2);
  CHECK((*shown)["keep_rejected_days"] == 0);
  CHECK((*shown)["updated_by"] == "admin");

  auto dry = MustGc(*admin, {{"dry_run", true}});
  CHECK(dry["deleted_by_retention"].size() == 3);
  auto v1 = admin->Version("churn", "1");
  REQUIRE(v1.ok());
  CHECK_FALSE(v1->record.deleted());  // a dry run deletes nothing

  auto done = MustGc(*admin, json::object());
  std::set<int64_t> deleted;
  for (const auto& v : done["deleted_by_retention"]) deleted.insert(v["version"].get<int64_t>());
  CHECK(deleted == std::set<int64_t>{1, 2, 5});
  for (int v : {1, 2, 5}) {
    auto r = admin->Version("churn", std::to_string(v));
    REQUIRE(r.ok());
    CHECK(r->record.deleted());
    CHECK(r->record.deleted_by == "retention");
    CHECK_THAT(r->record.delete_reason, Catch::StartsWith("retention: "));
  }
  for (int v : {3, 4, 6}) {
    auto r = admin->Version("churn", std::to_string(v));
    REQUIRE(r.ok());
    CHECK_FALSE(r->record.deleted());
  }
  // A second run has nothing more to delete.
  CHECK(MustGc(*admin, json::object())["deleted_by_retention"].empty());
}

namespace {

// 100 registrations of overlapping bundles by 4 clients while gc runs over
// and over with `grace_s`. `all_succeed`: every registration must succeed;
// else one may be refused "not uploaded" (gc removed a blob it had just
// uploaded: grace 0 protects nothing not yet referenced), never anything
// else. Either way every version registered pulls and fsck is clean.
void RaceGcAgainstRegistrations(int grace_s, bool all_succeed) {
  ServerProcess server;
  TempDir t;
  auto admin = Client(server, server.admin_token());
  // Seed versions, deleted: their shared files are referenced by nothing
  // live when the race starts, and the racing bundles want them again.
  for (int k = 0; k < 6; ++k) {
    WriteBundle(t / ("seed" + std::to_string(k)), 1000 + k);
    REQUIRE(admin->Register("seed", t / ("seed" + std::to_string(k)), Lineage("seed")).ok());
    REQUIRE(admin->DeleteVersion("seed", std::to_string(k + 1), "race").ok());
  }
  constexpr int kBundles = 100, kThreads = 4;
  for (int k = 0; k < kBundles; ++k) WriteBundle(t / ("b" + std::to_string(k)), k);
  // Every stored blob an hour old: past the grace period, so the seeds'
  // shared files are candidates until a racing registration asks for them
  // (which touches them) or references them.
  AgeBlobFiles(server.data_dir(), 3600);

  std::atomic<int> next{0}, done{0}, gc_runs{0}, refused{0};
  std::atomic<uint64_t> removed{0};
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> workers;
  for (int w = 0; w < kThreads; ++w)
    workers.emplace_back([&] {
      auto c = Client(server, server.admin_token());
      for (int k; (k = next++) < kBundles;) {
        auto r = c->Register("race", t / ("b" + std::to_string(k)), Lineage("race"));
        const bool not_uploaded = !r.ok() && r.status().code() == StatusCode::kFailedPrecondition &&
                                  r.status().message().find("not uploaded") != std::string::npos;
        if (not_uploaded && !all_succeed) {
          ++refused;
        } else if (!r.ok()) {
          std::lock_guard<std::mutex> l(mu);
          failures.push_back("bundle " + std::to_string(k) + ": " + r.status().ToString());
        }
        ++done;
      }
    });
  std::thread collector([&] {
    auto c = Client(server, server.admin_token());
    // At least a few passes, and on until the registrations are done.
    while (done < kBundles || gc_runs < 3) {
      auto r = c->CollectGarbage({{"grace_seconds", grace_s}});
      if (!r.ok()) {
        std::lock_guard<std::mutex> l(mu);
        failures.push_back("gc: " + r.status().ToString());
        break;
      }
      removed += (*r)["blobs_removed"].get<uint64_t>();
      ++gc_runs;
    }
  });
  for (auto& w : workers) w.join();
  collector.join();
  INFO(Catch::Detail::stringify(failures));
  REQUIRE(failures.empty());
  CHECK(gc_runs >= 3);
  CHECK(removed > 0);  // the seeds' own files at least

  auto versions = admin->Versions("race");
  REQUIRE(versions.ok());
  CHECK(static_cast<int>(versions->size()) == kBundles - refused);
  for (const auto& v : *versions) {
    const std::string dest = t / ("pulled/" + std::to_string(v.record.number));
    auto p = admin->Pull("race", std::to_string(v.record.number), dest);
    INFO("version " << v.record.number << ": " << p.status().ToString());
    CHECK(p.ok());
  }
  auto fsck = Modelreg({"admin", "fsck", "--data", server.data_dir()});
  INFO(fsck.out << fsck.err);
  CHECK(fsck.exit_code == 0);
}

}  // namespace

TEST_CASE("gc racing 100 registrations of overlapping bundles: every version pulls, fsck is clean") {
  RaceGcAgainstRegistrations(1, true);
}

TEST_CASE("gc with no grace period racing 100 registrations: none points at a removed blob, fsck is clean") {
  RaceGcAgainstRegistrations(0, false);
}
