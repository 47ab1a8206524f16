// The PostgreSQL pool of one replica: a burst of concurrent transactions
// waits for pooled connections instead of opening one server backend each
// (store/pg_backend.cc, kMaxOpen). Runs in the PostgreSQL run ([service]
// tests re-run as "unit-pg:"); without a test cluster there is nothing to do.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "store/database.h"
#include "support/pg_test_db.h"

namespace modelreg {
namespace {

TEST_CASE("PostgreSQL pool: 48 concurrent transactions share at most 16 connections, all succeed", "[store][service]") {
  if (!testing::TestPostgresCluster()) return;  // the SQLite run
  auto db = Database::Open(testing::NewTestDatabase());
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  auto backends = [&] {
    int64_t n = -1;
    // Every backend of this test's database with modelreg's application name, this one included.
    Status st = (*db)->Transact(TxMode::kRead, [&](Tx& tx) {
      n = QueryInt64(tx,
                     "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                     "application_name = 'modelreg'");
      return Status::OK();
    });
    REQUIRE(st.ok());
    return n;
  };
  std::atomic<int> ok{0};
  std::atomic<int64_t> most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 48; ++i)
    threads.emplace_back([&] {
      Status st = (*db)->Transact(TxMode::kRead, [&](Tx& tx) {
        int64_t n = QueryInt64(tx,
                               "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                               "application_name = 'modelreg'");
        for (int64_t m = most.load(); n > m && !most.compare_exchange_weak(m, n);) {}
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // hold the connection
        return Status::OK();
      });
      if (st.ok()) ++ok;
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 48);
  INFO("most backends seen " << most.load());
  CHECK(most.load() <= 16);
  CHECK(most.load() >= 2);  // they did run side by side
  CHECK(backends() <= 16);  // and stay pooled afterwards
}

}  // namespace
}  // namespace modelreg
