// The JSON pieces every OCI image manifest shares, read the one way for the
// bundle manifest (core/manifest.cc) and a pushed referrer
// (core/oci_referrer.cc). Internal to the core library.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/manifest.h"
#include "core/status.h"

namespace modelreg {

// A descriptor: mediaType, digest, size, and the title annotation if any.
Result<Descriptor> ParseDescriptor(const nlohmann::json& j, const std::string& where);
// schemaVersion 2 and mediaType kOciManifestMediaType.
Status CheckImageManifestHeader(const nlohmann::json& j);

}  // namespace modelreg
