#include "service/replica_config.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "blob/oci_backend.h"
#include "core/file_util.h"

namespace modelreg {
namespace {

std::string ConfigPath(const std::string& data_dir) { return data_dir + "/replica.json"; }

}  // namespace

Status WriteReplicaConfig(const std::string& data_dir, const ServiceOptions& options) {
  if (options.db_url.empty() && !options.oci_blobs) {
    if (::unlink(ConfigPath(data_dir).c_str()) != 0 && errno != ENOENT)
      return Status::FromErrno("remove " + ConfigPath(data_dir), errno);
    return Status::OK();
  }
  nlohmann::json j = nlohmann::json::object();
  if (!options.db_url.empty()) {
    j["db"] = options.db_url;
    j["db_password_file"] = options.db_password_file;
    j["release_key"] = options.release_key_file;
  }
  if (options.oci_blobs) {
    j["blobs"] = OciUrlOf(*options.oci_blobs);
    j["blobs_ca"] = options.oci_blobs->ca_file;
    j["blobs_credentials"] = options.oci_blobs->credentials_file;
  }
  return WriteFileAtomic(ConfigPath(data_dir), j.dump(2) + "\n", 0600);
}

Status ReadReplicaConfig(const std::string& data_dir, ServiceOptions* options) {
  const std::string path = ConfigPath(data_dir);
  if (::access(path.c_str(), F_OK) != 0) return Status::OK();
  MR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, 1 << 16));
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto str = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  if (!j.is_object() || (str("db").empty() && str("blobs").empty()))
    return Status::DataLoss(path + " is not a replica configuration (JSON with \"db\" or \"blobs\")");
  if (!str("db").empty()) {
    options->db_url = str("db");
    options->db_password_file = str("db_password_file");
    options->release_key_file = str("release_key");
  }
  if (!str("blobs").empty() && !options->oci_blobs) {
    auto cfg = ParseOciUrl(str("blobs"));
    if (!cfg.ok()) return cfg.status().WithContext(path);
    cfg->ca_file = str("blobs_ca");
    MR_RETURN_IF_ERROR(LoadOciCredentials(&*cfg, str("blobs_credentials")).WithContext(path));
    options->oci_blobs = std::move(cfg).value();
  }
  return Status::OK();
}

}  // namespace modelreg
