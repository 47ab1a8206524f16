#include "support/pg_test_db.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace modelreg::testing {

std::optional<std::string> TestPostgresCluster() {
  const char* file = std::getenv("MODELREG_TEST_PG_URL_FILE");
  if (!file || !*file) return std::nullopt;
  std::ifstream in(file);
  std::string url;
  if (!std::getline(in, url) || url.empty())
    throw std::runtime_error(std::string("MODELREG_TEST_PG_URL_FILE=") + file +
                             " holds no URL: did the 'pg' fixture (scripts/pg_cluster.sh) start?");
  return url;
}

std::string NewTestDatabase() {
  auto cluster = TestPostgresCluster();
  if (!cluster) throw std::runtime_error("NewTestDatabase outside the PostgreSQL run");
  static std::atomic<int> counter{0};
  const std::string name = "mr_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
                           std::to_string(static_cast<unsigned>(std::rand()) % 100000);
  PGconn* c = PQconnectdb(cluster->c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string err = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("test PostgreSQL unreachable: " + err);
  }
  PGresult* r = PQexec(c, ("CREATE DATABASE " + name + " TEMPLATE template0").c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string err = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error("CREATE DATABASE " + name + ": " + err);
  const size_t slash = cluster->rfind('/');
  return cluster->substr(0, slash + 1) + name;
}

std::string TestDatabaseUrl() { return TestPostgresCluster() ? NewTestDatabase() : ""; }

}  // namespace modelreg::testing
