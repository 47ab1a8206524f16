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
  int64_t rows_read = 0;                              // rows read from the source, every table (each row once)
};

// Rows read (and written, in one target transaction) per page.
constexpr int64_t kCopyPageRows = 2000;

// Copies every table but open upload sessions, in an order that respects
// foreign keys, with the same keys and values; rows whose key the target
// already holds are left as they are, so a copy interrupted and run again
// completes. The target must be empty or hold an earlier copy of the same
// registry: a target whose audit log is not a prefix of the source's is
// refused (FailedPrecondition) before anything is written. On PostgreSQL,
// identity sequences are moved past the copied ids.
//
// Each table is read in pages of `page_rows` rows in primary-key order,
// each page starting after the last key of the one before (not at an
// OFFSET, which would rescan the rows before it: decisions may hold tens of
// millions), so the copy takes time linear in the rows.
Status CopyAllRows(Database& from, Database& to, CopyReport* report, int64_t page_rows = kCopyPageRows);

}  // namespace modelreg::store
