// Validation of bundle file paths (docs/architecture.md), in one place for the client
// (pack, unpack) and the server (manifest intake).
//
// A bundle path is relative POSIX, valid UTF-8, has no leading '/', no '.',
// '..' or empty component, no '\\', NUL or control characters. A set of
// paths must not contain two paths equal after case-folding and Unicode
// normalization (a case-insensitive or normalizing filesystem would make them
// one file), nor a file that is also a directory prefix of another. Pure
// functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace modelreg {

struct BundleLimits {
  uint64_t max_manifest_bytes = 4ull << 20;  // 4 MiB
  uint64_t max_files = 100000;
  size_t max_path_bytes = 4096;
};

// InvalidArgument naming the path and the rule it breaks.
Status ValidateBundlePath(std::string_view path, const BundleLimits& limits = {});

// Checks each path and the set rules. `paths` in any order.
Status ValidateBundlePathSet(const std::vector<std::string>& paths, const BundleLimits& limits = {});

// The form used for collision checks: Unicode canonical caseless matching,
// NFD(casefold(NFD(s))) with full case folding and no language tailoring
// (libunistring), so 'Ä' = 'ä' = 'a'+U+0308, 'ς' = 'σ', 'ß' = 'ss'. ASCII is
// only lowercased; invalid UTF-8 keeps its bytes. Idempotent. Exposed for tests.
std::string CaseFold(std::string_view utf8);

// Model names: [a-z0-9][a-z0-9._-]{0,127}. Token names: same alphabet plus
// upper case. Kept strict because they appear in URLs, globs and logs.
Status ValidateModelName(std::string_view name);
Status ValidateTokenName(std::string_view name);

}  // namespace modelreg
