// The PostgreSQL side of "one test suite, two backends". ctest runs the
// api and service tests twice: as they are (SQLite under --data), and with
// MODELREG_TEST_PG_URL_FILE naming the URL of a throwaway cluster that the
// "pg" fixture started (scripts/pg_cluster.sh). In that second run
// every server and service a test opens gets a fresh database of its own.
#pragma once

#include <optional>
#include <string>

namespace modelreg::testing {

// The cluster's URL when this run is the PostgreSQL one; nullopt otherwise.
std::optional<std::string> TestPostgresCluster();
// Creates an empty database on the cluster; returns its URL. Throws if the
// cluster cannot be reached.
std::string NewTestDatabase();
// NewTestDatabase() in the PostgreSQL run, "" (SQLite) otherwise.
std::string TestDatabaseUrl();

}  // namespace modelreg::testing
