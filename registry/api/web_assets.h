// The web UI's static files (web/*), compiled into the binary by
// cmake/embed_web.cmake so that `modelreg serve` needs no file tree.
//
// The table is the only source of servable names: a request names a file by
// its exact name or gets 404, so no path ever reaches the filesystem.
// Immutable after static initialisation; safe from any thread.
#pragma once

#include <string_view>
#include <vector>

namespace modelreg::api {

struct WebAsset {
  std::string_view name;   // e.g. "app.js"; never contains '/'
  std::string_view bytes;  // the file's exact content
};

// Every embedded file, sorted by name.
const std::vector<WebAsset>& EmbeddedWebAssets();

// The asset called exactly `name`, or nullptr.
const WebAsset* FindWebAsset(std::string_view name);

// Content-Type for an asset name, by its extension.
std::string_view WebContentType(std::string_view name);

}  // namespace modelreg::api
