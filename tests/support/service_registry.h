// A RegistryService opened in-process on a fresh data directory, for the
// service-level tests (tests/service, tests/blob): SQLite under the
// directory, or in the PostgreSQL run a fresh database of its own
// (support/pg_test_db.h) unless the options name one. With the principals
// those tests act as and one-file bundles of model "churn" to register.
// Header-only: only test binaries that link mr_service include it.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "core/manifest.h"
#include "service/registry_service.h"
#include "support/pg_test_db.h"
#include "support/temp_dir.h"

namespace modelreg::testing {

struct ServiceRegistry {
  TempDir dir;
  std::unique_ptr<RegistryService> svc;
  Principal trainer{"train-job", Role::kTrainer, {}};
  Principal alice{"alice", Role::kApprover, {}};
  Principal agent{"agent", Role::kAgent, {}};

  explicit ServiceRegistry(ServiceOptions options = {}) {
    if (options.db_url.empty()) options.db_url = TestDatabaseUrl();
    auto s = RegistryService::Open(dir / "data", options);
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    svc = std::move(s).value();
  }

  void Put(const std::string& bytes) { REQUIRE(svc->blobs().PutBytes(Digest::Of(bytes), bytes).ok()); }

  // Registers a version of "churn" whose one file, model.bin, holds
  // `weights`; returns its number.
  int64_t RegisterWeights(const std::string& weights) {
    Put(weights);
    LineageRecord r;
    r.model = "churn";
    const std::string config = SerializeLineage(r);
    Put(config);
    Manifest m = BuildManifest(kModelArtifactType, {kLineageMediaType, Digest::Of(config), config.size(), ""},
                               {{"model.bin", Digest::Of(weights), weights.size()}});
    auto v = svc->RegisterManifest(trainer, "churn", SerializeManifest(m));
    INFO(v.status().ToString());
    REQUIRE(v.ok());
    return v->version.number;
  }

  // Registers version n of "churn" (a one-file bundle unique to it).
  void Register(int n) { REQUIRE(RegisterWeights("weights of version " + std::to_string(n)) == n); }

  // Approves version n, then moves it to staging and to production.
  void Promote(int n) {
    REQUIRE(svc->Approve(alice, "churn", std::to_string(n), "ok").ok());
    REQUIRE(svc->ChangeStage(alice, "churn", std::to_string(n), {"staging", "", ""}).ok());
    auto r = svc->ChangeStage(alice, "churn", std::to_string(n), {"production", "", ""});
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }
};

}  // namespace modelreg::testing
