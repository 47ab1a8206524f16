// OciBackend against a real docker-registry (CNCF distribution 2.8) that the
// test starts (tests/support/oci_registry.h): blobs, upload sessions
// continued by a second backend instance (another replica), wrong bytes in
// the registry's storage caught and never handed out whole, the backend
// down answering Unavailable, and the service's register, download and fsck
// on top of it.
#include "blob/oci_backend.h"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/manifest.h"
#include "support/oci_registry.h"
#include "support/service_registry.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::OciRegistry;
using testing::TempDir;

#define REQUIRE_OCI_REGISTRY()                                                                   \
  if (!OciRegistry::Available()) {                                                               \
    WARN("SKIPPED: " << OciRegistry::kBinary << " is not installed (scripts/test installs it)"); \
    return;                                                                                      \
  }

std::unique_ptr<BlobBackend> OpenBackend(const OciRegistry& reg, const std::string& data_dir,
                                         size_t chunk_bytes = 16u << 20) {
  auto cfg = ParseOciUrl(reg.blobs_url());
  REQUIRE(cfg.ok());
  cfg->chunk_bytes = chunk_bytes;
  auto b = OpenOciBackend(*cfg, data_dir);
  INFO(b.status().ToString());
  REQUIRE(b.ok());
  return std::move(b).value();
}

std::string ReadAll(BlobReader& r, Status* st) {
  std::string out;
  std::vector<char> buf(1 << 16);
  while (out.size() < r.size()) {
    auto n = r.ReadAt(out.size(), buf.data(), buf.size());
    if (!n.ok()) {
      *st = n.status();
      return out;
    }
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  *st = Status::OK();
  return out;
}

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u + static_cast<uint32_t>(seed);
  for (auto& c : s) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

// Overwrites the registry's copy of a blob with other bytes of the same size.
void Tamper(const OciRegistry& reg, const Digest& d, size_t at) {
  std::fstream f(reg.BlobDataPath(d.str()), std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

TEST_CASE("ParseOciUrl: oci:// with TLS, oci+http:// only on loopback, prefixes are OCI names", "[blob][oci]") {
  auto a = ParseOciUrl("oci://registry.example:5000/team/models");
  REQUIRE(a.ok());
  CHECK(a->host == "registry.example");
  CHECK(a->port == 5000);
  CHECK(a->prefix == "team/models");
  CHECK_FALSE(a->plain_http);
  auto b = ParseOciUrl("oci://ghcr.io/acme");
  REQUIRE(b.ok());
  CHECK(b->port == 443);
  auto c = ParseOciUrl("oci+http://127.0.0.1:5000/mr");
  REQUIRE(c.ok());
  CHECK(c->plain_http);
  CHECK(ParseOciUrl("oci+http://registry.example:5000/mr").status().message().find("loopback") != std::string::npos);
  CHECK(ParseOciUrl("http://127.0.0.1:5000/mr").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseOciUrl("oci://127.0.0.1:5000").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseOciUrl("oci://127.0.0.1:5000/Models").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseOciUrl("oci://u:p@127.0.0.1:5000/mr").status().message().find("no credentials in the URL") !=
        std::string::npos);
}

TEST_CASE("LoadOciCredentials: a user:password file, else the environment", "[blob][oci]") {
  TempDir t;
  testing::WriteFile(t / "creds", "robot:s3cr:et\n");
  OciConfig cfg;
  REQUIRE(LoadOciCredentials(&cfg, t / "creds").ok());
  CHECK(cfg.user == "robot");
  CHECK(cfg.password == "s3cr:et");
  testing::WriteFile(t / "bad", "no colon here\n");
  CHECK(LoadOciCredentials(&cfg, t / "bad").code() == StatusCode::kInvalidArgument);
  ::setenv("MODELREG_BLOBS_USER", "envuser", 1);
  ::setenv("MODELREG_BLOBS_PASSWORD", "envpw", 1);
  OciConfig env;
  REQUIRE(LoadOciCredentials(&env, "").ok());
  CHECK(env.user == "envuser");
  CHECK(env.password == "envpw");
  ::unsetenv("MODELREG_BLOBS_USER");
  ::unsetenv("MODELREG_BLOBS_PASSWORD");
}

TEST_CASE("OciBackend: blobs stored, found and read back whole and checked", "[blob][oci]") {
  REQUIRE_OCI_REGISTRY();
  OciRegistry reg;
  TempDir t;
  auto b = OpenBackend(reg, t.path());
  const std::string bytes = Pattern(3 * 8 * 1024 * 1024 + 17, 1);  // several read windows
  const Digest d = Digest::Of(bytes);
  CHECK(b->Stat(d)->has_value() == false);
  CHECK(b->Open(d).status().code() == StatusCode::kNotFound);
  CHECK(b->PutBytes(Digest::Of("other"), bytes).code() == StatusCode::kInvalidArgument);
  REQUIRE(b->PutBytes(d, bytes).ok());
  REQUIRE(b->Stat(d)->has_value());
  CHECK(**b->Stat(d) == bytes.size());
  auto r = b->Open(d);
  REQUIRE(r.ok());
  Status st;
  CHECK(ReadAll(**r, &st) == bytes);
  CHECK(st.ok());
  // Out of order: a read before the current window starts over.
  char c = 0;
  REQUIRE((*r)->ReadAt(5, &c, 1).ok());
  CHECK(c == bytes[5]);
  CHECK((*r)->VerifyWhole().ok());
}

// Two backends on one registry, as two replicas have; small chunks, so each
// appender sends several PATCHes.
struct TwoReplicas {
  explicit TwoReplicas(size_t chunk = 1 << 20) : chunk(chunk) {}
  size_t chunk;
  OciRegistry reg;
  TempDir ta, tb;
  std::unique_ptr<BlobBackend> a = OpenBackend(reg, ta.path(), chunk);
  std::unique_ptr<BlobBackend> b = OpenBackend(reg, tb.path(), chunk);
};

TEST_CASE("OciBackend: an upload continues through another replica and is read back and checked",
          "[blob][oci][upload]") {
  REQUIRE_OCI_REGISTRY();
  TwoReplicas r;
  auto& a = r.a;
  auto& b = r.b;
  const std::string bytes = Pattern(5 * 1024 * 1024 + 3, 2);
  const Digest d = Digest::Of(bytes);
  const std::string id = "0123456789abcdef0123456789abcdef";
  REQUIRE(a->CreateUpload(id).ok());
  CHECK(*b->UploadSize(id) == 0);
  const size_t half = 2 * 1024 * 1024 + 1000;
  {
    auto app = a->Append(id, 0);
    REQUIRE(app.ok());
    REQUIRE((*app)->Write(bytes.data(), half).ok());
    REQUIRE((*app)->Close().ok());
    CHECK((*app)->offset() == half);
  }
  // Replica B sees the offset A left, refuses a wrong one, and continues.
  CHECK(*b->UploadSize(id) == half);
  CHECK(b->Append(id, 0).status().code() == StatusCode::kOutOfRange);
  {
    auto app = b->Append(id, half);
    REQUIRE(app.ok());
    REQUIRE((*app)->Write(bytes.data() + half, bytes.size() - half).ok());
    REQUIRE((*app)->Close().ok());
  }
  CHECK(*a->UploadSize(id) == bytes.size());
  CHECK_FALSE(a->Stat(d)->has_value());  // nothing visible before the commit
  // A commits (it did not see every byte: the blob is read back and hashed).
  auto done = a->CommitUpload(id, d);
  INFO(done.status().ToString());
  REQUIRE(done.ok());
  CHECK(done->size == bytes.size());
  CHECK(**b->Stat(d) == bytes.size());
  CHECK(a->UploadSize(id).status().code() == StatusCode::kNotFound);  // the session's state is gone

  SECTION("a wrong digest ends the session and publishes nothing") {
    const std::string id2 = "fedcba9876543210fedcba9876543210";
    REQUIRE(a->CreateUpload(id2).ok());
    auto app = a->Append(id2, 0);
    REQUIRE(app.ok());
    REQUIRE((*app)->Write("some bytes", 10).ok());
    REQUIRE((*app)->Close().ok());
    const Digest claimed = Digest::Of("other bytes");
    auto bad = a->CommitUpload(id2, claimed);
    CHECK(bad.status().code() == StatusCode::kInvalidArgument);
    CHECK_FALSE(a->Stat(claimed)->has_value());
    CHECK_FALSE(a->Stat(Digest::Of("some bytes"))->has_value());
    CHECK(b->UploadSize(id2).status().code() == StatusCode::kNotFound);
  }
}

TEST_CASE("OciBackend: a session the registry no longer takes (a replica died mid-chunk) is dropped, not retried",
          "[blob][oci][upload]") {
  REQUIRE_OCI_REGISTRY();
  // 1 MiB chunks: the registry's early 404 arrives after the whole PATCH
  // was written (the socket buffers hold it). 16 MiB, the default: the
  // registry closes the connection while the body is still being sent, so
  // the PATCH ends in a write error, not a status, and the session must
  // still be found gone (before: "unreachable ... Canceled", retried by the
  // client until it gave up; an HA run lost a register that way).
  const size_t chunk = GENERATE(size_t{1} << 20, size_t{16} << 20);
  INFO("chunk " << chunk);
  TwoReplicas r(chunk);
  auto& a = r.a;
  auto& b = r.b;
  const OciRegistry& reg = r.reg;
  const std::string bytes = Pattern(chunk == (size_t{1} << 20) ? 3 * 1024 * 1024 : 20 * 1024 * 1024, 7);
  const std::string id = "00112233445566778899aabbccddeeff";
  REQUIRE(a->CreateUpload(id).ok());
  const size_t first = 1024 * 1024 + 17;
  {
    auto app = a->Append(id, 0);
    REQUIRE(app.ok());
    REQUIRE((*app)->Write(bytes.data(), first).ok());
    REQUIRE((*app)->Close().ok());
  }
  // What a replica killed between a PATCH and saving the session's new
  // location leaves: the registry's session moved on, the saved state did not.
  httplib::Client raw("127.0.0.1", reg.port());
  auto m = raw.Get("/v2/mr/manifests/upload-" + id, {{"Accept", "application/vnd.oci.image.manifest.v1+json"}});
  REQUIRE(m);
  REQUIRE(m->status == 200);
  const std::string location = nlohmann::json::parse(m->body)["annotations"]["org.modelreg.upload.location"];
  auto moved = raw.Patch(location, {{"Content-Range", std::to_string(first) + "-" + std::to_string(first + 9)}},
                         bytes.data() + first, 10, "application/octet-stream");
  REQUIRE(moved);
  REQUIRE(moved->status == 202);

  CHECK(*b->UploadSize(id) == first);  // the saved state, behind the registry
  {
    auto app = b->Append(id, first);
    REQUIRE(app.ok());
    (void)(*app)->Write(bytes.data() + first, bytes.size() - first);
    Status closed = (*app)->Close();
    INFO(closed.ToString());
    CHECK(closed.code() == StatusCode::kNotFound);
    CHECK(closed.message().find("start the upload over") != std::string::npos);
  }
  // The session is gone for every replica: the client's next status query
  // answers 404 and it starts a new upload, instead of resuming forever.
  CHECK(a->UploadSize(id).status().code() == StatusCode::kNotFound);
  CHECK(b->UploadSize(id).status().code() == StatusCode::kNotFound);
}

TEST_CASE("OciBackend: wrong bytes in the registry are caught before the blob's last byte is handed out",
          "[blob][oci][corrupt]") {
  REQUIRE_OCI_REGISTRY();
  OciRegistry reg;
  TempDir t;
  auto b = OpenBackend(reg, t.path());
  const std::string bytes = Pattern(10 * 1024 * 1024, 3);  // two read windows
  const Digest d = Digest::Of(bytes);
  REQUIRE(b->PutBytes(d, bytes).ok());
  Tamper(reg, d, 1000);  // in the first window
  auto r = b->Open(d);
  REQUIRE(r.ok());
  Status st;
  const std::string got = ReadAll(**r, &st);
  CHECK(st.code() == StatusCode::kDataLoss);
  CHECK(st.message().find("is corrupt") != std::string::npos);
  CHECK(got.size() <= (8u << 20));  // the last window was never returned
  // A partial read is checked whole before its last byte goes out.
  auto r2 = b->Open(d);
  REQUIRE(r2.ok());
  char c = 0;
  REQUIRE((*r2)->ReadAt(0, &c, 1).ok());
  CHECK((*r2)->VerifyWhole().code() == StatusCode::kDataLoss);
  CHECK(b->ReadSmall(d, 64u << 20).status().code() == StatusCode::kDataLoss);
}

TEST_CASE("OciBackend: the registry down answers Unavailable, and work resumes when it is back", "[blob][oci][down]") {
  REQUIRE_OCI_REGISTRY();
  OciRegistry reg;
  TempDir t;
  auto b = OpenBackend(reg, t.path());
  const std::string bytes = "kept while the registry was down";
  REQUIRE(b->PutBytes(Digest::Of(bytes), bytes).ok());
  const std::string id = "00000000000000000000000000000001";
  REQUIRE(b->CreateUpload(id).ok());
  reg.Stop();
  CHECK(b->Ping().code() == StatusCode::kUnavailable);
  CHECK(b->Stat(Digest::Of(bytes)).status().code() == StatusCode::kUnavailable);
  CHECK(b->Open(Digest::Of(bytes)).status().code() == StatusCode::kUnavailable);
  CHECK(b->PutBytes(Digest::Of("new"), "new").code() == StatusCode::kUnavailable);
  CHECK(b->CreateUpload("00000000000000000000000000000002").code() == StatusCode::kUnavailable);
  CHECK(b->Append(id, 0).status().code() == StatusCode::kUnavailable);
  CHECK(b->CommitUpload(id, Digest::Of("")).status().code() == StatusCode::kUnavailable);
  reg.Start();
  CHECK(b->Ping().ok());
  auto app = b->Append(id, 0);
  REQUIRE(app.ok());
  REQUIRE((*app)->Write("abc", 3).ok());
  REQUIRE((*app)->Close().ok());
  auto done = b->CommitUpload(id, Digest::Of("abc"));
  INFO(done.status().ToString());
  CHECK(done.ok());
}

// The staged files of this backend's batches (DATA/oci-staging).
size_t StagedFiles(const std::string& data_dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(data_dir + "/oci-staging")) ++n;
  return n;
}

// Begin, Write, End of one whole blob.
Status Stage(BlobBatch& batch, const std::string& bytes) {
  MR_RETURN_IF_ERROR(batch.Begin(Digest::Of(bytes), bytes.size()));
  MR_RETURN_IF_ERROR(batch.Write(bytes.data(), bytes.size()));
  return batch.End();
}

TEST_CASE("OciBackend batch: staged and checked, pushed only at Commit, staging left empty", "[blob][oci][batch]") {
  REQUIRE_OCI_REGISTRY();
  OciRegistry reg;
  TempDir t;
  auto b = OpenBackend(reg, t.path());
  REQUIRE(b->PutBytes(Digest::Of("known"), "known").ok());
  const std::vector<std::string> good = {"known", "", Pattern((1u << 20) + 500, 5)};
  auto batch = b->NewBatch();
  for (const auto& c : good) REQUIRE(Stage(*batch, c).ok());
  REQUIRE(batch->Begin(Digest::Of("abc"), 3).ok());
  REQUIRE(batch->Write("abd", 3).ok());
  CHECK_THAT(batch->End().message(), Catch::Contains("mismatch"));
  REQUIRE(batch->Begin(Digest::Of("hello"), 5).ok());
  REQUIRE(batch->Write("hel", 3).ok());
  CHECK_THAT(batch->End().message(), Catch::Contains("truncated"));
  REQUIRE(batch->Begin(Digest::Of("hi"), 2).ok());
  CHECK(batch->Write("hi!", 3).code() == StatusCode::kInvalidArgument);
  CHECK(batch->Commit().status().code() == StatusCode::kFailedPrecondition);  // "hi" not ended
  CHECK(batch->End().code() == StatusCode::kInvalidArgument);
  CHECK(StagedFiles(t.path()) == good.size());  // the checked ones, waiting
  for (size_t i = 1; i < good.size(); ++i) CHECK_FALSE(b->Stat(Digest::Of(good[i]))->has_value());
  auto n = batch->Commit();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(*n == good.size() - 1);  // "known" was there
  CHECK(batch->committed().size() == good.size());
  CHECK(StagedFiles(t.path()) == 0);
  for (const auto& c : good) {
    auto r = b->Open(Digest::Of(c));
    REQUIRE(r.ok());
    Status st;
    CHECK(ReadAll(**r, &st) == c);
    CHECK(st.ok());
  }
  for (const char* c : {"abc", "abd", "hello", "hi"}) CHECK_FALSE(b->Stat(Digest::Of(c))->has_value());

  // A batch destroyed before Commit pushes nothing and leaves no file.
  {
    auto dropped = b->NewBatch();
    REQUIRE(Stage(*dropped, "dropped").ok());
    REQUIRE(dropped->Begin(Digest::Of("half"), 4).ok());
    REQUIRE(dropped->Write("ha", 2).ok());
    CHECK(StagedFiles(t.path()) == 2);
  }
  CHECK(StagedFiles(t.path()) == 0);
  CHECK_FALSE(b->Stat(Digest::Of("dropped"))->has_value());
}

// ---- the service on an OCI backend ----

// The registry first: the service's options name it.
struct OciRegistryFirst {
  OciRegistry reg;
};

struct OciService : OciRegistryFirst, testing::ServiceRegistry {
  OciService() : ServiceRegistry(Options(reg)) {}
  static ServiceOptions Options(const OciRegistry& reg) {
    ServiceOptions o;
    auto cfg = ParseOciUrl(reg.blobs_url());
    REQUIRE(cfg.ok());
    o.oci_blobs = *cfg;
    return o;
  }
};

TEST_CASE("service on an OCI backend: register, download checked, fsck finds wrong bytes", "[blob][oci][service]") {
  REQUIRE_OCI_REGISTRY();
  OciService s;
  const std::string weights = Pattern(1 << 20, 4);
  REQUIRE(s.RegisterWeights(weights) == 1);
  auto blob = s.svc->OpenModelBlob(s.trainer, "churn", Digest::Of(weights));
  REQUIRE(blob.ok());
  Status st;
  CHECK(ReadAll(**blob, &st) == weights);
  auto clean = s.svc->Fsck();
  REQUIRE(clean.ok());
  INFO(clean->problems.size());
  CHECK(clean->ok());
  CHECK(clean->blobs_checked == 3);  // manifest, lineage record, weights
  CHECK(clean->bytes_checked > weights.size());

  Tamper(s.reg, Digest::Of(weights), 77);
  auto bad = s.svc->OpenModelBlob(s.trainer, "churn", Digest::Of(weights));
  REQUIRE(bad.ok());
  ReadAll(**bad, &st);
  CHECK(st.code() == StatusCode::kDataLoss);
  auto report = s.svc->Fsck();
  REQUIRE(report.ok());
  REQUIRE(report->problems.size() == 1);
  CHECK(report->problems[0].find("blob " + Digest::Of(weights).str() + " is corrupt") != std::string::npos);

  s.reg.Stop();
  CHECK(s.svc->Fsck().status().code() == StatusCode::kUnavailable);
  CHECK(s.svc->CheckReady().code() == StatusCode::kUnavailable);
  CHECK(s.svc->OpenModelBlob(s.trainer, "churn", Digest::Of(weights)).status().code() == StatusCode::kUnavailable);
  CHECK(s.svc->StartUpload(s.trainer).status().code() == StatusCode::kUnavailable);
  s.reg.Start();
}

}  // namespace
}  // namespace modelreg
