// Model monitoring (docs/monitoring.md): the agents' windows, the drift
// statistics computed from them against the version's reference profile,
// and the retraining triggers (audit events drift.alarm and
// schema.violations, and their webhook events).
#include <map>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/drift_stats.h"
#include "core/manifest.h"
#include "core/profile.h"
#include "service/audit.h"
#include "service/registry_service.h"
#include "store/model_store.h"
#include "store/monitor_store.h"
#include "store/workflow_store.h"

namespace modelreg {
namespace {

using nlohmann::json;
using service_internal::Audit;

// A profile is a few KiB per column; this bounds a hostile one.
constexpr size_t kMaxProfileBytes = 64 << 20;
// Below this many rows a window's violation rate says little.
constexpr int64_t kMinRowsForViolationRate = 20;

json Number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// The version's reference profile: the bundle file kProfilePath, if any.
Result<std::optional<Profile>> LoadProfile(const BlobBackend& blobs, const ServiceOptions& options,
                                           const VersionRecord& v) {
  MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(v.digest));
  auto bytes = blobs.ReadSmall(d, options.limits.max_manifest_bytes);
  if (!bytes.ok()) return Status::DataLoss("manifest of version " + std::to_string(v.number) + " is unreadable");
  MR_ASSIGN_OR_RETURN(Manifest m, ParseManifest(*bytes, options.limits));
  for (const auto& layer : m.layers) {
    if (layer.title != kProfilePath) continue;
    auto profile = blobs.ReadSmall(layer.digest, kMaxProfileBytes);
    if (!profile.ok())
      return Status::DataLoss("the reference profile of version " + std::to_string(v.number) + " is unreadable");
    auto parsed = ParseProfile(*profile);
    if (!parsed.ok())
      return Status::DataLoss("the reference profile of version " + std::to_string(v.number) +
                              " does not parse: " + parsed.status().message());
    return std::optional<Profile>(std::move(*parsed));
  }
  return std::optional<Profile>();
}

struct VersionContext {
  VersionRecord version;
  std::optional<Profile> profile;
  std::vector<DatasetRow> datasets;
};

json DatasetsJson(const std::vector<DatasetRow>& datasets) {
  json a = json::array();
  for (const auto& d : datasets) {
    json o = {{"name", d.name}, {"uri", d.uri}};
    if (!d.digest.empty()) o["digest"] = d.digest;
    a.push_back(o);
  }
  return a;
}

// The statistics of one feature of a window; InvalidArgument when its counts
// do not fit the reference column.
Result<store::DriftStatRow> FeatureStats(const FeatureWindow& f, bool is_output, const ColumnProfile* column,
                                         const DriftOptions& options, int64_t version) {
  store::DriftStatRow s;
  s.feature = is_output ? kOutputFeature : f.name;
  s.is_output = is_output;
  s.n = f.n;
  s.missing = f.missing;
  s.out_of_range = f.out_of_range;
  s.type_errors = f.type_errors;
  s.unknown_category = f.unknown_category;
  s.counts = json(f.counts).dump();
  const int64_t seen = f.n + f.missing + f.type_errors;
  s.missing_rate = seen > 0 ? static_cast<double>(f.missing) / static_cast<double>(seen) : 0;
  s.out_of_range_rate = f.n > 0 ? std::min(1.0, static_cast<double>(f.out_of_range) / static_cast<double>(f.n)) : 0;
  if (!column || f.counts.empty()) return s;
  const int64_t reference_n = column->count - column->missing;
  if (reference_n < 1) return s;  // an all-missing reference column: nothing to compare with
  const std::string what = is_output ? std::string("the output") : "feature \"" + f.name + "\"";
  if (f.counts.size() != column->Bins())
    return Status::InvalidArgument("monitoring: " + what + " of version " + std::to_string(version) + " has " +
                                   std::to_string(f.counts.size()) + " bin counts, its reference profile " +
                                   std::to_string(column->Bins()) + " bins");
  auto d = ComputeDrift(column->fractions, reference_n, f.counts, f.missing, f.out_of_range, options);
  if (!d.ok()) return d.status().WithContext("monitoring: " + what);
  s.psi = d->psi;
  s.js = d->js;
  s.threshold = d->threshold;
  s.alarm = d->alarm;
  return s;
}

struct PreparedWindow {
  const MonitorWindow* window;
  const VersionContext* context;
  std::vector<store::DriftStatRow> stats;
};

}  // namespace

Status RegistryService::ReportMonitoring(const Principal& p, const std::string& agent_id, const std::string& model,
                                         const MonitorReport& report) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReportAgent, model));
  if (report.windows.empty()) return Status::OK();
  // Read what the windows refer to first: the blobs (profiles) are read
  // outside any transaction, and a bad window is refused before anything is
  // written.
  std::map<int64_t, VersionContext> versions;
  int64_t model_id = 0;
  Policy policy;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    model_id = m->id;
    policy = store::GetPolicy(tx, m->id);
    for (const auto& w : report.windows) {
      if (versions.count(w.version)) continue;
      auto v = store::FindVersionByNumber(tx, model, w.version);
      if (!v)
        return Status::InvalidArgument("monitoring: version " + std::to_string(w.version) + " of '" + model +
                                       "' does not exist");
      versions[w.version] = VersionContext{*v, std::nullopt, store::ListDatasets(tx, v->id)};
    }
    return Status::OK();
  }));
  for (auto& [number, ctx] : versions) {
    MR_ASSIGN_OR_RETURN(ctx.profile, LoadProfile(*blobs_, options_, ctx.version));
  }
  DriftOptions drift;
  drift.alpha = policy.drift_alpha;
  drift.min_psi = policy.drift_min_psi;
  std::vector<PreparedWindow> prepared;
  for (const auto& w : report.windows) {
    const VersionContext& ctx = versions.at(w.version);
    if (w.digest != ctx.version.digest)
      return Status::InvalidArgument("monitoring: a window names version " + std::to_string(w.version) +
                                     " with digest " + w.digest + ", but that version's digest is " +
                                     ctx.version.digest);
    PreparedWindow pw{&w, &ctx, {}};
    const bool reference = w.reference && ctx.profile.has_value();
    for (const auto& f : w.features) {
      const ColumnProfile* column = nullptr;
      if (reference) {
        for (const auto& c : ctx.profile->columns)
          if (c.name == f.name) column = &c;
        if (!column)
          return Status::InvalidArgument("monitoring: feature \"" + f.name + "\" is not a column of the reference " +
                                         "profile of version " + std::to_string(w.version));
      }
      MR_ASSIGN_OR_RETURN(auto s, FeatureStats(f, false, column, drift, w.version));
      pw.stats.push_back(std::move(s));
    }
    if (w.output) {
      const ColumnProfile* column = reference && ctx.profile->output ? &*ctx.profile->output : nullptr;
      MR_ASSIGN_OR_RETURN(auto s, FeatureStats(*w.output, true, column, drift, w.version));
      pw.stats.push_back(std::move(s));
    }
    prepared.push_back(std::move(pw));
  }

  return db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    const int64_t now = NowMs();
    for (const auto& pw : prepared) {
      const MonitorWindow& w = *pw.window;
      const VersionRecord& v = pw.context->version;
      store::MonitorWindowRow row;
      row.model_id = model_id;
      row.version_id = v.id;
      row.agent_id = agent_id;
      row.run = report.run;
      row.arm = w.arm;
      row.start_ms = w.start_ms;
      row.end_ms = w.end_ms;
      row.reference = w.reference && pw.context->profile.has_value();
      row.requests = w.requests;
      row.rows = w.rows;
      row.unreadable = w.unreadable;
      row.violations = w.violations;
      row.rejected = w.rejected;
      row.received_at_ms = now;
      const int64_t id = store::InsertMonitorWindow(tx, row);
      if (id == 0) continue;  // resent: stored, and audited if it had to be, the first time
      json alarmed = json::array();
      for (const auto& s : pw.stats) {
        store::InsertDriftStat(tx, id, s);
        if (s.alarm)
          alarmed.push_back({{"feature", s.feature},
                             {"psi", Number(s.psi)},
                             {"js", Number(s.js)},
                             {"threshold", Number(s.threshold)},
                             {"n", s.n},
                             {"missing_rate", s.missing_rate},
                             {"out_of_range_rate", s.out_of_range_rate}});
      }
      auto base = [&] {
        return json{{"version", v.number},
                    {"digest", v.digest},
                    {"agent", agent_id},
                    {"arm", w.arm},
                    {"window", {{"start", FormatIsoTime(w.start_ms)}, {"start_ms", w.start_ms}, {"end_ms", w.end_ms}}},
                    {"datasets", DatasetsJson(pw.context->datasets)}};
      };
      if (!alarmed.empty()) {
        json d = base();
        d["features"] = alarmed;
        d["drift_alpha"] = policy.drift_alpha;
        d["drift_min_psi"] = policy.drift_min_psi;
        Audit(tx, p.name, "drift.alarm", model, v.number, d);
      }
      if (policy.max_violation_rate && w.rows >= kMinRowsForViolationRate) {
        const double rate = static_cast<double>(w.violations) / static_cast<double>(w.rows);
        if (rate > *policy.max_violation_rate) {
          json d = base();
          d["rows"] = w.rows;
          d["violations"] = w.violations;
          d["rejected"] = w.rejected;
          d["violation_rate"] = rate;
          d["max_violation_rate"] = *policy.max_violation_rate;
          Audit(tx, p.name, "schema.violations", model, v.number, d);
        }
      }
    }
    return Status::OK();
  });
}

Result<RegistryService::DriftAnswer> RegistryService::Drift(const Principal& p, const std::string& model,
                                                            const DriftFilter& f) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  DriftAnswer out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    store::DriftQuery q;
    q.model_id = m->id;
    q.since_ms = f.since_ms;
    q.agent_id = f.agent;
    if (f.version) {
      auto v = store::FindVersionByNumber(tx, model, *f.version);
      if (!v) return Status::NotFound("version " + std::to_string(*f.version) + " of '" + model + "' not found");
      q.version_id = v->id;
    }
    out.points = store::ListDrift(tx, q);
    for (const auto& [number, reference] : store::MonitoredVersions(tx, m->id))
      if (!f.version || *f.version == number) out.versions.emplace_back(number, reference);
    return Status::OK();
  }));
  return out;
}

Result<std::vector<LatestDriftRecord>> RegistryService::LatestDrift(const Principal& p) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels));
  std::vector<LatestDriftRecord> all;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    all = store::LatestDriftPerFeature(tx);
    return Status::OK();
  }));
  std::vector<LatestDriftRecord> out;
  for (auto& l : all)
    if (p.CanSeeModel(l.model)) out.push_back(std::move(l));
  return out;
}

}  // namespace modelreg
