// OciBackend: blobs kept in an OCI distribution registry (CNCF
// distribution, Harbor, ECR, ...), spoken to with the distribution spec's
// HTTP API. docs/operations.md "Blobs in an OCI registry" describes the
// flags and the layout:
//
//   PREFIX/blobs            every blob (uploads land here; content-addressed)
//   PREFIX/<model>          each registered bundle: its manifest (an OCI image
//                           manifest) by digest and tagged with the version
//                           number, its blobs mounted from PREFIX/blobs, so
//                           `skopeo copy docker://HOST/PREFIX/<model>:3 dir:x`
//                           moves a complete artifact
//   PREFIX/uploads:<id>     an open upload session's state (the backend's
//                           upload location and offset) as a tagged manifest,
//                           so any replica on this backend continues it
//
// Every byte is checked: an upload's bytes are hashed on their way through
// (or, for a session continued on another replica, read back after the
// backend accepted them) before the blob is reported stored; a reader hashes
// what it streams and fails before the last byte of a blob whose bytes are
// not its digest. An unreachable backend is Unavailable.
#pragma once

#include <memory>
#include <string>

#include "blob/blob_backend.h"

namespace modelreg {

struct OciConfig {
  std::string host;  // a name or IPv4 address
  int port = 443;
  std::string prefix;            // repository prefix, e.g. "modelreg" or "team/models"
  bool plain_http = false;       // oci+http:// (loopback only)
  std::string ca_file;           // --blobs-ca: PEM bundle to verify the registry with; "" = system CAs
  std::string user, password;    // basic auth (token auth: a Bearer realm is followed)
  std::string credentials_file;  // where user:password came from ("" = the environment or none)
  // Bytes buffered per PATCH to the backend.
  size_t chunk_bytes = 16u << 20;
};

// Parses oci://HOST[:PORT]/PREFIX or oci+http://HOST:PORT/PREFIX (the latter
// only for a loopback host). Credentials are not part of the URL.
Result<OciConfig> ParseOciUrl(const std::string& url);
// The URL ParseOciUrl reads back as `cfg` (no credentials).
std::string OciUrlOf(const OciConfig& cfg);
// Fills user/password from `credentials_file` ("user:password", one line)
// if given, else from MODELREG_BLOBS_USER / MODELREG_BLOBS_PASSWORD.
Status LoadOciCredentials(OciConfig* cfg, const std::string& credentials_file);

class OciBackend;

// Opens the backend; checks that it answers (GET /v2/). `data_dir` holds
// this replica's temporary files (batches).
Result<std::unique_ptr<BlobBackend>> OpenOciBackend(const OciConfig& cfg, const std::string& data_dir);

}  // namespace modelreg
