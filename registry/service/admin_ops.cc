// Operator use cases: integrity checking (blobs, references, and rows
// against their second sources: fsck_checks.h), backup.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "blob/blob_store.h"
#include "service/fsck_checks.h"
#include "service/registry_service.h"
#include "store/audit_store.h"
#include "store/model_store.h"

namespace modelreg {
namespace {

// Fetches and hashes every referenced blob of a remote backend, once each.
// An unreachable backend fails the whole check (Unavailable): a partial
// report would read as clean.
Status CheckRemoteBlobsOf(const BlobBackend& blobs, const std::vector<store::BlobRef>& refs, FsckReport* r) {
  std::map<std::string, int64_t> want;
  for (const auto& ref : refs) {
    ++r->references_checked;
    auto [it, fresh] = want.emplace(ref.digest, ref.size);
    if (!fresh && it->second != ref.size)
      r->problems.push_back("blob " + ref.digest + " is referenced with sizes " + std::to_string(it->second) + " and " +
                            std::to_string(ref.size));
  }
  std::vector<char> buf(1 << 20);
  for (const auto& [text, size] : want) {
    auto d = Digest::Parse(text);
    if (!d.ok()) {
      r->problems.push_back("reference to malformed digest " + text);
      continue;
    }
    auto reader = blobs.Open(*d);
    if (!reader.ok()) {
      if (reader.status().code() == StatusCode::kUnavailable) return reader.status();
      if (reader.status().code() == StatusCode::kNotFound)
        r->problems.push_back("referenced blob " + text + " is missing");
      else r->problems.push_back("blob " + text + ": " + reader.status().message());
      continue;
    }
    ++r->blobs_checked;
    if (static_cast<int64_t>((*reader)->size()) != size) {
      r->problems.push_back("referenced blob " + text + " has " + std::to_string((*reader)->size()) +
                            " bytes, expected " + std::to_string(size));
      continue;
    }
    uint64_t at = 0;
    Status st;
    while (at < (*reader)->size()) {
      auto n = (*reader)->ReadAt(at, buf.data(), buf.size());
      if (!n.ok()) {
        st = n.status();
        break;
      }
      if (*n == 0) {
        st = Status::DataLoss("ended after " + std::to_string(at) + " bytes");
        break;
      }
      at += *n;
    }
    r->bytes_checked += at;
    if (st.code() == StatusCode::kUnavailable) return st;
    if (!st.ok()) r->problems.push_back("blob " + text + " is corrupt in " + blobs.Describe() + ": " + st.message());
  }
  return Status::OK();
}

}  // namespace

Result<FsckReport> RegistryService::Fsck(bool repair) const {
  FsckReport r;
  std::vector<store::BlobRef> refs;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    r.problems = store::IntegrityProblems(tx);
    refs = store::AllReferencedBlobs(tx);
    if (!r.problems.empty()) return Status::OK();  // rows of a damaged file prove nothing
    for (auto& p : store::DanglingRowProblems(tx)) r.problems.push_back(std::move(p));
    // Rows against their second sources (fsck_checks.h), a model at a time.
    store::AuditFilter oldest;
    oldest.limit = 1;
    const auto first = store::ListAudit(tx, oldest);
    const std::optional<int64_t> first_audit_ms =
        first.empty() ? std::nullopt : std::optional<int64_t>(first.front().at_ms);
    for (const auto& m : store::ListModels(tx)) {
      const auto versions = store::ListVersions(tx, m.name);
      service_internal::CheckRowsAgainstLineage(tx, *blobs_, options_, m, versions, &r.problems);
      service_internal::CheckRowsAgainstAudit(tx, m, versions, first_audit_ms, &r.problems);
      r.versions_cross_checked += versions.size();
    }
    service_internal::CheckTokensAgainstAudit(tx, first_audit_ms, &r.problems);
    for (const auto& name : store::AuditedModelsWithoutRow(tx))
      r.problems.push_back(name + ": the audit log has events about this model but the database has no such model");
    return Status::OK();
  }));
  std::set<std::string> quarantined;
  BlobStore* local = blobs_->local();
  if (!local) {
    // A remote backend cannot be listed: every blob the database references
    // is fetched and hashed (its reader checks the digest).
    MR_RETURN_IF_ERROR(CheckRemoteBlobsOf(*blobs_, refs, &r));
    return r;
  }
  for (const Digest& d : local->ListBlobs()) {
    struct stat before;
    const bool stat_ok = ::stat(local->BlobPath(d).c_str(), &before) == 0;
    auto h = HashFile(local->BlobPath(d));
    ++r.blobs_checked;
    if (!h.ok()) {
      r.problems.push_back("blob " + d.str() + ": " + h.status().message());
      continue;
    }
    r.bytes_checked += h->size;
    if (h->digest == d) continue;
    const std::string corrupt = "blob " + d.str() + " is corrupt: its bytes hash to " + h->digest.str();
    if (!repair || !stat_ok) {
      r.problems.push_back(corrupt);
      continue;
    }
    auto moved = local->Quarantine(d, before);
    if (!moved.ok()) {
      r.problems.push_back(corrupt + " (not quarantined: " + moved.status().message() + ")");
      continue;
    }
    r.repaired.push_back(corrupt + "; moved to " + *moved);
    quarantined.insert(d.str());
  }
  for (const auto& ref : refs) {
    ++r.references_checked;
    auto d = Digest::Parse(ref.digest);
    if (!d.ok()) {
      r.problems.push_back("reference to malformed digest " + ref.digest);
      continue;
    }
    auto size = local->Stat(*d);
    if (!size && quarantined.count(ref.digest))
      r.problems.push_back("referenced blob " + ref.digest +
                           " is missing (quarantined as corrupt): register a bundle that holds those bytes again, "
                           "or restore the blob from a backup");
    else if (!size) r.problems.push_back("referenced blob " + ref.digest + " is missing");
    else if (static_cast<int64_t>(*size) != ref.size)
      r.problems.push_back("referenced blob " + ref.digest + " has " + std::to_string(*size) + " bytes, expected " +
                           std::to_string(ref.size));
  }
  return r;
}

Status RegistryService::Backup(const std::string& dest_in) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dest = fs::absolute(dest_in).lexically_normal();
  {
    // Inside the data directory a backup would be lost with it (and one in
    // blobs/ would be read back as part of the store).
    const fs::path data = fs::weakly_canonical(data_dir_, ec);
    const fs::path where = fs::weakly_canonical(dest, ec);
    const auto [d, w] = std::mismatch(data.begin(), data.end(), where.begin(), where.end());
    if (d == data.end())
      return Status::InvalidArgument("backup destination " + dest.string() + " is inside the data directory " +
                                     data.string() + "; give a path outside it (another disk is best)");
  }
  if (fs::exists(dest, ec) && !(fs::is_directory(dest, ec) && fs::is_empty(dest, ec)))
    return Status::AlreadyExists(dest.string() + " exists and is not an empty directory");
  const fs::path tmp = dest.parent_path() / ("." + dest.filename().string() + ".partial-" + RandomHex(4));
  MR_RETURN_IF_ERROR(MakeDirs(tmp.string()));
  Status st = [&]() -> Status {
    // The database first: every blob it references already exists (blobs
    // are stored before rows point at them, and `gc` removes only blobs no
    // live row references; a gc running meanwhile may remove the files of a
    // version deleted after this copy: docs/operations.md says not to).
    MR_RETURN_IF_ERROR(db_->BackupTo((tmp / "registry.db").string()));
    BlobStore* local = blobs_->local();
    if (!local)
      return Status::FailedPrecondition("blobs are in " + blobs_->Describe() +
                                        ": back them up with that registry's own means; this backup holds only the "
                                        "database and the release key");
    for (const Digest& d : local->ListBlobs()) {
      fs::path to = tmp / "blobs" / "sha256" / d.shard() / d.hex();
      fs::create_directories(to.parent_path(), ec);
      if (ec) return Status::FromErrno("mkdir " + to.parent_path().string(), ec.value());
      if (::link(local->BlobPath(d).c_str(), to.c_str()) != 0) {
        fs::copy_file(local->BlobPath(d), to, ec);
        if (ec) return Status::FromErrno("copy blob " + d.str(), ec.value());
      }
    }
    fs::create_directories(tmp / "keys", ec);
    for (const char* k : {"release.key", "release.pub"}) {
      fs::copy_file(fs::path(data_dir_) / "keys" / k, tmp / "keys" / k, ec);
      if (ec) return Status::FromErrno(std::string("copy key ") + k, ec.value());
    }
    ::chmod((tmp / "keys").c_str(), 0700);
    ::chmod((tmp / "keys" / "release.key").c_str(), 0600);
    UniqueFd dfd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd.valid() || ::syncfs(dfd.get()) != 0) return Status::FromErrno("sync " + tmp.string(), errno);
    if (fs::exists(dest, ec)) fs::remove(dest, ec);
    if (::rename(tmp.c_str(), dest.c_str()) != 0) return Status::FromErrno("rename into " + dest.string(), errno);
    return FsyncDir(dest.parent_path().string());
  }();
  if (!st.ok()) RemoveAll(tmp.string());
  return st;
}

}  // namespace modelreg
