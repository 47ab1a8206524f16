// Models, versions, manifests and blob downloads.
#include <unistd.h>

#include <algorithm>

#include "api/blob_response.h"
#include "api/handler.h"
#include "api/json_codec.h"
#include "api/list_page.h"
#include "api/metrics.h"
#include "core/blob_splitter.h"
#include "core/manifest.h"
#include "net/byte_range.h"

namespace modelreg::api {
// ?q= (name or creator), ?sort=, ?order=, ?limit=, ?page_token= (api/list_page.h).
Status HandleListModels(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto models, c.svc.ListModels(c.principal));
  const std::string q = LowerQuery(c);
  std::vector<nlohmann::json> rows;
  for (const auto& m : models)
    if (MatchesQuery(q, {m.name, m.created_by})) rows.push_back(ToJson(m));
  static const ListSpec kSpec{
      {"name", "version_count", "latest_version", "production_version", "last_change", "created_at", "created_by"},
      "name",
      "asc",
      "name"};
  nlohmann::json out = nlohmann::json::object();
  MR_RETURN_IF_ERROR(PageRows(c, kSpec, std::move(rows), "models", &out));
  SendJson(c, 200, out);
  return Status::OK();
}

Status HandleGetModel(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto m, c.svc.GetModel(c.principal, c.Arg(1)));
  SendJson(c, 200, ToJson(m));
  return Status::OK();
}

// ?q= (version number, creator, digest), ?stage=, ?sort= (a column or
// metric:NAME), ?order=, ?limit=, ?page_token= (api/list_page.h).
Status HandleListVersions(Ctx& c) {
  std::string stage;
  if (c.req.has_param("stage")) {
    stage = c.req.get_param_value("stage");
    static const std::vector<std::string> kStages{"none", "staging", "production", "archived", "rejected"};
    if (std::find(kStages.begin(), kStages.end(), stage) == kStages.end())
      return Status::InvalidArgument("stage must be none, staging, production, archived or rejected, got '" + stage +
                                     "'");
  }
  std::map<int64_t, std::vector<std::pair<std::string, double>>> metrics;
  MR_ASSIGN_OR_RETURN(auto versions, c.svc.ListVersions(c.principal, c.Arg(1), &metrics));
  const std::string q = LowerQuery(c);
  std::vector<nlohmann::json> rows;
  for (const auto& v : versions) {
    if (!stage.empty() && v.stage != stage) continue;
    const std::string n = std::to_string(v.number);
    if (!MatchesQuery(q, {n, "v" + n, v.created_by, v.digest})) continue;
    nlohmann::json j = ToJson(v);
    j["metrics"] = nlohmann::json::object();
    for (const auto& [name, value] : metrics[v.number]) j["metrics"][name] = value;
    rows.push_back(std::move(j));
  }
  static const ListSpec kSpec{
      {"version", "stage", "created_at", "created_by", "total_bytes", "file_count"}, "version", "asc", "version", true};
  nlohmann::json out = {{"model", c.Arg(1)}};
  MR_RETURN_IF_ERROR(PageRows(c, kSpec, std::move(rows), "versions", &out));
  SendJson(c, 200, out);
  return Status::OK();
}

Status HandleRegister(Ctx& c) {
  const std::string model = c.Arg(1);
  MR_RETURN_IF_ERROR(ValidateModelName(model));
  const auto& limits = c.svc.options().limits;
  MR_ASSIGN_OR_RETURN(std::string body, ReadBody(c, limits.max_manifest_bytes));
  MR_ASSIGN_OR_RETURN(auto r, c.svc.RegisterManifest(c.principal, model, body));
  auto j = ToJson(r.version);
  j["created"] = r.created;
  c.res.set_header("Location", "/api/v1/models/" + model + "/versions/" + std::to_string(r.version.number));
  c.res.set_header("Docker-Content-Digest", r.version.digest);
  SendJson(c, r.created ? 201 : 200, j);
  return Status::OK();
}

Status HandleGetVersion(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto d, c.svc.GetVersion(c.principal, c.Arg(1), c.Arg(2)));
  SendJson(c, 200, ToJson(d));
  return Status::OK();
}

Status HandleGetManifest(Ctx& c) {
  std::string digest;
  MR_ASSIGN_OR_RETURN(auto reader, c.svc.OpenManifest(c.principal, c.Arg(1), c.Arg(2), &digest));
  return SendBlob(c, std::move(reader), digest, kOciManifestMediaType);
}

Status HandleGetModelBlob(Ctx& c) {
  MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(c.Arg(2)));
  MR_ASSIGN_OR_RETURN(auto reader, c.svc.OpenModelBlob(c.principal, c.Arg(1), d));
  return SendBlob(c, std::move(reader), d.str(), "application/octet-stream");
}

// POST /api/v1/models/{model}/blobs/fetch {"digests": [...]}: the blobs,
// each referenced by the model, concatenated in the order asked, as one
// body (Content-Length: the sum of their sizes). The client knows each
// size from the manifest, cuts the body there and checks every digest; a
// bundle of many small files then costs one request instead of one each.
// A blob that cannot be read mid-way aborts the response (the client sees
// a body cut short and asks again for what it lacks).
Status HandleFetchModelBlobs(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto j, ReadJsonBody(c));
  if (!j.is_object() || !j.contains("digests") || !j["digests"].is_array())
    return Status::InvalidArgument("want {\"digests\": [\"sha256:...\", ...]}");
  if (j["digests"].size() > kFetchMaxBlobs)
    return Status::ResourceExhausted("at most " + std::to_string(kFetchMaxBlobs) + " digests per fetch, got " +
                                     std::to_string(j["digests"].size()));
  struct Fetch {
    ModelBlobSet blobs;
    std::vector<Digest> digests;
    size_t index = 0;      // blob being sent
    uint64_t in_blob = 0;  // bytes of it sent
    uint64_t sent = 0;     // bytes of the body sent
    std::unique_ptr<BlobReader> reader;
    std::vector<char> buf;
  };
  auto f = std::make_shared<Fetch>();
  for (const auto& d : j["digests"]) {
    if (!d.is_string()) return Status::InvalidArgument("digests must be strings");
    MR_ASSIGN_OR_RETURN(Digest parsed, Digest::Parse(d.get<std::string>()));
    f->digests.push_back(parsed);
  }
  MR_ASSIGN_OR_RETURN(f->blobs, c.svc.ModelBlobs(c.principal, c.Arg(1), f->digests));
  uint64_t total = 0;
  for (uint64_t s : f->blobs.sizes()) total += s;
  c.res.set_content_provider(total, "application/octet-stream", [f](size_t offset, size_t length, DataSink& sink) {
    if (offset != f->sent) return false;  // sent in order only (no Range)
    if (f->buf.empty()) f->buf.resize(1 << 20);
    // Fill one buffer from as many blobs as fit: small files go out in
    // large writes.
    const size_t want = std::min(length, f->buf.size());
    size_t filled = 0;
    while (filled < want && f->index < f->digests.size()) {
      const uint64_t size = f->blobs.sizes()[f->index];
      if (f->in_blob == size) {  // done (or empty): next blob
        f->reader.reset();
        ++f->index;
        f->in_blob = 0;
        continue;
      }
      if (!f->reader) {
        auto reader = f->blobs.Open(f->index);
        if (!reader.ok()) return false;  // removed or changed since the check
        f->reader = std::move(*reader);
      }
      size_t step = static_cast<size_t>(std::min<uint64_t>(want - filled, size - f->in_blob));
      auto n = f->reader->ReadAt(f->in_blob, f->buf.data() + filled, step);
      // Shrank, I/O error, or bytes not the blob's digest: abort the response.
      if (!n.ok() || *n == 0) return false;
      filled += *n;
      f->in_blob += *n;
    }
    if (filled == 0) return false;
    f->sent += filled;
    AddBytesSent(filled);
    return sink.write(f->buf.data(), filled);
  });
  return Status::OK();
}

Status HandleGetBlob(Ctx& c) {
  MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(c.Arg(1)));
  if (c.req.method == "HEAD") {
    // Existence check for uploaders (OCI "HEAD a digest to skip known blobs").
    MR_ASSIGN_OR_RETURN(auto size, c.svc.BlobSize(c.principal, d));
    if (!size) return Status::NotFound("blob " + d.str() + " not found");
    c.res.set_header("Docker-Content-Digest", d.str());
    c.res.set_content_provider(*size, "application/octet-stream", [](size_t, size_t, DataSink&) { return false; });
    return Status::OK();
  }
  MR_ASSIGN_OR_RETURN(auto reader, c.svc.OpenBlob(c.principal, d));
  return SendBlob(c, std::move(reader), d.str(), "application/octet-stream");
}

}  // namespace modelreg::api
