// Fsck: a version's rows against its manifest and hashed lineage record
// (see fsck_checks.h).
#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "core/file_util.h"
#include "core/lineage_record.h"
#include "core/manifest.h"
#include "service/fsck_checks.h"
#include "store/model_store.h"

namespace modelreg::service_internal {
namespace {

// The shortest text that reads back as `v` (0.91, not 0.91000000000000003).
std::string Num(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "?";
}

std::string Quoted(const std::string& s) { return s.empty() ? "(none)" : "'" + s + "'"; }

// A blob's bytes, checked against its digest.
Result<std::string> ReadVerified(const BlobBackend& blobs, const std::string& digest_text, size_t limit) {
  MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(digest_text));
  MR_ASSIGN_OR_RETURN(std::string bytes, blobs.ReadSmall(d, limit, /*verify=*/false));
  if (Digest::Of(bytes) != d) return Status::DataLoss("its bytes hash to " + Digest::Of(bytes).str());
  return bytes;
}

class VersionChecker {
 public:
  VersionChecker(const VersionRecord& v, std::vector<std::string>* problems)
      : v_(v), who_(v.model + " version " + std::to_string(v.number) + ": "), problems_(problems) {}

  void Add(const std::string& what) { problems_->push_back(who_ + what); }

  // Counts and blob references against the manifest.
  void CheckManifest(const Manifest& m, size_t manifest_bytes, const std::vector<store::BlobRef>& refs) {
    const std::string in = " in the database, ";
    const std::string of = " in its manifest (" + v_.digest + ")";
    if (v_.manifest_size != static_cast<int64_t>(manifest_bytes))
      Add("manifest size " + std::to_string(v_.manifest_size) + in + std::to_string(manifest_bytes) + " bytes" + of);
    if (v_.config_digest != m.config.digest.str())
      Add("lineage record " + v_.config_digest + in + m.config.digest.str() + of);
    if (v_.file_count != static_cast<int64_t>(m.layers.size()))
      Add("file count " + std::to_string(v_.file_count) + in + std::to_string(m.layers.size()) + of);
    if (v_.total_bytes != static_cast<int64_t>(m.TotalLayerBytes()))
      Add("total bytes " + std::to_string(v_.total_bytes) + in + std::to_string(m.TotalLayerBytes()) + of);
    std::map<std::string, int64_t> want = {{v_.digest, static_cast<int64_t>(manifest_bytes)},
                                           {m.config.digest.str(), static_cast<int64_t>(m.config.size)}};
    for (const auto& l : m.layers) want.emplace(l.digest.str(), static_cast<int64_t>(l.size));
    std::map<std::string, int64_t> have;
    for (const auto& r : refs) have.emplace(r.digest, r.size);
    for (const auto& [d, size] : have) {
      auto w = want.find(d);
      if (w == want.end())
        Add("blob reference " + d + " (" + std::to_string(size) + " bytes) is not in its manifest (" + v_.digest + ")");
      else if (w->second != size)
        Add("blob reference " + d + " has " + std::to_string(size) + " bytes" + in + std::to_string(w->second) + of);
    }
    for (const auto& [d, size] : want)
      if (!have.count(d))
        Add("blob " + d + " (" + std::to_string(size) +
            " bytes) of its manifest has no blob reference in the database");
  }

  // Code, parent, datasets and metrics against the lineage record.
  void CheckLineage(const LineageRecord& r, const std::string& record_digest, const std::vector<DatasetRow>& datasets,
                    const std::vector<std::pair<std::string, double>>& metrics) {
    const std::string in = " in the database, ";
    const std::string of = " in its lineage record (" + record_digest + ")";
    if (r.model != v_.model) Add("lineage record (" + record_digest + ") is for model '" + r.model + "'");
    const std::string repo = r.code ? r.code->repo : "", commit = r.code ? r.code->commit : "";
    if (v_.code_repo != repo) Add("code repo " + Quoted(v_.code_repo) + in + Quoted(repo) + of);
    if (v_.code_commit != commit) Add("code commit " + Quoted(v_.code_commit) + in + Quoted(commit) + of);
    const std::optional<bool> dirty = r.code ? std::optional<bool>(r.code->dirty) : std::nullopt;
    auto dirty_text = [](std::optional<bool> d) { return d ? (*d ? "dirty" : "clean") : "(none)"; };
    if (v_.code_dirty != dirty)
      Add(std::string("code state ") + dirty_text(v_.code_dirty) + in + dirty_text(dirty) + of);
    const std::string parent = r.parent ? r.parent->str() : "";
    if (v_.parent_digest != parent) Add("parent " + Quoted(v_.parent_digest) + in + Quoted(parent) + of);

    std::map<std::string, const DatasetRef*> rec_data;
    for (const auto& d : r.data) rec_data[d.name] = &d;
    std::set<std::string> seen;
    for (const auto& d : datasets) {
      seen.insert(d.name);
      auto it = rec_data.find(d.name);
      if (it == rec_data.end()) {
        Add("dataset '" + d.name + "' (" + d.uri + ") in the database is not" + of);
        continue;
      }
      const std::string digest = it->second->digest ? it->second->digest->str() : "";
      if (d.uri != it->second->uri)
        Add("dataset '" + d.name + "' uri " + Quoted(d.uri) + in + Quoted(it->second->uri) + of);
      if (d.digest != digest) Add("dataset '" + d.name + "' digest " + Quoted(d.digest) + in + Quoted(digest) + of);
    }
    for (const auto& [name, d] : rec_data)
      if (!seen.count(name)) Add("dataset '" + name + "' (" + d->uri + ")" + of + " is missing from the database");

    // A renamed metric is one line naming both names: a name only the
    // database has is reported with the names only the record has.
    std::string record_only;
    for (const auto& kv : r.metrics)  // (no structured binding: clang 14 cannot capture one)
      if (!std::any_of(metrics.begin(), metrics.end(), [&](const auto& m) { return m.first == kv.first; }))
        record_only += (record_only.empty() ? "" : ", ") + kv.first + " = " + Num(kv.second);
    const std::string which_has = record_only.empty() ? "" : ", which has " + record_only;
    bool renamed = false;
    for (const auto& [name, value] : metrics) {
      auto it = r.metrics.find(name);
      if (it == r.metrics.end()) {
        Add("metric '" + name + "' = " + Num(value) + " in the database is not" + of + which_has);
        renamed = true;
      } else if (it->second != value) {
        Add("metric '" + name + "' = " + Num(value) + in + Num(it->second) + of);
      }
    }
    if (!renamed && !record_only.empty())
      Add("its lineage record (" + record_digest + ") has " + record_only + ", missing from the database");
  }

 private:
  const VersionRecord& v_;
  std::string who_;
  std::vector<std::string>* problems_;
};

}  // namespace

void CheckRowsAgainstLineage(Tx& tx, const BlobBackend& blobs, const ServiceOptions& options, const ModelRecord& m,
                             const std::vector<VersionRecord>& versions, std::vector<std::string>* problems) {
  auto metrics = store::ListModelMetrics(tx, m.name);
  auto datasets = store::ListModelDatasets(tx, m.id);
  auto refs = store::ListModelBlobRefs(tx, m.id);
  for (const auto& v : versions) {
    VersionChecker c(v, problems);
    auto manifest_bytes = ReadVerified(blobs, v.digest, options.limits.max_manifest_bytes);
    if (!manifest_bytes.ok()) {
      c.Add("not checked against its manifest and lineage record: manifest " + v.digest + ": " +
            manifest_bytes.status().message());
      continue;
    }
    auto manifest = ParseManifest(*manifest_bytes, options.limits);
    if (!manifest.ok()) {
      c.Add("manifest " + v.digest + " does not parse: " + manifest.status().message());
      continue;
    }
    c.CheckManifest(*manifest, manifest_bytes->size(), refs[v.number]);
    const std::string record_digest = manifest->config.digest.str();
    auto record_bytes = ReadVerified(blobs, record_digest, options.max_config_bytes);
    if (!record_bytes.ok()) {
      c.Add("not checked against its lineage record " + record_digest + ": " + record_bytes.status().message());
      continue;
    }
    auto record = ParseLineage(*record_bytes);
    if (!record.ok()) {
      c.Add("lineage record " + record_digest + " does not parse: " + record.status().message());
      continue;
    }
    c.CheckLineage(*record, record_digest, datasets[v.number], metrics[v.number]);
  }
}

}  // namespace modelreg::service_internal
