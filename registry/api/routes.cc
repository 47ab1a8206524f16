// The route table: every endpoint of the REST API in one place.
#include "api/handler.h"

namespace modelreg::api {

const std::vector<Route>& Routes() {
  static const std::vector<Route> k = {
      {"GET", "/healthz", "healthz", false, HandleHealthz},
      {"GET", "/readyz", "readyz", true, HandleReadyz},
      {"GET", "/metrics", "metrics", true, HandleMetrics},
      {"GET", "/api/v1/whoami", "whoami", true, HandleWhoami},

      {"GET", "/api/v1/models", "models.list", true, HandleListModels},
      {"GET", R"(/api/v1/models/([^/]+))", "models.get", true, HandleGetModel},
      {"GET", R"(/api/v1/models/([^/]+)/versions)", "versions.list", true, HandleListVersions},
      {"PUT", R"(/api/v1/models/([^/]+)/versions)", "versions.register", true, HandleRegister},
      {"GET", R"(/api/v1/models/([^/]+)/versions/([^/]+))", "versions.get", true, HandleGetVersion},
      {"GET", R"(/api/v1/models/([^/]+)/versions/([^/]+)/manifest)", "versions.manifest", true,
       HandleGetManifest},
      {"GET", R"(/api/v1/models/([^/]+)/blobs/([^/]+))", "models.blob", true, HandleGetModelBlob},

      {"POST", "/api/v1/blobs/missing", "blobs.missing", true, HandleMissingBlobs},
      {"POST", "/api/v1/blobs/batch", "blobs.batch", true, HandleBatchUpload},
      {"POST", "/api/v1/blobs/uploads", "uploads.start", true, HandleStartUpload},
      {"GET", R"(/api/v1/blobs/uploads/([^/]+))", "uploads.get", true, HandleGetUpload},
      {"PATCH", R"(/api/v1/blobs/uploads/([^/]+))", "uploads.patch", true, HandlePatchUpload},
      {"PUT", R"(/api/v1/blobs/uploads/([^/]+))", "uploads.finish", true, HandleFinishUpload},
      {"DELETE", R"(/api/v1/blobs/uploads/([^/]+))", "uploads.cancel", true, HandleCancelUpload},
      {"GET", R"(/api/v1/blobs/([^/]+))", "blobs.get", true, HandleGetBlob},

      {"GET", "/api/v1/tokens", "tokens.list", true, HandleListTokens},
      {"POST", "/api/v1/tokens", "tokens.create", true, HandleCreateToken},
      {"DELETE", R"(/api/v1/tokens/([^/]+))", "tokens.revoke", true, HandleRevokeToken},
  };
  return k;
}

Result<std::string> ReadBody(Ctx& c, size_t limit) {
  // Bodies over the limit are drained (up to a bound) before answering 413,
  // so that a client writing its whole body first still reads the answer.
  constexpr size_t kDrainBound = 64 << 20;
  std::string len = c.req.get_header_value("Content-Length");
  uint64_t declared = len.empty() ? 0 : std::strtoull(len.c_str(), nullptr, 10);
  const Status too_large =
      Status::ResourceExhausted("request body larger than " + std::to_string(limit) + " bytes");
  if (declared > limit + kDrainBound) return too_large;
  std::string body;
  if (!c.reader) return body;
  uint64_t seen = 0;
  bool ok = (*c.reader)([&](const char* data, size_t n) {
    seen += n;
    if (seen <= limit) body.append(data, n);
    return seen <= limit + kDrainBound;
  });
  if (seen > limit) return too_large;
  if (!ok) return Status::InvalidArgument("request body was cut off");
  return body;
}

Result<nlohmann::json> ReadJsonBody(Ctx& c) {
  MR_ASSIGN_OR_RETURN(std::string body, ReadBody(c, c.max_json_body));
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
  return j;
}

void SendJson(Ctx& c, int status, const nlohmann::json& j) {
  c.res.status = status;
  c.res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

}  // namespace modelreg::api
