// What a replica's data directory records about where its state lives:
// DATA/replica.json, written by `serve` when it runs on PostgreSQL or keeps
// blobs in an OCI registry, so that local commands on the same host (`token
// create --data DIR`, `admin fsck --data DIR`) reach the same database, key
// and blob store without repeating the flags. It holds the database URL
// (never a password), the blob registry's URL, and the paths of the
// password file, release key, CA bundle and credentials file (never a
// credential).
#pragma once

#include <string>

#include "core/status.h"
#include "service/registry_service.h"

namespace modelreg {

// Writes (atomically) or, for SQLite with local blobs, removes DATA/replica.json.
Status WriteReplicaConfig(const std::string& data_dir, const ServiceOptions& options);
// Fills db_url, db_password_file, release_key_file and (unless given)
// oci_blobs from DATA/replica.json if it exists; leaves `options` alone
// otherwise.
Status ReadReplicaConfig(const std::string& data_dir, ServiceOptions* options);

}  // namespace modelreg
