// Blob uploads in the shape of the OCI distribution protocol: POST a
// session, PATCH chunks with Content-Range, GET the offset to resume, PUT
// ?digest= to finish. Plus a batch endpoint for bundles of many small files.
#include <cstdlib>

#include "api/handler.h"
#include "api/json_codec.h"
#include "api/metrics.h"
#include "api/upload_body.h"
#include "core/upload_framing.h"

namespace modelreg::api {
namespace {

std::string SessionLocation(const std::string& id) { return "/api/v1/blobs/uploads/" + id; }

Status Finish(Ctx& c, const std::string& id, const std::string& digest_param) {
  MR_ASSIGN_OR_RETURN(FileDigest fd, FinishUploadBody(c, id, SessionLocation(id), digest_param));
  c.res.set_header("Location", "/api/v1/blobs/" + fd.digest.str());
  c.res.set_header("Docker-Content-Digest", fd.digest.str());
  SendJson(c, 201, {{"digest", fd.digest.str()}, {"size", fd.size}});
  return Status::OK();
}

}  // namespace

Status HandleMissingBlobs(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto j, ReadJsonBody(c));
  const char* kWant =
      "want {\"digests\": [\"sha256:...\", ...]}, optionally with \"samples\": [{\"size\": bytes, \"sample\": "
      "\"sha256:...\"}, ...]";
  if (!j.is_object() || !j.contains("digests") || !j["digests"].is_array()) return Status::InvalidArgument(kWant);
  std::vector<std::string> digests;
  for (const auto& d : j["digests"]) {
    if (!d.is_string()) return Status::InvalidArgument("digests must be strings");
    digests.push_back(d.get<std::string>());
  }
  MR_ASSIGN_OR_RETURN(auto missing, c.svc.MissingBlobs(c.principal, digests));
  nlohmann::json out = {{"missing", missing}};
  if (j.contains("samples")) {  // which of these files some blob may be
    if (!j["samples"].is_array()) return Status::InvalidArgument(kWant);
    std::vector<SampleProbe> probes;
    for (const auto& s : j["samples"]) {
      if (!s.is_object() || !s.contains("size") || !s["size"].is_number_unsigned() || !s.contains("sample") ||
          !s["sample"].is_string() || !Digest::Parse(s["sample"].get<std::string>()).ok())
        return Status::InvalidArgument("each sample must be {\"size\": bytes, \"sample\": \"sha256:<64 hex>\"}");
      probes.push_back({s["size"].get<uint64_t>(), s["sample"].get<std::string>()});
    }
    MR_ASSIGN_OR_RETURN(auto maybe, c.svc.MatchBlobSamples(c.principal, probes));
    auto& indices = out["maybe_present"] = nlohmann::json::array();
    for (size_t i = 0; i < maybe.size(); ++i)
      if (maybe[i]) indices.push_back(i);
  }
  SendJson(c, 200, out);
  return Status::OK();
}

Status HandleStartUpload(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto state, c.svc.StartUpload(c.principal));
  if (c.req.has_param("digest")) {  // monolithic: POST ?digest= with the whole body
    Status st = Finish(c, state.id, c.req.get_param_value("digest"));
    if (!st.ok()) (void)c.svc.CancelUpload(c.principal, state.id);
    return st;
  }
  SetUploadSessionHeaders(c, state.id, SessionLocation(state.id), 0);
  SendJson(c, 202, {{"upload", state.id}, {"offset", 0}});
  return Status::OK();
}

Status HandleGetUpload(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto state, c.svc.GetUpload(c.principal, c.Arg(1)));
  SetUploadSessionHeaders(c, state.id, SessionLocation(state.id), state.offset);
  c.res.status = 204;
  return Status::OK();
}

Status HandlePatchUpload(Ctx& c) {
  MR_ASSIGN_OR_RETURN(uint64_t offset, AppendUploadBody(c, c.Arg(1), SessionLocation(c.Arg(1))));
  SendJson(c, 202, {{"upload", c.Arg(1)}, {"offset", offset}});
  return Status::OK();
}

Status HandleFinishUpload(Ctx& c) {
  if (!c.req.has_param("digest")) return Status::InvalidArgument("finish needs ?digest=sha256:...");
  return Finish(c, c.Arg(1), c.req.get_param_value("digest"));
}

Status HandleCancelUpload(Ctx& c) {
  MR_RETURN_IF_ERROR(c.svc.CancelUpload(c.principal, c.Arg(1)));
  c.res.status = 204;
  return Status::OK();
}

// Body: repeated frames of "sha256:<hex> <size>\n" followed by <size> bytes
// (core/upload_framing.h). All blobs are verified, then made durable with
// one sync and published.
Status HandleBatchUpload(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto batch, c.svc.StartBatch(c.principal));
  if (!c.body.present()) return Status::InvalidArgument("empty batch");
  constexpr size_t kMaxBatchBlobs = 100000;
  BatchFrameParser parser(
      {[&](const Digest& d, uint64_t size) { return batch->Begin(d, size); },
       [&](const char* data, size_t n) { return batch->Write(data, n); }, [&] { return batch->End(); }},
      kMaxBatchBlobs);
  Status st;
  bool ok = c.body.Read([&](const char* data, size_t n) {
    AddBytesReceived(n);
    st = parser.Feed(data, n);
    return st.ok();
  });
  if (!st.ok()) return st;
  if (!ok) return Status::InvalidArgument("batch body was cut off; nothing from it was stored");
  MR_RETURN_IF_ERROR(parser.Finish());
  MR_ASSIGN_OR_RETURN(size_t stored, c.svc.CommitBatch(c.principal, *batch));
  SendJson(c, 200, {{"received", parser.count()}, {"stored", stored}});
  return Status::OK();
}

}  // namespace modelreg::api
