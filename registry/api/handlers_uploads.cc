// Blob uploads in the shape of the OCI distribution protocol: POST a
// session, PATCH chunks with Content-Range, GET the offset to resume, PUT
// ?digest= to finish. Plus a batch endpoint for bundles of many small files.
#include <cstdlib>

#include "api/handler.h"
#include "api/json_codec.h"
#include "api/metrics.h"
#include "api/socket_body.h"
#include "core/upload_framing.h"

namespace modelreg::api {
namespace {

void SetSessionHeaders(Ctx& c, const std::string& id, uint64_t offset) {
  c.res.set_header("Location", "/api/v1/blobs/uploads/" + id);
  c.res.set_header("Docker-Upload-UUID", id);
  c.res.set_header("Upload-Offset", std::to_string(offset));
  // OCI: Range is the inclusive range received so far ("0-0" when empty).
  c.res.set_header("Range", "0-" + std::to_string(offset == 0 ? 0 : offset - 1));
}

// Streams the request body into the session at its current offset (or the
// Content-Range start). Returns the new offset.
Result<uint64_t> AppendBody(Ctx& c, const std::string& id) {
  MR_ASSIGN_OR_RETURN(auto state, c.svc.GetUpload(c.principal, id));
  uint64_t start = state.offset;
  std::optional<uint64_t> expect_len;
  std::string cr = c.req.get_header_value("Content-Range");
  if (!cr.empty()) {
    MR_ASSIGN_OR_RETURN(auto range, ParseContentRange(cr));
    start = range.first;
    expect_len = range.second - range.first + 1;
    const auto& framing = c.body.framing();
    if (framing.kind == net::RequestFraming::kLength && framing.length != *expect_len)
      return Status::InvalidArgument("Content-Length does not match Content-Range");
  }
  auto out_of_range = [&](uint64_t offset) {
    SetSessionHeaders(c, id, offset);
    return Status::OutOfRange("chunk starts at " + std::to_string(start) + " but upload " + id + " is at offset " +
                              std::to_string(offset));
  };
  if (!c.body.present()) {
    if (start != state.offset) return out_of_range(state.offset);
    return state.offset;
  }
  // The offset is checked by AppendUpload, which first takes the session:
  // one another request is writing answers 409 (its offset is moving).
  auto appended = c.svc.AppendUpload(c.principal, id, start);
  if (appended.status().code() == StatusCode::kOutOfRange) {
    MR_ASSIGN_OR_RETURN(auto now, c.svc.GetUpload(c.principal, id));
    return out_of_range(now.offset);
  }
  MR_ASSIGN_OR_RETURN(auto appender, std::move(appended));
  Status write_st;
  bool ok = StreamBody(
      c,
      [&](const char* data, size_t n) {
        write_st = appender->Write(data, n);
        if (!write_st.ok()) return false;
        AddBytesReceived(n);
        return true;
      },
      [&] {
        auto space = appender->Space();
        if (!space.ok()) write_st = space.status();
        return space;
      },
      [&](size_t n) {
        write_st = appender->Commit(n);
        if (write_st.ok()) AddBytesReceived(n);
        return write_st;
      });
  Status close_st = appender->Close();
  uint64_t offset = appender->offset();
  SetSessionHeaders(c, id, offset);
  if (!write_st.ok()) return write_st;
  if (!close_st.ok()) return close_st;
  if (!ok)
    return Status::InvalidArgument("request body was cut off; upload " + id + " kept " + std::to_string(offset) +
                                   " bytes, resume from there");
  if (expect_len && offset - start != *expect_len)
    return Status::InvalidArgument("chunk shorter than its Content-Range");
  return offset;
}

Status Finish(Ctx& c, const std::string& id, const std::string& digest_param) {
  auto d = Digest::Parse(digest_param);
  if (!d.ok()) return d.status().WithContext("?digest=");
  MR_RETURN_IF_ERROR(AppendBody(c, id).status());
  MR_ASSIGN_OR_RETURN(FileDigest fd, c.svc.FinishUpload(c.principal, id, *d));
  // The session is gone: its headers, set by AppendBody, would be a second
  // Location pointing at it.
  for (const char* h : {"Location", "Docker-Upload-UUID", "Upload-Offset", "Range"}) c.res.erase_header(h);
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
  SetSessionHeaders(c, state.id, 0);
  SendJson(c, 202, {{"upload", state.id}, {"offset", 0}});
  return Status::OK();
}

Status HandleGetUpload(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto state, c.svc.GetUpload(c.principal, c.Arg(1)));
  SetSessionHeaders(c, state.id, state.offset);
  c.res.status = 204;
  return Status::OK();
}

Status HandlePatchUpload(Ctx& c) {
  MR_ASSIGN_OR_RETURN(uint64_t offset, AppendBody(c, c.Arg(1)));
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
