// Fuzz target: manifest bytes as a client PUTs them (the server's intake)
// and as a registry serves them (the client's and agent's pull).
// Invariants: no crash; a manifest that parses re-serializes to bytes that
// parse to the same manifest; every layer path it accepted is a valid path.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/manifest.h"

using namespace modelreg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  BundleLimits limits;
  limits.max_files = 64;
  auto m = ParseManifest(in, limits);
  if (!m.ok()) {
    if (m.status().message().empty()) abort();  // every refusal says why
    return 0;
  }
  const std::string again = SerializeManifest(*m);
  auto m2 = ParseManifest(again, limits);
  if (!m2.ok() || SerializeManifest(*m2) != again) abort();
  for (const auto& l : m->layers)
    if (!ValidateBundlePath(l.title, limits).ok()) abort();
  return 0;
}
