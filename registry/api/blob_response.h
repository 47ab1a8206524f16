// A blob as an HTTP response body, shared by every route that serves one
// (/api/v1 models and blobs, /v2/ blobs and manifests). Internal to the api
// library.
#pragma once

#include <memory>
#include <string>

#include "api/handler.h"

namespace modelreg::api {

// Streams a blob, or the one part of it a Range asks for (206; 416 with
// "bytes */SIZE" for a part past the end; several ranges: all of it). The
// reader checks what it hands out (blob/blob_backend.h); before the last
// byte of a part goes out the whole blob is checked, so wrong bytes end in
// a response cut short, never a complete one. Sets Docker-Content-Digest,
// ETag and Accept-Ranges. Over plain HTTP a reader with a trusted file
// (the local store) is sent with sendfile(2); under TLS, or from a reader
// that checks as it reads, through a 1 MiB buffer.
Status SendBlob(Ctx& c, std::unique_ptr<BlobReader> reader, const std::string& digest, const std::string& content_type);

}  // namespace modelreg::api
