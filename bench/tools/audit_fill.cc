// audit_fill DATA_DIR N: appends N audit events through the real store (the
// same AppendAudit the service uses), 10 000 per transaction. For
// bench/audit_verify.sh.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/audit_store.h"
#include "store/database.h"

using namespace modelreg;

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: audit_fill DATA_DIR N\n");
    return 2;
  }
  std::string dir = argv[1];
  long long n = std::atoll(argv[2]);
  auto db = Database::Open(dir + "/registry.db");
  if (!db.ok()) {
    fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  const char* actions[] = {"register", "approve", "promote", "rollback"};
  long long done = 0;
  while (done < n) {
    long long batch = std::min<long long>(10000, n - done);
    Status st = (*db)->Transact(TxMode::kWrite, [&](Tx& tx) {
      for (long long i = 0; i < batch; ++i) {
        long long k = done + i;
        AuditEvent e;
        e.at_ms = 1790000000000LL + k;
        e.actor = "approver-" + std::to_string(k % 7);
        e.action = actions[k % 4];
        e.model = "model-" + std::to_string(k % 1000);
        e.version = k % 50 + 1;
        e.details = "{\"from\":\"staging\",\"reason\":\"bench event " + std::to_string(k) + "\",\"to\":\"production\"}";
        store::AppendAudit(tx, &e);
      }
      return Status::OK();
    });
    if (!st.ok()) {
      fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
    done += batch;
  }
  printf("appended %lld events\n", done);
  return 0;
}
