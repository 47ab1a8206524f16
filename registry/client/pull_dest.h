// What a pull's DEST already holds, compared with the bundle to pull
// (docs/cli.md, `pull`): nothing (absent or an empty directory), exactly
// that bundle (every file of the manifest with its size and sha256, and no
// other file), or something else.
#pragma once

#include <string>

#include "core/manifest.h"
#include "core/status.h"

namespace modelreg {

enum class DestContent { kNothing, kSameBundle, kOther };

// Reads (and hashes, when the sizes agree) the files under `dest`.
Result<DestContent> CompareDest(const std::string& dest, const Manifest& m);

// Swaps the directory entries `a` and `b` in one step (renameat2
// RENAME_EXCHANGE; where the file system lacks it, two renames).
Status ExchangePaths(const std::string& a, const std::string& b);

}  // namespace modelreg
