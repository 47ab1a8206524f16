// The PostgreSQL engine behind store/database.h, through libpq (internal to
// the store layer). docs/operations.md "PostgreSQL" says how to run it.
#pragma once

#include <memory>
#include <string>

#include "store/database.h"

namespace modelreg {

// `url`: postgresql://USER@HOST:PORT/DB[?param=...]. A password inside the
// URL is refused (it would show in `ps` and in logs): libpq reads it from
// PGPASSWORD or ~/.pgpass, or Options::password_file names a file.
Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url, const Database::Options& options);

// InvalidArgument if `url` carries a password (user:password@ or
// password=); what the error says never repeats the password.
Status CheckNoPasswordInUrl(const std::string& url);

}  // namespace modelreg
