// RegistryClient's upload side: which blobs the registry lacks, resumable
// upload sessions, batches of small files, and Register.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "client/client_impl.h"
#include "client/digest_cache.h"
#include "core/file_util.h"
#include "core/hashing_reader.h"
#include "core/manifest.h"
#include "core/profile.h"
#include "core/upload_framing.h"

namespace modelreg {
using client_internal::Backoff;
using client_internal::kIoBuffer;
using client_internal::UrlEscape;

namespace {
// POST /blobs/missing only asks: retried like an upload when the registry is
// unreachable or a load balancer answers 502/503 (a replica dying mid-request).
Result<nlohmann::json> AskMissing(RegistryClient& c, int retries, const nlohmann::json& body) {
  return client_internal::RetryUnavailable(retries, [&] { return c.SendJson("POST", "/api/v1/blobs/missing", body); });
}
}  // namespace

Result<std::vector<std::string>> RegistryClient::MissingBlobs(const std::vector<std::string>& digests) {
  MR_ASSIGN_OR_RETURN(auto j, AskMissing(*this, impl_->opts.retries, {{"digests", digests}}));
  std::vector<std::string> out;
  for (const auto& d : j.value("missing", nlohmann::json::array())) out.push_back(d.get<std::string>());
  return out;
}

Result<std::vector<bool>> RegistryClient::MaybePresent(const std::vector<SampleProbe>& probes) {
  auto samples = nlohmann::json::array();
  for (const auto& p : probes) samples.push_back({{"size", p.size}, {"sample", p.sample}});
  MR_ASSIGN_OR_RETURN(
      auto j, AskMissing(*this, impl_->opts.retries, {{"digests", nlohmann::json::array()}, {"samples", samples}}));
  if (!j.contains("maybe_present") || !j["maybe_present"].is_array()) return std::vector<bool>(probes.size(), true);
  std::vector<bool> out(probes.size(), false);
  for (const auto& i : j["maybe_present"])
    if (i.is_number_unsigned() && i.get<uint64_t>() < out.size()) out[i.get<size_t>()] = true;
  return out;
}

Status RegistryClient::UploadBytes(const std::string& bytes, const Digest& digest, TransferStats* stats) {
  std::string path = "/api/v1/blobs/uploads?digest=" + UrlEscape(digest.str());
  Status st;
  for (int attempt = 0; attempt <= impl_->opts.retries; ++attempt) {
    auto r = impl_->Once([&] { return impl_->http->Post(path, impl_->Auth(), bytes, "application/octet-stream"); });
    st = impl_->FromResult(r, "upload " + digest.str());
    if (st.code() != StatusCode::kUnavailable) break;
    Backoff(attempt);
  }
  if (st.ok() && stats) {
    ++stats->blobs_uploaded;
    stats->bytes_uploaded += bytes.size();
  }
  return st;
}

namespace {

// Where an unfinished upload's session is remembered, so that a client
// killed mid-upload resumes instead of starting over:
// $MODELREG_CACHE_DIR, else $XDG_CACHE_HOME/modelreg, else ~/.cache/modelreg.
std::string ResumeJournalPath(const std::string& registry_url, const std::string& key) {
  const std::string dir = DigestCache::DefaultDir();  // the client's one cache dir
  if (dir.empty()) return "";
  // One journal per registry and blob.
  return dir + "/uploads/" + Digest::Of(registry_url).hex().substr(0, 16) + "-" + key;
}

// How much of an upload session the registry holds.
Result<uint64_t> UploadOffsetOf(RegistryClient::Impl& impl, const std::string& session) {
  return client_internal::RetryUnavailable(impl.opts.retries, [&]() -> Result<uint64_t> {
    auto g = impl.Once([&] { return impl.http->Get(session, impl.Auth()); });
    MR_RETURN_IF_ERROR(impl.FromResult(g, "upload status"));
    return std::strtoull(g->get_header_value("Upload-Offset").c_str(), nullptr, 10);
  });
}

// An upload session for one file: the one a killed client left (its
// journal names it and the registry still knows it), else a new one,
// remembered in the journal.
struct UploadSession {
  std::string journal;  // "" if the client has no cache dir
  std::string path;     // /api/v1/blobs/uploads/{id}
  uint64_t offset = 0;  // bytes the registry holds
};

Result<UploadSession> OpenUploadSession(RegistryClient::Impl& impl, const std::string& local,
                                        const std::optional<Digest>& known, uint64_t size, const struct stat& sb) {
  UploadSession u;
  const std::string journal_key =
      known ? known->hex()
            : Digest::Of(local + "|" + std::to_string(sb.st_size) + "|" + std::to_string(sb.st_mtim.tv_sec) + "." +
                         std::to_string(sb.st_mtim.tv_nsec))
                  .hex();
  u.journal = ResumeJournalPath(impl.opts.url, journal_key);
  if (!u.journal.empty()) {
    if (auto j = ReadSmallFile(u.journal, 4096); j.ok()) {
      std::string candidate = *j;
      while (!candidate.empty() && candidate.back() == '\n') candidate.pop_back();
      if (candidate.rfind("/api/v1/blobs/uploads/", 0) == 0) {
        auto off = UploadOffsetOf(impl, candidate);
        if (off.ok() && *off <= size) {
          u.path = candidate;
          u.offset = *off;
        }
      }
    }
  }
  for (int attempt = 0; u.path.empty(); ++attempt) {
    auto r = impl.Once(
        [&] { return impl.http->Post("/api/v1/blobs/uploads", impl.Auth(), "", "application/octet-stream"); });
    Status st = impl.FromResult(r, "start upload of " + local);
    if (st.ok()) {
      auto j = impl.ParseJson(r->body, "start upload");
      if (!j.ok()) return j.status();
      u.path = "/api/v1/blobs/uploads/" + j->value("upload", "");
      if (!u.journal.empty() && MakeDirs(std::filesystem::path(u.journal).parent_path().string()).ok())
        (void)WriteFileAtomic(u.journal, u.path + "\n", 0600);
    } else if (st.code() != StatusCode::kUnavailable || attempt >= impl.opts.retries) {
      return st;
    } else {
      Backoff(attempt);
    }
  }
  return u;
}

// Sends `local` (open as `fd`) from u->offset to `size` with PATCH,
// resuming from the registry's offset after a lost connection. `reader`
// (if any) hashes each piece just before it is sent.
Status SendFileBody(RegistryClient::Impl& impl, UploadSession* u, int fd, const std::string& local, uint64_t size,
                    std::optional<HashingReader>& reader, TransferStats* stats) {
  std::vector<char> buf;
  for (int attempt = 0; u->offset < size; ++attempt) {
    const uint64_t start = u->offset;
    httplib::Headers h = impl.Auth();
    h.emplace("Content-Range", std::to_string(start) + "-" + std::to_string(size - 1));
    Status read_st;
    // Again at once if it failed (offsets are checked: a server that kept
    // some of it answers 416 with its offset).
    auto r = impl.Once([&] {
      if (!read_st.ok()) return httplib::Result(nullptr, httplib::Error::Canceled);  // the file, not the network
      return impl.http->Patch(
          u->path, h, size - start,
          [&](size_t off, size_t len, httplib::DataSink& sink) {
            const uint64_t pos = start + off;
            const size_t step = std::min(len, kIoBuffer);
            if (reader && pos >= reader->position()) {
              read_st = reader->Skip(pos);
              auto piece = read_st.ok() ? reader->Next(step) : Result<std::string_view>(read_st);
              if (piece.ok() && piece->empty()) piece = Status::FailedPrecondition(local + " shrank during upload");
              if (!piece.ok()) {
                read_st = piece.status();
                return false;
              }
              if (!sink.write(piece->data(), piece->size())) return false;
              impl.Moved(piece->size());
              return true;
            }
            if (buf.empty()) buf.resize(kIoBuffer);
            ssize_t n = ::pread(fd, buf.data(), step, static_cast<off_t>(pos));
            if (n <= 0) {
              read_st = Status::FailedPrecondition(local + " shrank or became unreadable during upload");
              return false;
            }
            if (!sink.write(buf.data(), static_cast<size_t>(n))) return false;
            impl.Moved(static_cast<uint64_t>(n));
            return true;
          },
          "application/octet-stream");
    });
    if (!read_st.ok()) return read_st;
    Status st = impl.FromResult(r, "upload " + local);
    if (st.ok()) {
      if (stats) stats->bytes_uploaded += size - start;
      u->offset = size;
      return Status::OK();
    }
    const bool retryable =
        st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kOutOfRange ||
        st.code() == StatusCode::kAborted ||
        (st.code() == StatusCode::kInvalidArgument && st.message().find("cut off") != std::string::npos);
    if (!retryable || attempt >= impl.opts.retries) return st;
    // Connection lost or offsets disagree: ask the server how much it kept.
    if (st.code() != StatusCode::kOutOfRange) Backoff(attempt);
    MR_ASSIGN_OR_RETURN(uint64_t kept, UploadOffsetOf(impl, u->path));
    if (stats) stats->bytes_uploaded += kept > start ? kept - start : 0;
    u->offset = kept;
  }
  return Status::OK();
}

// Ends the session with the file's digest (the registry checks it); the
// journal goes, whatever the outcome.
Status FinishUpload(RegistryClient::Impl& impl, const UploadSession& u, const Digest& digest,
                    const std::string& local) {
  Status st;
  for (int attempt = 0; attempt <= impl.opts.retries; ++attempt) {
    auto r = impl.Once([&] {
      return impl.http->Put(u.path + "?digest=" + UrlEscape(digest.str()), impl.Auth(), "", "application/octet-stream");
    });
    st = impl.FromResult(r, "finish upload of " + local);
    if (st.code() != StatusCode::kUnavailable) break;
    Backoff(attempt);
  }
  if (!u.journal.empty()) ::unlink(u.journal.c_str());
  return st;
}

}  // namespace

Result<uint64_t> RegistryClient::UploadOffset(const std::string& session) { return UploadOffsetOf(*impl_, session); }

Status RegistryClient::UploadFile(const std::string& local, const Digest& digest, uint64_t size, TransferStats* stats) {
  return UploadFileImpl(local, digest, size, stats).status();
}

Result<Digest> RegistryClient::UploadFileHashing(const std::string& local, uint64_t size, TransferStats* stats) {
  return UploadFileImpl(local, std::nullopt, size, stats);
}

Result<Digest> RegistryClient::UploadFileImpl(const std::string& local, std::optional<Digest> known, uint64_t size,
                                              TransferStats* stats) {
  struct stat sb;
  if (::stat(local.c_str(), &sb) != 0) return Status::FromErrno("stat " + local, errno);
  UniqueFd fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("open " + local, errno);
  UploadSession u;
  std::optional<HashingReader> reader;
  for (int round = 0;; ++round) {
    MR_ASSIGN_OR_RETURN(u, OpenUploadSession(*impl_, local, known, size, sb));
    // Without a known digest a HashingReader hashes each piece of the file
    // just before this thread sends it (one pass over the bytes). The whole file
    // is hashed in order whatever is sent: after a resume, bytes the server
    // lacks that were already read are read again here (not hashed twice).
    reader.reset();
    if (!known) reader.emplace(fd.get(), local, size);
    Status st = SendFileBody(*impl_, &u, fd.get(), local, size, reader, stats);
    // The session is gone (a registry replica stopped mid-chunk and its blob
    // backend refused the rest): once more from the first byte, in a new one.
    if (st.code() == StatusCode::kNotFound && round == 0) {
      if (!u.journal.empty()) ::unlink(u.journal.c_str());
      continue;
    }
    MR_RETURN_IF_ERROR(st);
    break;
  }
  Result<Digest> hashed = known ? Result<Digest>(*known) : reader->Finish();
  if (!hashed.ok()) return hashed.status();
  const Digest digest = *hashed;
  struct stat after;
  if (::stat(local.c_str(), &after) != 0 || after.st_size != sb.st_size ||
      after.st_mtim.tv_nsec != sb.st_mtim.tv_nsec || after.st_mtim.tv_sec != sb.st_mtim.tv_sec)
    return Status::FailedPrecondition(local + " changed during upload");
  MR_RETURN_IF_ERROR(FinishUpload(*impl_, u, digest, local));
  if (stats) ++stats->blobs_uploaded;
  return digest;
}

Status RegistryClient::UploadBatch(const std::vector<const LocalFile*>& files, TransferStats* stats) {
  if (files.empty()) return Status::OK();
  std::vector<std::string> headers;
  uint64_t total = 0, payload = 0;
  for (const auto* f : files) {
    headers.push_back(BatchFrameHeader(f->digest, f->size));
    total += headers.back().size() + f->size;
    payload += f->size;
  }
  Status st;
  for (int attempt = 0; attempt <= impl_->opts.retries; ++attempt) {
    size_t idx = 0;
    uint64_t pos = 0;  // position inside header + file of files[idx]
    UniqueFd cur;
    std::vector<char> buf(kIoBuffer);
    Status read_st;
    auto provider = [&](size_t, size_t len, httplib::DataSink& sink) {
      if (idx >= files.size()) return false;
      const std::string& hdr = headers[idx];
      if (pos < hdr.size()) {
        size_t n = std::min<size_t>(hdr.size() - pos, len);
        if (!sink.write(hdr.data() + pos, n)) return false;
        pos += n;
      } else {
        if (!cur.valid()) {
          cur = UniqueFd(::open(files[idx]->local.c_str(), O_RDONLY | O_CLOEXEC));
          if (!cur.valid()) {
            read_st = Status::FromErrno("open " + files[idx]->local, errno);
            return false;
          }
        }
        uint64_t foff = pos - hdr.size();
        uint64_t left = files[idx]->size - foff;
        if (left > 0) {
          size_t want = static_cast<size_t>(std::min<uint64_t>({left, len, buf.size()}));
          ssize_t n = ::pread(cur.get(), buf.data(), want, static_cast<off_t>(foff));
          if (n <= 0) {
            read_st = Status::FailedPrecondition(files[idx]->local + " changed during upload");
            return false;
          }
          if (!sink.write(buf.data(), static_cast<size_t>(n))) return false;
          impl_->Moved(static_cast<uint64_t>(n));
          pos += static_cast<uint64_t>(n);
          left -= static_cast<uint64_t>(n);
        }
        if (left == 0) {
          cur = UniqueFd();
          ++idx;
          pos = 0;
        }
      }
      return true;
    };
    auto r = impl_->Once([&] {
      if (!read_st.ok()) return httplib::Result(nullptr, httplib::Error::Canceled);  // the file, not the network
      idx = 0;                                                                       // from the first frame again
      pos = 0;
      cur = UniqueFd();
      return impl_->http->Post("/api/v1/blobs/batch", impl_->Auth(), total, provider,
                               "application/vnd.modelreg.blob-batch");
    });
    if (!read_st.ok()) return read_st;
    st = impl_->FromResult(r, "batch upload");
    if (st.code() != StatusCode::kUnavailable) break;
    Backoff(attempt);
  }
  if (st.ok() && stats) {
    stats->blobs_uploaded += files.size();
    stats->bytes_uploaded += payload;
  }
  return st;
}

Result<nlohmann::json> RegistryClient::PutManifest(const std::string& model, const std::string& manifest) {
  std::string path = "/api/v1/models/" + UrlEscape(model) + "/versions";
  Status st;
  for (int attempt = 0; attempt <= impl_->opts.retries; ++attempt) {
    auto r = impl_->Once([&] { return impl_->http->Put(path, impl_->Auth(), manifest, kOciManifestMediaType); });
    st = impl_->FromResult(r, "register " + model);
    if (st.ok()) return impl_->ParseJson(r->body, "register");
    if (st.code() != StatusCode::kUnavailable) break;
    Backoff(attempt);
  }
  return st;
}

Result<RegisterOutcome> RegistryClient::Register(const std::string& model, const std::string& dir,
                                                 const LineageRecord& lineage_in, const std::string& profile) {
  MR_RETURN_IF_ERROR(ValidateModelName(model));
  // Large files are hashed while they are uploaded (one read instead of
  // two), unless the digest cache already knows them unchanged.
  std::atomic<uint64_t>* hashed = impl_->opts.progress ? &impl_->opts.progress->hashed : nullptr;
  MR_ASSIGN_OR_RETURN(auto files, ScanBundleDir(dir, BundleLimits{}, impl_->opts.stream_hash_above, hashed));
  // A model without a file is a training job that wrote elsewhere: an agent
  // would deploy an empty directory.
  if (files.empty())
    return Status::FailedPrecondition(
        "bundle directory " + dir +
        " holds no files (empty directories are not part of a bundle): nothing to register");
  // The reference profile: one more bundle file, made here from bytes.
  LineageRecord lineage = lineage_in;
  std::optional<BundleFile> profile_file;
  if (!profile.empty()) {
    for (const auto& f : files)
      if (f.path == kProfilePath)
        return Status::InvalidArgument("bundle directory " + dir + " already holds " + kProfilePath +
                                       ": remove it, or register without --profile-data/--schema");
    profile_file = BundleFile{kProfilePath, Digest::Of(profile), profile.size()};
    lineage.profile = ProfileRef{profile_file->digest, profile_file->size};
  }
  DigestCache cache(DigestCache::DefaultDir());
  RegisterOutcome out;
  for (auto& f : files) {
    if (f.hashed) continue;
    if (auto d = cache.Lookup(f.local)) {
      f.digest = *d;
      f.hashed = true;
    }
  }
  // A large file that no blob of the registry can be (none has its size and
  // sample) is hashed while it uploads. The others are hashed first, so
  // that a known one is not sent again (an unchanged bundle re-registered
  // from a machine without the digest cache uploads nothing).
  std::vector<LocalFile*> unhashed;
  std::vector<SampleProbe> probes;
  for (auto& f : files) {
    if (f.hashed) continue;
    UniqueFd fd(::open(f.local.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno("open " + f.local, errno);
    MR_ASSIGN_OR_RETURN(Digest sample, SampleFd(fd.get(), f.size, f.local));
    unhashed.push_back(&f);
    probes.push_back({f.size, sample.str()});
  }
  if (!probes.empty()) {
    MR_ASSIGN_OR_RETURN(auto maybe, MaybePresent(probes));
    for (size_t i = 0; i < unhashed.size(); ++i) {
      if (!maybe[i]) continue;
      LocalFile& f = *unhashed[i];
      struct stat before;
      if (::stat(f.local.c_str(), &before) != 0) return Status::FromErrno("stat " + f.local, errno);
      MR_ASSIGN_OR_RETURN(auto h, HashFile(f.local, hashed));
      if (h.size != f.size) return Status::FailedPrecondition(f.local + " changed while it was read");
      f.digest = h.digest;
      f.hashed = true;
      cache.Store(f.local, before, f.digest);
    }
  }
  std::set<std::string> streamed;
  for (auto& f : files) {
    if (f.hashed) continue;
    struct stat before;
    if (::stat(f.local.c_str(), &before) != 0) return Status::FromErrno("stat " + f.local, errno);
    if (impl_->opts.progress) impl_->opts.progress->total += f.size;  // progress: what will be sent
    MR_ASSIGN_OR_RETURN(f.digest, UploadFileHashing(f.local, f.size, &out.stats));
    f.hashed = true;
    streamed.insert(f.digest.str());
    cache.Store(f.local, before, f.digest);
  }
  const std::string config = SerializeLineage(lineage);
  const Digest config_digest = Digest::Of(config);
  std::vector<BundleFile> bundle = ToBundleFiles(files);
  if (profile_file) bundle.push_back(*profile_file);
  Manifest m = BuildManifest(kModelArtifactType, Descriptor{kLineageMediaType, config_digest, config.size(), ""},
                             std::move(bundle));
  const std::string manifest = SerializeManifest(m);
  const BundleLimits limits;
  if (manifest.size() > limits.max_manifest_bytes)
    return Status::ResourceExhausted("manifest of " + std::to_string(files.size()) + " files is " +
                                     std::to_string(manifest.size()) + " bytes; the limit is " +
                                     std::to_string(limits.max_manifest_bytes));

  out.stats.files = m.layers.size();  // the profile included
  out.stats.bytes_total = m.TotalLayerBytes();
  std::vector<std::string> digests = {config_digest.str()};
  for (const auto& f : files) digests.push_back(f.digest.str());
  if (profile_file) digests.push_back(profile_file->digest.str());
  std::sort(digests.begin(), digests.end());
  digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
  // A blob the registry had when asked may be gone when the manifest comes
  // (`admin gc` removed it meanwhile: docs/operations.md "Retention and
  // garbage collection"); the registry then answers "not uploaded" and
  // records nothing, and the blobs missing now are sent again.
  std::set<std::string> sent = streamed;
  for (int round = 0;; ++round) {
    MR_ASSIGN_OR_RETURN(auto missing_list, MissingBlobs(digests));
    std::set<std::string> missing(missing_list.begin(), missing_list.end());
    MR_RETURN_IF_ERROR(UploadMissing(missing, round == 0, config, config_digest, profile, profile_file, files, streamed,
                                     &sent, &out.stats));
    auto v = PutManifest(model, manifest);
    if (v.ok()) {
      out.version = std::move(*v);
      return out;
    }
    const bool removed_meanwhile = v.status().code() == StatusCode::kFailedPrecondition &&
                                   v.status().message().find("not uploaded") != std::string::npos;
    if (!removed_meanwhile || round >= 4) return v.status();
    sent.clear();  // every blob missing now is sent again
  }
}

Status RegistryClient::UploadMissing(const std::set<std::string>& missing, bool count_progress,
                                     const std::string& config, const Digest& config_digest, const std::string& profile,
                                     const std::optional<BundleFile>& profile_file, const std::vector<LocalFile>& files,
                                     const std::set<std::string>& streamed, std::set<std::string>* sent_io,
                                     TransferStats* stats) {
  std::set<std::string>& sent = *sent_io;
  if (count_progress && impl_->opts.progress) {  // progress: what will be sent
    std::set<std::string> counted = streamed;
    for (const auto& f : files)
      if (missing.count(f.digest.str()) && counted.insert(f.digest.str()).second) impl_->opts.progress->total += f.size;
  }
  if (missing.count(config_digest.str())) MR_RETURN_IF_ERROR(UploadBytes(config, config_digest, stats));
  if (profile_file && missing.count(profile_file->digest.str()) && profile_file->digest != config_digest)
    MR_RETURN_IF_ERROR(UploadBytes(profile, profile_file->digest, stats));
  std::vector<const LocalFile*> batch;
  uint64_t batch_bytes = 0;
  for (const auto& f : files) {
    if (!missing.count(f.digest.str()) || !sent.insert(f.digest.str()).second) continue;
    if (f.size > impl_->opts.batch_threshold) {
      MR_RETURN_IF_ERROR(UploadFile(f.local, f.digest, f.size, stats));
      continue;
    }
    batch.push_back(&f);
    batch_bytes += f.size;
    if (batch_bytes >= impl_->opts.batch_max_bytes || batch.size() >= 10000) {
      MR_RETURN_IF_ERROR(UploadBatch(batch, stats));
      batch.clear();
      batch_bytes = 0;
    }
  }
  return UploadBatch(batch, stats);
}

}  // namespace modelreg
