// Times `admin fsck` (RegistryService::Fsck), and its row cross-checks alone,
// on a registry filled through the real service: MODELS x VERSIONS versions
// registered with lineage, every tenth archived. MODELS = 0 re-checks a
// filled DATA_DIR. Usage: fsck_bench DATA_DIR MODELS VERSIONS
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/lineage_record.h"
#include "core/manifest.h"
#include "service/fsck_checks.h"
#include "service/registry_service.h"
#include "store/model_store.h"

using namespace modelreg;

static void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const int models = atoi(argv[2]), versions = atoi(argv[3]);
  auto svc = RegistryService::Open(argv[1]);
  Check(svc.status(), "open");
  RegistryService& r = **svc;
  const Principal p = RegistryService::LocalOperator();
  const std::string weights = "weights";
  const Digest wd = Digest::Of(weights);
  Check(r.blobs().PutBytes(wd, weights), "layer");
  auto t0 = std::chrono::steady_clock::now();
  for (int m = 0; m < models; ++m) {
    const std::string name = "model-" + std::to_string(m);
    for (int v = 1; v <= versions; ++v) {
      LineageRecord rec;
      rec.model = name;
      rec.metrics = {{"auc", 0.5 + v / 1e6}, {"logloss", 0.2}};
      rec.params = {{"depth", int64_t{v}}};
      rec.data = {{"train", "s3://lake/t", Digest::Of("d" + std::to_string(v))}};
      rec.code = CodeRef{"https://git.example.com/x.git", std::string(40, 'a'), "main", false, ""};
      const std::string config = SerializeLineage(rec);
      const Digest cd = Digest::Of(config);
      Check(r.blobs().PutBytes(cd, config), "config");
      Manifest man = BuildManifest(kModelArtifactType, Descriptor{kLineageMediaType, cd, config.size(), ""},
                                   {BundleFile{"w.bin", wd, weights.size()}});
      auto reg = r.RegisterManifest(p, name, SerializeManifest(man));
      Check(reg.status(), "register");
      if (v % 10 == 0)
        Check(r.ChangeStage(p, name, std::to_string(v), StageRequest{"archived", "old", ""}).status(), "archive");
    }
  }
  printf("filled %d x %d in %.1f s\n", models, versions,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  t0 = std::chrono::steady_clock::now();
  std::vector<std::string> problems;
  Check(r.db().Transact(TxMode::kRead,
                        [&](Tx& tx) {
                          for (const auto& m : store::ListModels(tx)) {
                            const auto vs = store::ListVersions(tx, m.name);
                            service_internal::CheckRowsAgainstLineage(tx, r.blobs(), ServiceOptions{}, m, vs,
                                                                      &problems);
                            service_internal::CheckRowsAgainstAudit(tx, m, vs, int64_t{0}, &problems);
                          }
                          return Status::OK();
                        }),
        "cross");
  printf("cross-check alone: %.2f s, %zu problems\n",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), problems.size());
  t0 = std::chrono::steady_clock::now();
  auto f = r.Fsck(false);
  Check(f.status(), "fsck");
  printf("fsck: %.2f s, %zu problems, %llu versions cross-checked\n",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), f->problems.size(),
         (unsigned long long)f->versions_cross_checked);
  for (size_t i = 0; i < f->problems.size() && i < 5; ++i) printf("  %s\n", f->problems[i].c_str());
}
