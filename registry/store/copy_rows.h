// Copies a registry's rows from one database to another (`admin migrate`:
// a single-node SQLite registry into PostgreSQL; docs/operations.md
// "Moving an existing registry").
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store/database.h"

namespace modelreg::store {

struct CopyReport {
  std::vector<std::pair<std::string, int64_t>> rows;  // table -> rows now in the target that were not before
};

// Copies every table but open upload sessions, in an order that respects
// foreign keys, with the same keys and values; rows whose key the target
// already holds are left as they are, so a copy interrupted and run again
// completes. The target must be empty or hold an earlier copy of the same
// registry: a target whose audit log is not a prefix of the source's is
// refused (FailedPrecondition) before anything is written. On PostgreSQL,
// identity sequences are moved past the copied ids.
Status CopyAllRows(Database& from, Database& to, CopyReport* report);

}  // namespace modelreg::store
