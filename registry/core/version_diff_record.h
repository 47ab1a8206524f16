// What differs between two versions of a model, as plain records: params,
// metrics, environment, code, parent, datasets and files. Computed by
// lineage/version_diff.h (DiffVersions); rendered by the API and the CLI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/lineage_record.h"

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

}  // namespace modelreg
