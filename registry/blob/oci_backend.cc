#include "blob/oci_backend.h"

namespace modelreg {

Result<OciConfig> ParseOciUrl(const std::string& url) { return Status::FailedPrecondition("oci blobs: not built yet"); }
Status LoadOciCredentials(OciConfig* cfg, const std::string& credentials_file) {
  return Status::FailedPrecondition("oci blobs: not built yet");
}
Result<std::unique_ptr<BlobBackend>> OpenOciBackend(const OciConfig& cfg, const std::string& data_dir) {
  return Status::FailedPrecondition("oci blobs: not built yet");
}

}  // namespace modelreg
