// The OCI distribution endpoint /v2/ (docs/oci.md), on the same port as
// the REST API: pull and push of model versions, stage tags, the token
// endpoint OCI clients log in through. The server hands every /v2 path
// here; errors come back in the OCI envelope (api/oci_errors.h).
// Internal to the api library.
#pragma once

#include <string>
#include <string_view>

#include "api/handler.h"
#include "api/oci_errors.h"

namespace modelreg::api {

// What the access log and the error writer learn of a /v2/ request.
struct OciRequestInfo {
  std::string route = "oci.unmatched";
  std::string actor;
  std::string code;       // the OCI error code a handler chose (empty: by Status kind)
  std::string challenge;  // WWW-Authenticate of a 401
  OciCodes codes;         // the route's codes for Status kinds
  int http_status = 0;    // overrides the status the code calls for (405)
};

// "/v2", "/v2/" and everything under it.
bool IsOciPath(std::string_view raw_path);

// Routes, authenticates and serves one /v2/ request. A non-OK Status is
// written by the caller with WriteOciError(OciCodeFor(st, info->codes,
// info->code)), plus info->challenge on a 401.
Status ServeOci(Ctx& c, OciRequestInfo* info);

}  // namespace modelreg::api
