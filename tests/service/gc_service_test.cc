// RegistryService: deleting versions, retention and garbage collection
// (service/retention_ops.cc), in-process.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "support/service_registry.h"

using namespace modelreg;
using namespace modelreg::testing;

namespace {

const Principal kAdmin{"root", Role::kAdmin, {}};

GcReport MustGc(RegistryService& s, int64_t grace_ms, bool dry_run = false) {
  GcOptions o;
  o.grace_ms = grace_ms;
  o.dry_run = dry_run;
  auto r = s.CollectGarbage(kAdmin, o);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

struct FakeClock {
  explicit FakeClock(int64_t ms) { SetFakeNowForTesting(ms); }
  void Set(int64_t ms) { SetFakeNowForTesting(ms); }
  ~FakeClock() { SetFakeNowForTesting(0); }
};

}  // namespace

TEST_CASE("gc spares a blob a registration in flight has pinned, and removes it once unpinned", "[service][gc]") {
  ServiceRegistry r;
  const std::string orphan = "bytes nothing references";
  r.Put(orphan);
  const Digest d = Digest::Of(orphan);
  {
    BlobPins pins(r.svc.get(), {d.str()});
    auto kept = MustGc(*r.svc, 0);
    CHECK(kept.blobs_removed == 0);
    CHECK(kept.blobs_in_use == 1);
    auto st = r.svc->blobs().Stat(d);
    REQUIRE(st.ok());
    CHECK(st->has_value());
  }
  auto gone = MustGc(*r.svc, 0);
  CHECK(gone.blobs_removed == 1);
  CHECK(gone.bytes_removed == orphan.size());
  auto st = r.svc->blobs().Stat(d);
  REQUIRE(st.ok());
  CHECK_FALSE(st->has_value());
}

TEST_CASE("a register after gc removed its blobs answers not uploaded and records nothing", "[service][gc]") {
  ServiceRegistry r;
  r.Register(1);
  REQUIRE(r.svc->DeleteVersion(kAdmin, "churn", "1", "test").ok());
  CHECK(MustGc(*r.svc, 0).blobs_removed == 1);  // its one file; manifest and lineage record stay
  // The same file in a new bundle, the client having been told it is stored.
  const std::string weights = "weights of version 1";
  LineageRecord l;
  l.model = "churn";
  l.metrics["auc"] = 0.5;  // another bundle than version 1's
  const std::string config = SerializeLineage(l);
  r.Put(config);
  Manifest m = BuildManifest(kModelArtifactType, {kLineageMediaType, Digest::Of(config), config.size(), ""},
                             {{"model.bin", Digest::Of(weights), weights.size()}});
  auto v = r.svc->RegisterManifest(r.trainer, "churn", SerializeManifest(m));
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(v.status().message(), Catch::Contains("not uploaded"));
  auto versions = r.svc->ListVersions(kAdmin, "churn");
  REQUIRE(versions.ok());
  CHECK(versions->size() == 1);
  // Uploaded again, it registers.
  r.Put(weights);
  auto again = r.svc->RegisterManifest(r.trainer, "churn", SerializeManifest(m));
  INFO(again.status().ToString());
  REQUIRE(again.ok());
  CHECK(again->version.number == 2);
  auto fsck = r.svc->Fsck();
  REQUIRE(fsck.ok());
  INFO(nlohmann::json(fsck->problems).dump());
  CHECK(fsck->ok());
}

TEST_CASE("a deleted version's bundle is not registered again, and fsck is clean after gc", "[service][gc]") {
  ServiceRegistry r;
  r.Register(1);
  r.Register(2);
  auto del = r.svc->DeleteVersion(kAdmin, "churn", "1", "bad data");
  REQUIRE(del.ok());
  CHECK(del->deleted_by == "root");
  // A trainer may not delete.
  CHECK(r.svc->DeleteVersion(r.trainer, "churn", "2", "x").status().code() == StatusCode::kPermissionDenied);
  MustGc(*r.svc, 0);
  auto fsck = r.svc->Fsck();
  REQUIRE(fsck.ok());
  INFO(nlohmann::json(fsck->problems).dump());
  CHECK(fsck->ok());
  auto lineage = r.svc->Lineage(kAdmin, "churn", "1");
  CHECK(lineage.ok());
  std::string digest;
  auto manifest = r.svc->OpenManifest(kAdmin, "churn", "1", &digest);
  CHECK(manifest.status().code() == StatusCode::kGone);
  // The same bundle again: refused, naming the deletion.
  r.Put("weights of version 1");
  LineageRecord l;
  l.model = "churn";
  const std::string config = SerializeLineage(l);
  Manifest m = BuildManifest(kModelArtifactType, {kLineageMediaType, Digest::Of(config), config.size(), ""},
                             {{"model.bin", Digest::Of(std::string("weights of version 1")), 20}});
  auto v = r.svc->RegisterManifest(r.trainer, "churn", SerializeManifest(m));
  CHECK(v.status().code() == StatusCode::kGone);
  CHECK_THAT(v.status().message(), Catch::Contains("bad data"));
}

TEST_CASE("retention deletes rejected versions only once they are older than the days kept", "[service][gc]") {
  constexpr int64_t kDay = 24ll * 3600 * 1000;
  const int64_t t0 = 1800000000000;
  FakeClock clock(t0);
  ServiceRegistry r;
  r.Register(1);
  r.Register(2);
  REQUIRE(r.svc->ChangeStage(r.alice, "churn", "1", {"rejected", "no good", ""}).ok());
  RetentionRule rule;
  rule.keep_rejected_days = 30;
  REQUIRE(r.svc->SetRetention(kAdmin, "churn", rule).ok());
  clock.Set(t0 + 29 * kDay);
  CHECK(MustGc(*r.svc, 0).deleted_by_retention.empty());
  clock.Set(t0 + 31 * kDay);
  auto dry = MustGc(*r.svc, 0, true);
  REQUIRE(dry.deleted_by_retention.size() == 1);
  auto still = r.svc->GetVersion(kAdmin, "churn", "1");
  REQUIRE(still.ok());
  CHECK_FALSE(still->version.deleted());
  auto done = MustGc(*r.svc, 0);
  REQUIRE(done.deleted_by_retention.size() == 1);
  CHECK(done.deleted_by_retention[0].number == 1);
  CHECK(done.deleted_by_retention[0].deleted_by == "retention");
  auto v2 = r.svc->GetVersion(kAdmin, "churn", "2");
  REQUIRE(v2.ok());
  CHECK_FALSE(v2->version.deleted());
}
