// audit_queries_bench DATA_DIR DECISIONS MODELS VERSIONS_PER_MODEL AGENTS EVENTS_PER_AGENT SAMPLES
//
// Fills DATA_DIR through the real store (the same SQL the registry runs:
// models, versions with datasets and parent chains, promotions, agents'
// state histories, decisions) unless it already holds a filled registry,
// then times the auditor's queries through the service, each beside a
// primary-key lookup of a version row measured in the same run:
//   decision lookup (target p99 <= 1 ms), live-at-time (<= 5 ms),
//   lineage by dataset (<= 50 ms), and the full decision audit.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/lineage_record.h"
#include "service/registry_service.h"
#include "store/agent_store.h"
#include "store/decision_store.h"
#include "store/model_store.h"
#include "store/workflow_store.h"

using namespace modelreg;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kT0 = 1790000000000;
constexpr int kDatasets = 5000;

std::string DatasetDigest(int i) { return Digest::Of("dataset-" + std::to_string(i)).str(); }
std::string ModelName(int m) {
  char b[16];
  snprintf(b, sizeof b, "m%04d", m);
  return b;
}

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    exit(1);
  }
}

struct Sizes {
  long decisions;
  int models, versions, agents, events;
};

// Version digests by model, filled while generating (and re-read on reuse).
std::vector<std::vector<std::string>> g_digests;

void Fill(RegistryService& svc, const Sizes& s) {
  auto t0 = Clock::now();
  g_digests.assign(s.models, {});
  std::filesystem::create_directories(svc.data_dir() + "/blobs/sha256");
  for (int m = 0; m < s.models; ++m) {
    Check(
        svc.db().Transact(TxMode::kWrite,
                          [&](Tx& tx) {
                            const std::string name = ModelName(m);
                            int64_t model_id = store::EnsureModel(tx, name, "bench", kT0);
                            std::optional<int64_t> prod;
                            for (int v = 1; v <= s.versions; ++v) {
                              const long k = static_cast<long>(m) * s.versions + v;
                              LineageRecord rec;
                              rec.model = name;
                              const std::string ds1 = DatasetDigest(static_cast<int>(k % kDatasets));
                              const std::string ds2 = DatasetDigest(static_cast<int>((m * 7 + v * 13) % kDatasets));
                              rec.data = {{"train", "s3://lake/" + std::to_string(k % kDatasets), *Digest::Parse(ds1)},
                                          {"holdout", "s3://lake/h", *Digest::Parse(ds2)}};
                              rec.metrics = {{"auc", 0.5 + (k % 500) / 1000.0}};
                              rec.params = {{"depth", int64_t{v % 12}}};
                              // Parent chains of up to ten fine-tunes.
                              if (v % 10 != 1) rec.parent = *Digest::Parse(g_digests[m].back());
                              const std::string config = SerializeLineage(rec);
                              const Digest cd = Digest::Of(config);
                              const std::string path = svc.blobs().local()->BlobPath(cd);
                              std::filesystem::create_directories(std::filesystem::path(path).parent_path());
                              std::ofstream(path, std::ios::binary) << config;
                              VersionRecord vr;
                              vr.model = name;
                              vr.digest = Digest::Of("manifest-" + std::to_string(k)).str();
                              vr.manifest_size = 400;
                              vr.config_digest = cd.str();
                              vr.file_count = 1;
                              vr.total_bytes = 1000;
                              vr.code_repo = "https://git.example.com/ds/" + name + ".git";
                              vr.code_commit = Digest::Of("commit-" + std::to_string(k % 10000)).hex().substr(0, 40);
                              vr.code_dirty = false;
                              if (rec.parent) vr.parent_digest = rec.parent->str();
                              vr.created_at_ms = kT0 + k * 1000;
                              vr.created_by = "bench";
                              store::InsertVersion(tx, model_id, &vr, {{cd.str(), static_cast<int64_t>(config.size())}},
                                                   {{"holdout", "s3://lake/h", ds2}, {"train", "s3://lake/x", ds1}},
                                                   {{"auc", 0.9}});
                              g_digests[m].push_back(vr.digest);
                              if (v % 10 == 0) {  // every tenth version goes to production
                                if (prod) {
                                  store::SetVersionStage(tx, *prod, "archived");
                                  store::InsertStageChange(tx, model_id, *prod, "production", "archived", "stage",
                                                           "bench", "", vr.created_at_ms + 500);
                                }
                                store::SetVersionStage(tx, vr.id, "production");
                                store::InsertStageChange(tx, model_id, vr.id, "none", "production", "stage", "bench",
                                                         "", vr.created_at_ms + 500);
                                prod = vr.id;
                              }
                            }
                            return Status::OK();
                          }),
        "fill versions");
  }
  printf("filled %d models x %d versions in %.1f s\n", s.models, s.versions,
         std::chrono::duration<double>(Clock::now() - t0).count());

  t0 = Clock::now();
  const int64_t span = static_cast<int64_t>(s.models) * s.versions * 1000;
  for (int a = 0; a < s.agents; ++a) {
    Check(svc.db().Transact(TxMode::kWrite,
                            [&](Tx& tx) {
                              const int m = a % s.models;
                              for (int e = 0; e < s.events; ++e) {
                                AgentInfo info;
                                info.id = "agent-" + std::to_string(a);
                                info.host = "host-" + std::to_string(a);
                                info.model = ModelName(m);
                                info.stage = "production";
                                const int v = 1 + (e * 7) % s.versions;
                                info.version = v;
                                info.digest = g_digests[m][v - 1];
                                info.state = e % 9 == 8 ? "failed" : "serving";
                                info.token_name = "fleet";
                                info.heartbeat_ms = 10000;
                                store::UpsertAgent(tx, info, kT0 + span * e / s.events + a);
                              }
                              return Status::OK();
                            }),
          "fill agents");
  }
  printf("filled %d agents x %d state changes in %.1f s\n", s.agents, s.events,
         std::chrono::duration<double>(Clock::now() - t0).count());

  t0 = Clock::now();
  const long batch = 20000;
  for (long b = 0; b * batch < s.decisions; ++b) {
    std::vector<DecisionRecord> ds;
    for (long i = b * batch; i < std::min(s.decisions, (b + 1) * batch); ++i) {
      DecisionRecord d;
      const int m = static_cast<int>(i % s.models);
      const int v = 1 + static_cast<int>((i / s.models) % s.versions);
      d.request_id = "r" + std::to_string(i);
      d.model = ModelName(m);
      d.version = v;
      d.digest = g_digests[m][v - 1];
      d.agent_id = "agent-" + std::to_string(m % s.agents);
      d.at_ms = kT0 + (i * span) / s.decisions;
      d.input_sha256 = std::string(64, 'a');
      ds.push_back(std::move(d));
    }
    Check(svc.db().Transact(TxMode::kWrite,
                            [&](Tx& tx) {
                              store::InsertDecisions(tx, ds, kT0 + span);
                              return Status::OK();
                            }),
          "fill decisions");
  }
  printf("filled %ld decisions in %.1f s\n", s.decisions, std::chrono::duration<double>(Clock::now() - t0).count());
}

void Report(const char* what, const std::vector<double>& ms, const std::vector<double>& base, double target_p99) {
  printf("%-34s p50 %8.3f ms  p99 %8.3f ms  = %6.1fx the PK lookup p99   (target p99 <= %g ms: %s)\n", what,
         Pct(ms, 0.5), Pct(ms, 0.99), Pct(ms, 0.99) / Pct(base, 0.99), target_p99,
         Pct(ms, 0.99) <= target_p99 ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    fprintf(
        stderr,
        "usage: audit_queries_bench DATA_DIR DECISIONS MODELS VERSIONS_PER_MODEL AGENTS EVENTS_PER_AGENT SAMPLES\n");
    return 2;
  }
  Sizes s{std::atol(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]), std::atoi(argv[6])};
  const int samples = std::atoi(argv[7]);
  const bool reuse = std::filesystem::exists(std::string(argv[1]) + "/filled");
  auto svc = RegistryService::Open(argv[1]);
  Check(svc.status(), "open");
  if (!reuse) {
    Fill(**svc, s);
    std::ofstream(std::string(argv[1]) + "/filled") << "ok\n";
  } else {
    g_digests.assign(s.models, {});
    Check((*svc)->db().Transact(TxMode::kRead,
                                [&](Tx& tx) {
                                  for (int m = 0; m < s.models; ++m)
                                    for (const auto& v : store::ListVersions(tx, ModelName(m)))
                                      g_digests[m].push_back(v.digest);
                                  return Status::OK();
                                }),
          "reload");
    printf("reusing the filled registry in %s\n", argv[1]);
  }
  RegistryService& r = **svc;
  const Principal p = RegistryService::LocalOperator();
  const int64_t span = static_cast<int64_t>(s.models) * s.versions * 1000;
  std::mt19937_64 rng(42);
  auto time = [](const std::function<void()>& fn) {
    auto a = Clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(Clock::now() - a).count();
  };
  std::vector<double> base, lookup, audit, live, down;
  size_t down_rows = 0;
  const int64_t versions = static_cast<int64_t>(s.models) * s.versions;
  for (int i = 0; i < samples; ++i) {
    const int64_t id = 1 + static_cast<int64_t>(rng() % versions);
    base.push_back(time([&] {
      Check(r.db().Transact(TxMode::kRead,
                            [&](Tx& tx) {
                              if (!store::FindVersionById(tx, id)) return Status::Internal("no version row");
                              return Status::OK();
                            }),
            "pk lookup");
    }));
    const std::string rid = "r" + std::to_string(rng() % s.decisions);
    lookup.push_back(time([&] { Check(r.GetDecision(p, rid).status(), "decision lookup"); }));
    audit.push_back(time([&] { Check(r.AuditDecision(p, rid).status(), "decision audit"); }));
    const std::string model = ModelName(static_cast<int>(rng() % s.models));
    const int64_t at = kT0 + static_cast<int64_t>(rng() % span);
    live.push_back(time([&] { Check(r.LiveAtTime(p, model, at, "").status(), "live at"); }));
    const std::string ds = DatasetDigest(static_cast<int>(rng() % kDatasets));
    down.push_back(time([&] {
      auto page = r.Downstream(p, {ds, "", 0, 100});
      Check(page.status(), "lineage by dataset");
      down_rows += page->total;
    }));
  }
  printf("\n%ld decisions, %ld versions across %d models, %d agents x %d state changes; %d samples each\n", s.decisions,
         versions, s.models, s.agents, s.events, samples);
  printf("%-34s p50 %8.3f ms  p99 %8.3f ms   (baseline)\n", "primary-key lookup of a version", Pct(base, 0.5),
         Pct(base, 0.99));
  Report("decision lookup by request id", lookup, base, 1);
  Report("live at a time (all agents)", live, base, 5);
  Report("lineage by dataset (first 100)", down, base, 50);
  printf("  (a dataset fed %.0f versions on average, fine-tunes included)\n", static_cast<double>(down_rows) / samples);
  printf("%-34s p50 %8.3f ms  p99 %8.3f ms  = %6.1fx the PK lookup p99   (no target: reads the lineage blob)\n",
         "full decision audit", Pct(audit, 0.5), Pct(audit, 0.99), Pct(audit, 0.99) / Pct(base, 0.99));
  return 0;
}
