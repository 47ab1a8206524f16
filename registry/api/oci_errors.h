// Errors of the OCI /v2/ endpoint in the distribution spec's envelope
// (docs/oci.md "Errors"):
//   {"errors":[{"code":"MANIFEST_UNKNOWN","message":"…","detail":{…}}]}
// with the spec's codes. /api/v1/ keeps its own shape (docs/api.md).
// Internal to the api library; pure.
#pragma once

#include <string>

#include "core/status.h"
#include "net/http_request.h"

namespace modelreg::api {

// What a /v2/ route calls a Status of each kind, where the kind alone
// does not say (NotFound is MANIFEST_UNKNOWN on a manifest route,
// BLOB_UNKNOWN on a blob route, …). nullptr: the generic code.
struct OciCodes {
  const char* not_found = "NAME_UNKNOWN";
  const char* invalid = "UNSUPPORTED";
  const char* failed_precondition = nullptr;
  const char* out_of_range = "BLOB_UPLOAD_INVALID";
};

// The spec's code for `st` on a route with `codes`, unless `chosen` (a
// handler's own choice) is set.
std::string OciCodeFor(const Status& st, const OciCodes& codes, const std::string& chosen);
// The HTTP status the spec gives `code`, else HttpStatusFor(st).
int OciHttpStatus(const std::string& code, const Status& st);
// The envelope's text; `request_id` goes into detail, with st's details.
std::string OciErrorText(const std::string& code, const Status& st, const std::string& request_id);
// Writes status, envelope and Docker-Distribution-API-Version.
void WriteOciError(net::ServerResponse& res, const std::string& code, const Status& st, const std::string& request_id);
// The code of a refusal the server made before any route ran (framing,
// limits, timeouts), by HTTP status.
const char* OciCodeForHttpStatus(int status);

}  // namespace modelreg::api
