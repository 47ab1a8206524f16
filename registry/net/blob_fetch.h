// The downloading side of POST /api/v1/models/{m}/blobs/fetch, shared by
// `pull` and the agent: asks for blobs[first..] and feeds a 200 answer to a
// BlobSplitter (core/blob_splitter.h) as it streams. What the outcome
// means (retry, fall back to GETs, fail) is the caller's to decide.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/blob_splitter.h"
#include "core/status.h"

namespace httplib {
class Client;
}

namespace modelreg::net {

struct FetchAnswer {
  bool transport_ok = false;  // an HTTP answer arrived whole
  int error = 0;              // else cpp-httplib's error (for net::TransportFailure)
  int status = 0;             // its status (0: none)
  std::string error_body;     // the body of a non-200 answer (first 64 KiB)
  Status io;                  // the splitter's error (digest, write), if any
};

// `path`: /api/v1/models/{m}/blobs/fetch. `headers` go with the request
// (e.g. Authorization). Adds the body bytes received to *bytes.
FetchAnswer PostFetch(httplib::Client& http, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::vector<SplitBlob>& blobs, size_t first, BlobSplitter& split, uint64_t* bytes);

}  // namespace modelreg::net
