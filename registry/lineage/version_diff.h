// What differs between two versions of a model: params, metrics,
// environment, code, parent, datasets and files. It is what an approver
// reads before approving (`modelreg diff`). Pure, thread-safe.
#pragma once

#include "core/lineage_record.h"
#include "core/manifest.h"
#include "core/version_diff_record.h"

namespace modelreg {

// Every list is sorted by name (files by path, byte order).
VersionDiff DiffVersions(const LineageRecord& from, const Manifest& from_manifest, const LineageRecord& to,
                         const Manifest& to_manifest);

}  // namespace modelreg
