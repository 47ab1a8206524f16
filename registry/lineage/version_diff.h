// What differs between two versions of a model: params, metrics,
// environment, code, parent, datasets and files. It is what an approver
// reads before approving (`modelreg diff`). Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/lineage_record.h"
#include "core/manifest.h"

namespace modelreg {

// A named value present on one side, the other, or both with different
// values. An absent side is nullopt.
struct FieldChange {
  std::string name;
  std::optional<ParamValue> from, to;
};

struct DatasetChange {
  std::string name;
  std::optional<DatasetRef> from, to;
};

struct FileEntry {
  std::string path;
  uint64_t size = 0;
  std::string digest;
};

struct FileChange {
  std::string path;
  FileEntry from, to;
};

struct VersionDiff {
  std::vector<FieldChange> params, metrics, environment;
  std::vector<FieldChange> code;  // repo, commit, branch, dirty, entrypoint, parent
  std::vector<DatasetChange> data;
  std::vector<FileEntry> files_added, files_removed;
  std::vector<FileChange> files_changed;
  uint64_t files_unchanged = 0;

  bool empty() const {
    return params.empty() && metrics.empty() && environment.empty() && code.empty() && data.empty() &&
           files_added.empty() && files_removed.empty() && files_changed.empty();
  }
};

// Every list is sorted by name (files by path, byte order).
VersionDiff DiffVersions(const LineageRecord& from, const Manifest& from_manifest, const LineageRecord& to,
                         const Manifest& to_manifest);

}  // namespace modelreg
