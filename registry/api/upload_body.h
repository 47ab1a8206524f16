// Streaming a request body into an upload session, shared by the two
// upload protocols that use sessions: /api/v1/blobs/uploads (docs/api.md)
// and the OCI /v2/<name>/blobs/uploads (docs/oci.md). They differ only in
// where a session lives (its Location). Internal to the api library.
#pragma once

#include <cstdint>
#include <string>

#include "api/handler.h"

namespace modelreg::api {

// Location, Docker-Upload-UUID, Upload-Offset and Range (the OCI inclusive
// range received so far, "0-0" when empty) of session `id` at `location`.
void SetUploadSessionHeaders(Ctx& c, const std::string& id, const std::string& location, uint64_t offset);

// Streams the request body into session `id` at its offset, or at the
// Content-Range start (which must be its offset: OutOfRange otherwise, with
// the session's headers set). Returns the new offset. A body cut off keeps
// what arrived (InvalidArgument saying where to resume).
Result<uint64_t> AppendUploadBody(Ctx& c, const std::string& id, const std::string& location);

// Appends the body, if any, then checks the whole upload against
// `digest_param` and publishes it. The session's headers are removed (it is
// gone); the caller says where the blob now is.
Result<FileDigest> FinishUploadBody(Ctx& c, const std::string& id, const std::string& location,
                                    const std::string& digest_param);

}  // namespace modelreg::api
