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
#include "net/blob_fetch.h"
#include "net/socket_read.h"

namespace modelreg {
using client_internal::Backoff;
using client_internal::kIoBuffer;
using client_internal::UrlEscape;

namespace {

constexpr uint64_t kMinDirectDownload = 4 << 20;

// An error of this machine's disk during a pull. A full disk (ENOSPC,
// EDQUOT, EFBIG) is Unavailable in core/status.cc, which is right for a
// server ("try later") but would read here like a registry out of reach:
// ResourceExhausted instead, so that it is neither retried nor taken for a
// network failure.
Status LocalDisk(Status st) {
  if (st.code() == StatusCode::kUnavailable) return Status::ResourceExhausted(st.message());
  return st;
}

}  // namespace

namespace {

// Downloads one blob into `path` (created new), verifying size and digest
// while streaming; resumes with Range after a lost connection.
// `resume_from` > 0: `path` already holds that many bytes of the blob (left
// by a killed pull; hashed here, not trusted until the whole blob verifies).
Status DownloadBlob(RegistryClient::Impl& impl, const std::string& url_path, const std::string& path,
                    const Digest& digest, uint64_t size, TransferStats* stats, uint64_t resume_from = 0) {
  UniqueFd fd(resume_from > 0 ? ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW)
                              : ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return LocalDisk(Status::FromErrno("create " + path, errno));
  // This thread reads the socket; helper threads hash, write and sync.
  std::unique_ptr<Sha256> hash;
  std::unique_ptr<PipelinedWriter> writer;
  auto start_at = [&](uint64_t offset) {  // a fresh writer from `offset`, after `hash` took [0, offset)
    writer = std::make_unique<PipelinedWriter>(fd.get(), path, hash.get(), offset, size - offset,
                                               PipelinedWriter::kSyncEvery, impl.opts.direct_io,
                                               PipelinedWriter::HashOn::kThread);
  };
  auto start_over = [&] {  // a fresh hash and writer from offset 0
    hash = std::make_unique<Sha256>();
    start_at(0);
  };
  uint64_t got = 0;
  if (resume_from > 0 && resume_from < size) {
    hash = std::make_unique<Sha256>();
    MR_RETURN_IF_ERROR(HashFd(fd.get(), hash.get(), path));
    if (hash->bytes() != resume_from) return Status::FailedPrecondition(path + " changed while the pull resumed it");
    start_at(resume_from);
    got = resume_from;
  } else {
    start_over();
  }
  Status io;     // a transfer error (Unavailable: retried)
  Status local;  // an error of this machine's disk (a full one too): final
  auto take = [&](const char* data, size_t n) {
    if (got + n > size) {
      io = Status::DataLoss("blob " + digest.str() + " is longer than its manifest size");
      return false;
    }
    local = writer->Write(data, n);
    got += n;
    if (stats) stats->bytes_downloaded += n;
    impl.Moved(n);
    return local.ok();
  };
  for (int attempt = 0;; ++attempt) {
    httplib::Headers h = impl.Auth();
    if (got > 0) h.emplace("Range", "bytes=" + std::to_string(got) + "-");
    int status = 0;
    bool direct_done = false;
    uint64_t resp_len = 0, resp_got = 0;  // this response's Content-Length and bytes so far
    std::string error_body;               // the body of an error answer (the registry's JSON error)
    auto r = impl.http->Get(
        url_path, h,
        [&](const httplib::Response& res) {
          status = res.status;
          const std::string cl = res.get_header_value("Content-Length");
          resp_len = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
          if (got > 0 && res.status == 200) {  // server ignored Range: start over
            local = writer->Finish();
            if (local.ok() && (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0))
              local = Status::FromErrno("truncate " + path, errno);
            if (!local.ok()) return false;
            start_over();
            got = 0;
          }
          return true;  // an error answer's body is read too: it says what went wrong
        },
        [&](const char* data, size_t n) {
          if (status != 200 && status != 206) {
            net::AppendErrorBody(&error_body, data, n);
            return true;
          }
          if (!take(data, n)) return false;
          resp_got += n;
          // A large body: after httplib's first chunk (what it had buffered
          // with the headers) nothing of the body is left inside httplib;
          // read the rest from the connection straight into the writer's
          // buffers, then stop httplib (the connection is then closed, which
          // costs one connect).
          const Connection conn = impl.Current();
          const uint64_t rest = resp_len > resp_got ? resp_len - resp_got : 0;
          if (rest >= kMinDirectDownload && conn.fd >= 0) {
            if (got + rest > size) {
              io = Status::DataLoss("blob " + digest.str() + " is longer than its manifest size");
              return false;
            }
            Status st = ReadConnectionInto(
                conn, rest, impl.opts.timeout_s * 1000, [&] { return writer->Space(); },
                [&](size_t n) {
                  local = writer->Commit(n);
                  MR_RETURN_IF_ERROR(local);
                  got += n;
                  if (stats) stats->bytes_downloaded += n;
                  impl.Moved(n);
                  return Status::OK();
                });
            if (!st.ok() && local.ok()) io = st;  // Unavailable: resumed with Range below
            direct_done = st.ok();
            return false;
          }
          return true;
        });
    MR_RETURN_IF_ERROR(LocalDisk(local));
    if (direct_done && got == size) break;
    if (io.code() == StatusCode::kUnavailable && attempt < impl.opts.retries) {
      io = Status::OK();
      Backoff(attempt);
      continue;
    }
    MR_RETURN_IF_ERROR(io);
    if (r && (status == 200 || status == 206) && got == size) break;
    Status st = r ? (status >= 300 ? impl.FromResponse(status, error_body, "download " + digest.str())
                                   : Status::Unavailable("download of " + digest.str() + " ended early"))
                  : impl.FromResult(r, "download " + digest.str());
    if (st.code() != StatusCode::kUnavailable || attempt >= impl.opts.retries) return st;
    Backoff(attempt);
  }
  MR_RETURN_IF_ERROR(LocalDisk(writer->Finish()));
  Digest d = hash->Finish();
  if (d != digest)
    return Status::DataLoss("downloaded bytes of " + path + " hash to " + d.str() + ", manifest says " +
                            digest.str());
  return Status::OK();
}

// Downloads `items` (name: the file to create) with POST {base}/blobs/fetch:
// the answer is their bytes concatenated in the order asked, cut and
// checked by a BlobSplitter as it streams. After a lost connection it asks
// again for the files not yet complete. False if the server answers 404 (a
// server without the endpoint: the caller falls back to one GET per file,
// which also names a blob that is really missing).
Result<bool> FetchBlobs(RegistryClient::Impl& impl, const std::string& base, const std::vector<SplitBlob>& items,
                        TransferStats* stats) {
  const httplib::Headers auth = impl.Auth();
  const std::vector<std::pair<std::string, std::string>> headers(auth.begin(), auth.end());
  size_t done = 0;  // items[0, done) are complete and checked
  for (int attempt = 0; done < items.size(); ++attempt) {
    BlobSplitter split(
        items, done, [&](size_t i) { return CreateFresh(items[i].name); },  // after an attempt cut short too
        [](size_t, int) { return Status::OK(); });                          // made durable by the pull, all at once
    uint64_t received = 0;
    net::FetchAnswer a = net::PostFetch(*impl.http, base + "/blobs/fetch", headers, items, done, split, &received);
    if (stats) stats->bytes_downloaded += received;
    impl.Moved(received);
    done = split.complete();
    MR_RETURN_IF_ERROR(LocalDisk(a.io));
    if (a.transport_ok && a.status == 404) return false;
    Status answer = a.transport_ok && a.status != 200 ? impl.FromResponse(a.status, a.error_body, "fetch blobs")
                                                       : Status::OK();
    if (answer.code() != StatusCode::kUnavailable) MR_RETURN_IF_ERROR(answer);  // 503: try again below
    if (done == items.size()) break;
    if (attempt >= impl.opts.retries)
      return !answer.ok() ? answer
                          : Status::Unavailable("fetch of " + std::to_string(items.size()) + " blobs " +
                                                (a.transport_ok ? "ended early" : "failed: connection lost"));
    Backoff(attempt);
  }
  return true;
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

}  // namespace

Result<PullOutcome> RegistryClient::Pull(const std::string& model, const std::string& ref,
                                         const std::string& dest_in) {
  namespace fs = std::filesystem;
  MR_RETURN_IF_ERROR(ValidateModelName(model));
  std::string base = "/api/v1/models/" + UrlEscape(model);
  MR_ASSIGN_OR_RETURN(auto v, GetJson(base + "/versions/" + UrlEscape(ref)));
  MR_ASSIGN_OR_RETURN(Digest digest, Digest::Parse(v.value("digest", "")));
  auto r = impl_->Once(
      [&] { return impl_->http->Get(base + "/versions/" + UrlEscape(ref) + "/manifest", impl_->Auth()); });
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
  Status st = [&]() -> Status {
    MR_ASSIGN_OR_RETURN(PullDir::Leftovers left, partial->KeepVerified(m));
    // A digest's first file is downloaded (small ones in batches, large
    // ones one by one); its other files are copied from it.
    std::map<std::string, std::string> first;  // digest -> its first file
    std::vector<SplitBlob> small, large;
    std::vector<std::pair<std::string, std::string>> copies;  // (to, from)
    for (const auto& l : m.layers) {
      fs::path target = tmp / l.title;  // title validated: relative, no '..'
      fs::create_directories(target.parent_path(), ec);
      if (ec) return LocalDisk(Status::FromErrno("mkdir " + target.parent_path().string(), ec.value()));
      ++out.stats.files;
      out.stats.bytes_total += l.size;
      if (left.whole.count(target.string())) {  // left by a killed pull, verified
        out.stats.bytes_reused += l.size;
        first.emplace(l.digest.str(), target.string());
        continue;
      }
      auto [it, fresh] = first.emplace(l.digest.str(), target.string());
      if (!fresh)
        copies.emplace_back(target.string(), it->second);
      else
        (l.size <= kFetchBlobMax ? small : large).push_back(SplitBlob{l.digest, l.size, target.string()});
    }
    // A large file a killed pull cut short resumes where it ended; other
    // leftovers of files still to download go.
    std::map<std::string, uint64_t> resume;
    for (const auto& [p, have] : left.prefix) {
      const bool is_large = std::any_of(large.begin(), large.end(), [&](const SplitBlob& f) { return f.name == p; });
      if (is_large) resume[p] = have;
      else ::unlink(p.c_str());
    }
    if (impl_->opts.progress) {
      uint64_t to_download = 0;
      for (const auto* list : {&small, &large})
        for (const auto& f : *list) to_download += f.size;
      for (const auto& [p, have] : resume) to_download -= have;
      impl_->opts.progress->total.store(to_download, std::memory_order_relaxed);
    }
    auto download = [&](const SplitBlob& f) {
      const std::string url = base + "/blobs/" + f.digest.str();
      auto r = resume.find(f.name);
      if (r == resume.end()) return DownloadBlob(*impl_, url, f.name, f.digest, f.size, &out.stats);
      Status st = DownloadBlob(*impl_, url, f.name, f.digest, f.size, &out.stats, r->second);
      if (st.ok()) {
        out.stats.bytes_reused += r->second;
        return st;
      }
      if (st.code() != StatusCode::kDataLoss) return st;
      // The kept prefix was not the blob's (a machine that crashed while
      // writing it): once more from the start.
      if (::unlink(f.name.c_str()) != 0) return Status::FromErrno("remove " + f.name, errno);
      return DownloadBlob(*impl_, url, f.name, f.digest, f.size, &out.stats);
    };
    MR_RETURN_IF_ERROR(FetchInBatches(
        small, [&](const std::vector<SplitBlob>& batch) { return FetchBlobs(*impl_, base, batch, &out.stats); },
        download));
    for (const auto& f : large) MR_RETURN_IF_ERROR(download(f));
    for (const auto& [to, from] : copies) MR_RETURN_IF_ERROR(LocalDisk(CopyFile(from, to)));
    // Durability before the rename. A few files: fsync each (their
    // writeback started while downloading) and their directories. Many
    // files: one syncfs, cheaper than thousands of fsyncs, though it also
    // waits for other programs' dirty data on the filesystem.
    if (m.layers.size() <= 64) {
      std::set<std::string> dirs = {tmp.string()};
      for (const auto& l : m.layers) {
        fs::path target = tmp / l.title;
        UniqueFd f(::open(target.c_str(), O_RDONLY | O_CLOEXEC));
        if (!f.valid() || ::fsync(f.get()) != 0) return LocalDisk(Status::FromErrno("fsync " + target.string(), errno));
        for (fs::path d = target.parent_path(); d.string().size() >= tmp.string().size(); d = d.parent_path()) {
          dirs.insert(d.string());
          if (d == tmp) break;
        }
      }
      for (const auto& d : dirs) MR_RETURN_IF_ERROR(FsyncDir(d));
    } else {
      UniqueFd dfd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dfd.valid() || ::syncfs(dfd.get()) != 0) return LocalDisk(Status::FromErrno("sync " + tmp.string(), errno));
    }
    return partial->Commit();
  }();
  if (!st.ok()) {
    // The registry could not be reached (after the retries): keep what
    // arrived for the next pull into DEST. Any other error: `partial`
    // removes the directory.
    if (st.code() == StatusCode::kUnavailable && out.stats.bytes_downloaded + out.stats.bytes_reused > 0) {
      partial->Keep();
      return Status(st.code(), st.message() + "; what arrived is kept in " + tmp.string() +
                                   ": the same pull into " + dest.string() + " continues from it");
    }
    return st;
  }
  return out;
}

}  // namespace modelreg
