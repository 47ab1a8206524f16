// The SQLite engine behind store/database.h (internal to the store layer).
#pragma once

#include <memory>
#include <string>

#include "store/database.h"

namespace modelreg {

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path, const Database::Options& options);

}  // namespace modelreg
