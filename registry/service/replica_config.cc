#include "service/replica_config.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "core/file_util.h"

namespace modelreg {
namespace {

std::string ConfigPath(const std::string& data_dir) { return data_dir + "/replica.json"; }

}  // namespace

Status WriteReplicaConfig(const std::string& data_dir, const ServiceOptions& options) {
  if (options.db_url.empty()) {
    if (::unlink(ConfigPath(data_dir).c_str()) != 0 && errno != ENOENT)
      return Status::FromErrno("remove " + ConfigPath(data_dir), errno);
    return Status::OK();
  }
  nlohmann::json j = {{"db", options.db_url},
                      {"db_password_file", options.db_password_file},
                      {"release_key", options.release_key_file}};
  return WriteFileAtomic(ConfigPath(data_dir), j.dump(2) + "\n", 0600);
}

Status ReadReplicaConfig(const std::string& data_dir, ServiceOptions* options) {
  const std::string path = ConfigPath(data_dir);
  if (::access(path.c_str(), F_OK) != 0) return Status::OK();
  MR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, 1 << 16));
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("db") || !j["db"].is_string())
    return Status::DataLoss(path + " is not a replica configuration (JSON with \"db\")");
  options->db_url = j["db"].get<std::string>();
  if (j.contains("db_password_file") && j["db_password_file"].is_string())
    options->db_password_file = j["db_password_file"].get<std::string>();
  if (j.contains("release_key") && j["release_key"].is_string())
    options->release_key_file = j["release_key"].get<std::string>();
  return Status::OK();
}

}  // namespace modelreg
