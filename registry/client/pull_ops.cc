// RegistryClient's download side: blobs one by one with Range resume, many
// small ones in one blobs/fetch request, and Pull into a directory that is
// never left half-written.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "client/client_impl.h"
#include "client/pull_dir.h"
#include "core/blob_splitter.h"
#include "core/file_util.h"
#include "core/manifest.h"
#include "core/pipelined_writer.h"
#include "net/blob_download.h"

namespace modelreg {
using client_internal::kIoBuffer;
using client_internal::UrlEscape;

namespace {

using net::DiskFullIsFinal;

// How RegistryClient reaches the registry for blob downloads
// (net/blob_download.h: the retry policy is there).
net::BlobTransfer Transfer(RegistryClient::Impl& impl, TransferStats* stats) {
  net::BlobTransfer t;
  t.http = impl.http.get();
  t.registry_url = impl.opts.url;
  const httplib::Headers auth = impl.Auth();
  t.headers.assign(auth.begin(), auth.end());
  t.connection = [&impl] { return impl.Current(); };
  t.read_timeout_ms = impl.opts.timeout_s * 1000;
  t.retries = impl.opts.retries;
  t.direct_io = impl.opts.direct_io;
  t.moved = [&impl, stats](uint64_t n) {
    if (stats) stats->bytes_downloaded += n;
    impl.Moved(n);
  };
  return t;
}

// Downloads `items` (name: the file to create) with POST {base}/blobs/fetch.
// False if the server has no such endpoint (404).
Result<bool> FetchBlobs(RegistryClient::Impl& impl, const std::string& base, const std::vector<SplitBlob>& items,
                        TransferStats* stats) {
  net::BatchFiles files;
  files.open = [&](size_t i) { return CreateFresh(items[i].name); };  // after an attempt cut short too
  files.done = [](size_t, int) { return Status::OK(); };              // made durable by the pull, all at once
  return net::FetchBlobBatch(Transfer(impl, stats), base + "/blobs/fetch", items, files);
}

Status CopyFile(const std::string& from, const std::string& to) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Status::FromErrno("open " + from, errno);
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.valid()) return Status::FromErrno("create " + to, errno);
  std::vector<char> buf(kIoBuffer);
  for (;;) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0) return Status::FromErrno("read " + from, errno);
    if (n == 0) return Status::OK();
    MR_RETURN_IF_ERROR(WriteAll(out.get(), buf.data(), static_cast<size_t>(n), to));
  }
}

// What a pull into `tmp` has to do for `m`, after what a killed pull left:
// a digest's first file is downloaded (small ones in batches, large ones
// one by one), its other files are copied from it.
struct PullPlan {
  std::vector<SplitBlob> small, large;
  std::vector<std::pair<std::string, std::string>> copies;  // (to, from)
  std::map<std::string, uint64_t> resume;                   // large file -> bytes a killed pull left
};

Result<PullPlan> PlanPull(const Manifest& m, const std::filesystem::path& tmp, const PullDir::Leftovers& left,
                          TransferStats* stats) {
  namespace fs = std::filesystem;
  PullPlan plan;
  std::map<std::string, std::string> first;  // digest -> its first file
  std::error_code ec;
  for (const auto& l : m.layers) {
    fs::path target = tmp / l.title;  // title validated: relative, no '..'
    fs::create_directories(target.parent_path(), ec);
    if (ec) return DiskFullIsFinal(Status::FromErrno("mkdir " + target.parent_path().string(), ec.value()));
    ++stats->files;
    stats->bytes_total += l.size;
    if (left.whole.count(target.string())) {  // left by a killed pull, verified
      stats->bytes_reused += l.size;
      first.emplace(l.digest.str(), target.string());
      continue;
    }
    auto [it, fresh] = first.emplace(l.digest.str(), target.string());
    if (!fresh) plan.copies.emplace_back(target.string(), it->second);
    else (l.size <= kFetchBlobMax ? plan.small : plan.large).push_back(SplitBlob{l.digest, l.size, target.string()});
  }
  // A large file a killed pull cut short resumes where it ended; other
  // leftovers of files still to download go.
  for (const auto& [p, have] : left.prefix) {
    const bool is_large =
        std::any_of(plan.large.begin(), plan.large.end(), [&](const SplitBlob& f) { return f.name == p; });
    if (is_large) plan.resume[p] = have;
    else ::unlink(p.c_str());
  }
  return plan;
}

// Bytes the plan will download (for a progress display's total).
uint64_t BytesToDownload(const PullPlan& plan) {
  uint64_t n = 0;
  for (const auto* list : {&plan.small, &plan.large})
    for (const auto& f : *list) n += f.size;
  for (const auto& [p, have] : plan.resume) n -= have;
  return n;
}

Status DownloadPlan(RegistryClient::Impl& impl, const std::string& base, const PullPlan& plan, TransferStats* stats) {
  const net::BlobTransfer transfer = Transfer(impl, stats);
  auto download = [&](const SplitBlob& f) {
    net::BlobFile file{f.name, f.digest, f.size, plan.resume.count(f.name) > 0, false};
    net::BlobDownloadInfo info;
    MR_RETURN_IF_ERROR(net::DownloadBlob(transfer, base + "/blobs/" + f.digest.str(), file, &info));
    stats->bytes_reused += info.reused;
    return Status::OK();
  };
  MR_RETURN_IF_ERROR(FetchInBatches(
      plan.small, [&](const std::vector<SplitBlob>& batch) { return FetchBlobs(impl, base, batch, stats); }, download));
  for (const auto& f : plan.large) MR_RETURN_IF_ERROR(download(f));
  for (const auto& [to, from] : plan.copies) MR_RETURN_IF_ERROR(DiskFullIsFinal(CopyFile(from, to)));
  return Status::OK();
}

// Durability before the rename. A few files: fsync each (their writeback
// started while downloading) and their directories. Many files: one
// syncfs, cheaper than thousands of fsyncs, though it also waits for other
// programs' dirty data on the filesystem.
Status MakeDurable(const Manifest& m, const std::filesystem::path& tmp) {
  namespace fs = std::filesystem;
  if (m.layers.size() > 64) {
    UniqueFd dfd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd.valid() || ::syncfs(dfd.get()) != 0)
      return DiskFullIsFinal(Status::FromErrno("sync " + tmp.string(), errno));
    return Status::OK();
  }
  std::set<std::string> dirs = {tmp.string()};
  for (const auto& l : m.layers) {
    fs::path target = tmp / l.title;
    UniqueFd f(::open(target.c_str(), O_RDONLY | O_CLOEXEC));
    if (!f.valid() || ::fsync(f.get()) != 0)
      return DiskFullIsFinal(Status::FromErrno("fsync " + target.string(), errno));
    for (fs::path d = target.parent_path(); d.string().size() >= tmp.string().size(); d = d.parent_path()) {
      dirs.insert(d.string());
      if (d == tmp) break;
    }
  }
  for (const auto& d : dirs) MR_RETURN_IF_ERROR(FsyncDir(d));
  return Status::OK();
}

// Fills the pull's temporary directory with `m`'s files, verified and
// durable, and renames it to DEST.
Status FillPullDir(RegistryClient::Impl& impl, const std::string& base, const Manifest& m, PullDir& partial,
                   TransferStats* stats) {
  MR_ASSIGN_OR_RETURN(PullDir::Leftovers left, partial.KeepVerified(m));
  MR_ASSIGN_OR_RETURN(PullPlan plan, PlanPull(m, partial.path(), left, stats));
  if (impl.opts.progress) impl.opts.progress->total.store(BytesToDownload(plan), std::memory_order_relaxed);
  MR_RETURN_IF_ERROR(DownloadPlan(impl, base, plan, stats));
  MR_RETURN_IF_ERROR(MakeDurable(m, partial.path()));
  return partial.Commit();
}

}  // namespace

Result<PullOutcome> RegistryClient::Pull(const std::string& model, const std::string& ref, const std::string& dest_in) {
  namespace fs = std::filesystem;
  MR_RETURN_IF_ERROR(ValidateModelName(model));
  std::string base = "/api/v1/models/" + UrlEscape(model);
  MR_ASSIGN_OR_RETURN(auto v, GetJson(base + "/versions/" + UrlEscape(ref)));
  MR_ASSIGN_OR_RETURN(Digest digest, Digest::Parse(v.value("digest", "")));
  auto r =
      impl_->Once([&] { return impl_->http->Get(base + "/versions/" + UrlEscape(ref) + "/manifest", impl_->Auth()); });
  MR_RETURN_IF_ERROR(impl_->FromResult(r, "manifest of " + model + " " + ref));
  if (Digest::Of(r->body) != digest)
    return Status::DataLoss("manifest of " + model + " " + ref + " does not hash to " + digest.str());
  MR_ASSIGN_OR_RETURN(Manifest m, ParseManifest(r->body));

  fs::path dest = fs::absolute(dest_in).lexically_normal();
  if (dest.filename().empty()) dest = dest.parent_path();
  std::error_code ec;
  if (fs::exists(dest, ec) && !(fs::is_directory(dest) && fs::is_empty(dest)))
    return Status::AlreadyExists(dest.string() + " exists and is not an empty directory");
  fs::path parent = dest.parent_path();
  MR_RETURN_IF_ERROR(MakeDirs(parent.string()));
  // A temporary directory beside DEST: a new one, or the one a killed pull
  // of this bundle left (its files that verify are kept). Removed on error.
  MR_ASSIGN_OR_RETURN(auto partial, PullDir::Open(dest, digest));
  const fs::path tmp = partial->path();

  PullOutcome out;
  out.digest = digest.str();
  out.version = v.value("version", 0);
  Status st = FillPullDir(*impl_, base, m, *partial, &out.stats);
  if (!st.ok()) {
    // The registry could not be reached (after the retries): keep what
    // arrived for the next pull into DEST. Any other error: `partial`
    // removes the directory.
    if (st.code() == StatusCode::kUnavailable && out.stats.bytes_downloaded + out.stats.bytes_reused > 0) {
      partial->Keep();
      return Status(st.code(), st.message() + "; what arrived is kept in " + tmp.string() + ": the same pull into " +
                                   dest.string() + " continues from it");
    }
    return st;
  }
  return out;
}

}  // namespace modelreg
