// Lineage queries: upstream of a version, downstream of a dataset or commit,
// the diff of two versions, and signed provenance.
#include <deque>
#include <set>

#include "auth/signing.h"
#include "core/file_util.h"
#include "core/manifest.h"
#include "lineage/provenance.h"
#include "lineage/version_diff.h"
#include "service/lineage_internal.h"
#include "service/registry_service.h"
#include "store/agent_store.h"
#include "store/model_store.h"

namespace modelreg {

namespace service_internal {

VersionRef RefOf(const VersionRecord& v) { return VersionRef{v.model, v.number, v.digest, v.stage}; }

Result<LineageRecord> LoadLineageRecord(const BlobBackend& blobs, const VersionRecord& v, size_t max_bytes) {
  MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(v.config_digest));
  auto bytes = blobs.ReadSmall(d, max_bytes);
  if (!bytes.ok())
    return Status::DataLoss("lineage record of " + v.model + " version " + std::to_string(v.number) +
                            " is unreadable (run `modelreg admin fsck`): " + bytes.status().message());
  auto r = ParseLineage(*bytes);
  if (!r.ok()) return r.status().WithContext("stored lineage record of " + v.model);
  return r;
}

Result<VersionLineage> BuildVersionLineage(Tx& tx, const BlobBackend& blobs, const Principal& p, const VersionRecord& v,
                                           size_t max_config_bytes) {
  VersionLineage out;
  out.version = v;
  MR_ASSIGN_OR_RETURN(out.record, LoadLineageRecord(blobs, v, max_config_bytes));
  // The parent chain: each parent digest resolved to a version, preferring
  // the child's own model (a digest may be registered under several).
  std::set<std::string> seen = {v.digest};
  VersionRecord cur = v;
  while (!cur.parent_digest.empty()) {
    if (static_cast<int>(out.parents.size()) >= kMaxLineageHops) {
      out.parents_truncated = true;
      break;
    }
    std::optional<VersionRecord> parent;
    for (auto& c : store::VersionsWithDigest(tx, cur.parent_digest)) {
      if (!p.CanSeeModel(c.model)) continue;
      if (!parent || c.model == cur.model) parent = c;
      if (c.model == cur.model) break;
    }
    if (!parent || !seen.insert(parent->digest).second) {
      if (!parent) out.unresolved_parent = cur.parent_digest;
      break;
    }
    out.parents.push_back(RefOf(*parent));
    cur = *parent;
  }
  for (const auto& c : store::VersionsWithParent(tx, v.digest))
    if (p.CanSeeModel(c.model)) out.children.push_back(RefOf(c));
  out.serving = store::AgentsWithDigest(tx, v.model, v.digest);
  return out;
}

}  // namespace service_internal

namespace {

constexpr size_t kMaxDownstream = 100000;

bool IsLowerHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

using service_internal::BuildVersionLineage;
using service_internal::RefOf;

Result<VersionLineage> RegistryService::Lineage(const Principal& p, const std::string& model,
                                                const std::string& ref) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  VersionLineage out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, model, ref));
    MR_ASSIGN_OR_RETURN(out, BuildVersionLineage(tx, *blobs_, p, v, options_.max_config_bytes));
    return Status::OK();
  }));
  return out;
}

Result<DownstreamPage> RegistryService::Downstream(const Principal& p, const DownstreamQuery& q) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadAudit));
  if (q.dataset.empty() == q.commit.empty())
    return Status::InvalidArgument("give exactly one of a dataset digest or a commit");
  if (!q.dataset.empty()) {
    auto d = Digest::Parse(q.dataset);
    if (!d.ok()) return d.status().WithContext("dataset");
  }
  if (!q.commit.empty() && (q.commit.size() < 7 || q.commit.size() > 40 || !IsLowerHex(q.commit)))
    return Status::InvalidArgument("commit must be 7 to 40 lowercase hex characters, not '" + q.commit.substr(0, 80) +
                                   "'");
  if (q.offset < 0 || q.limit < 1 || q.limit > 1000)
    return Status::InvalidArgument("offset must be >= 0 and limit 1 to 1000");
  DownstreamPage page;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    // Direct matches first, then their fine-tunes breadth first: a model
    // fine-tuned from one trained on the dataset has seen it too.
    std::vector<DownstreamEntry> all;
    std::set<int64_t> seen;
    std::deque<size_t> frontier;
    auto add = [&](VersionRecord v, int depth, std::string via) {
      if (all.size() >= kMaxDownstream) {
        page.truncated = true;
        return;
      }
      if (!seen.insert(v.id).second) return;
      all.push_back({std::move(v), depth, std::move(via), {}});
      frontier.push_back(all.size() - 1);
    };
    if (!q.dataset.empty())
      for (auto& [v, name] : store::VersionsTrainedOn(tx, Digest::Parse(q.dataset)->str()))
        add(std::move(v), 0, "dataset " + name);
    else
      for (auto& v : store::VersionsAtCommit(tx, q.commit)) {
        std::string via = "commit " + v.code_commit;
        add(std::move(v), 0, std::move(via));
      }
    while (!frontier.empty()) {
      const size_t i = frontier.front();
      frontier.pop_front();
      if (all[i].depth >= kMaxLineageHops) continue;
      const std::string parent = all[i].version.digest;
      const int depth = all[i].depth + 1;
      for (auto& c : store::VersionsWithParent(tx, parent)) add(std::move(c), depth, "parent " + parent);
    }
    std::vector<DownstreamEntry> visible;
    for (auto& e : all)
      if (p.CanSeeModel(e.version.model)) visible.push_back(std::move(e));
    page.total = static_cast<int64_t>(visible.size());
    for (int64_t i = q.offset; i < page.total && i < q.offset + q.limit; ++i) {
      auto& e = visible[static_cast<size_t>(i)];
      e.serving = store::AgentsWithDigest(tx, e.version.model, e.version.digest);
      page.entries.push_back(std::move(e));
    }
    if (q.offset + q.limit < page.total) page.next_offset = q.offset + q.limit;
    return Status::OK();
  }));
  return page;
}

Result<VersionDiffResult> RegistryService::Diff(const Principal& p, const std::string& model, const std::string& from,
                                                const std::string& to) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  VersionRecord a, b;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(a, ResolveVersion(tx, model, from));
    MR_ASSIGN_OR_RETURN(b, ResolveVersion(tx, model, to));
    return Status::OK();
  }));
  // Blobs are immutable: read them outside the transaction.
  auto manifest = [&](const VersionRecord& v) -> Result<Manifest> {
    MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(v.digest));
    auto bytes = blobs_->ReadSmall(d, options_.limits.max_manifest_bytes);
    if (!bytes.ok()) return Status::DataLoss("manifest of version " + std::to_string(v.number) + " is unreadable");
    return ParseManifest(*bytes, options_.limits);
  };
  MR_ASSIGN_OR_RETURN(Manifest ma, manifest(a));
  MR_ASSIGN_OR_RETURN(Manifest mb, manifest(b));
  MR_ASSIGN_OR_RETURN(LineageRecord la, service_internal::LoadLineageRecord(*blobs_, a, options_.max_config_bytes));
  MR_ASSIGN_OR_RETURN(LineageRecord lb, service_internal::LoadLineageRecord(*blobs_, b, options_.max_config_bytes));
  return VersionDiffResult{RefOf(a), RefOf(b), DiffVersions(la, ma, lb, mb)};
}

Result<std::string> RegistryService::Provenance(const Principal& p, const std::string& model,
                                                const std::string& ref) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  VersionRecord v;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(v, ResolveVersion(tx, model, ref));
    return Status::OK();
  }));
  ProvenanceInput in;
  in.model = v.model;
  in.version = v.number;
  in.digest = v.digest;
  in.registered_at_ms = v.created_at_ms;
  in.registered_by = v.created_by;
  in.builder_id = "https://modelreg.dev/registry/" + release_key_->key_id();
  MR_ASSIGN_OR_RETURN(in.lineage, service_internal::LoadLineageRecord(*blobs_, v, options_.max_config_bytes));
  return SignDsse(*release_key_, kInTotoPayloadType, ProvenanceStatement(in));
}

}  // namespace modelreg
