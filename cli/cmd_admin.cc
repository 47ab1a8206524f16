// modelreg admin fsck --data DIR [--blobs URL] [--repair] | admin backup --data DIR DEST
// | admin migrate --from-data DIR --db URL [--blobs URL] | admin gc --data DIR [--dry-run] [--grace S]
#include <fcntl.h>
#include <sys/file.h>

#include "codec/json_codec.h"
#include "common.h"
#include "core/file_util.h"
#include "core/flag_values.h"
#include "service/registry_service.h"

namespace modelreg::cli {
namespace {

// A single-node registry copied into PostgreSQL (and an OCI registry).
int Migrate(Args& args) {
  args.ExpectPositional(1, 1);
  auto from = args.Get("--from-data");
  if (!from) throw UsageError("--from-data DIR (the single-node registry to copy) is required");
  auto db = args.Get("--db");
  if (!db) throw UsageError("--db postgresql://USER@HOST:PORT/DB (where to copy it) is required");
  // Nothing may change the source meanwhile: hold its serve lock.
  const std::string lock_path = *from + "/LOCK";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock.valid()) return Fail(Status::FromErrno("open " + lock_path, errno));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
    return Fail(Status::FailedPrecondition("a modelreg serve is running on " + *from + ": stop it first"));
  auto source = OpenExistingRegistry(*from, ServiceOptions{});
  if (!source.ok()) return Fail(source.status());
  // The target signs with the source's key (agents pinned it), and keeps
  // its blobs where --blobs says, else in DIR (replicas then share DIR).
  ServiceOptions target_opts;
  target_opts.db_url = *db;
  target_opts.db_password_file = args.GetOr("--db-password-file", "");
  target_opts.release_key_file = *from + "/keys/release.key";
  target_opts.oci_blobs = OrUsageError(BlobsFromFlags(args));
  auto target = RegistryService::Open(*from, target_opts);
  if (!target.ok()) return Fail(target.status());
  MigrateReport report;
  Status st = (*source)->MigrateInto(**target, &report);
  if (!st.ok()) return Fail(st.WithContext("admin migrate (run it again to continue)"));
  if (WantJson(args)) {
    nlohmann::json rows = nlohmann::json::object();
    for (const auto& [table, n] : report.rows) rows[table] = n;
    PrintJson({{"ok", true},
               {"blobs_copied", report.blobs_copied},
               {"blobs_present", report.blobs_present},
               {"bytes_copied", report.bytes_copied},
               {"rows_added", rows}});
  } else {
    int64_t total = 0;
    for (const auto& r : report.rows) total += r.second;
    std::cout << "migrated " << *from << " into " << *db << ": " << report.blobs_copied << " blobs copied ("
              << HumanBytes(report.bytes_copied) << "), " << report.blobs_present << " already there, " << total
              << " rows added\n"
              << "start replicas with: modelreg serve --data DIR --db " << *db << " --release-key " << *from
              << "/keys/release.key" << (target_opts.oci_blobs ? " --blobs ..." : "") << "\n";
  }
  return kExitOk;
}

}  // namespace

int CmdAdmin(const std::vector<std::string>& argv) {
  Args args(argv,
            {"--data", "--blobs", "--blobs-ca", "--blobs-credentials", "--from-data", "--db", "--db-password-file",
             "--grace"},
            {"--json", "--repair", "--dry-run", "--no-retention"});
  const std::string& sub = args.Pos(0, "subcommand (fsck, backup, migrate, gc)");
  if (sub != "fsck" && sub != "backup" && sub != "migrate" && sub != "gc")
    throw UsageError("unknown admin subcommand '" + sub + "'");
  if (sub != "gc" && (args.Has("--dry-run") || args.Has("--no-retention") || args.Has("--grace")))
    throw UsageError("--dry-run, --grace and --no-retention are for `admin gc`");
  if (sub == "migrate") return Migrate(args);
  args.ExpectPositional(sub == "backup" ? 2 : 1, sub == "backup" ? 2 : 1);
  if (args.Has("--repair") && sub != "fsck") throw UsageError("--repair is for fsck");
  auto data = args.Get("--data");
  if (!data) throw UsageError("--data DIR is required");
  ServiceOptions svc_opts;
  svc_opts.oci_blobs = OrUsageError(BlobsFromFlags(args));
  auto svc = OpenExistingRegistry(*data, svc_opts);
  if (!svc.ok()) return Fail(svc.status());
  if (sub == "backup") {
    const std::string& dest = args.Pos(1, "DEST");
    Status st = (*svc)->Backup(dest);
    if (!st.ok()) return Fail(st);
    if (WantJson(args)) PrintJson({{"backup", dest}, {"ok", true}});
    else
      std::cout << "backup of " << *data << " written to " << dest << " (start it with: modelreg serve --data " << dest
                << ")\n";
    return kExitOk;
  }
  if (sub == "gc") {
    GcOptions o;
    o.dry_run = args.Has("--dry-run");
    o.apply_retention = !args.Has("--no-retention");
    if (auto g = args.Get("--grace"))
      o.grace_ms = OrUsageError(ParseCountFlag(*g, "--grace", 0, 3650ll * 86400)) * 1000;
    auto r = (*svc)->CollectGarbage(RegistryService::LocalOperator(), o);
    if (!r.ok()) return Fail(r.status());
    if (WantJson(args)) PrintJson(codec::ToJson(*r));
    else PrintGcReport(codec::ToJson(*r));
    return kExitOk;
  }
  auto r = (*svc)->Fsck(args.Has("--repair"));
  if (!r.ok()) return Fail(r.status());
  if (WantJson(args)) {
    PrintJson({{"ok", r->ok()},
               {"blobs_checked", r->blobs_checked},
               {"bytes_checked", r->bytes_checked},
               {"references_checked", r->references_checked},
               {"versions_cross_checked", r->versions_cross_checked},
               {"problems", r->problems},
               {"repaired", r->repaired}});
  } else {
    for (const auto& p : r->repaired) std::cout << "REPAIRED " << p << "\n";
    for (const auto& p : r->problems) std::cout << "PROBLEM " << p << "\n";
    std::cout << (r->ok() ? "ok" : "FAILED") << ": " << r->blobs_checked << " blobs (" << HumanBytes(r->bytes_checked)
              << ") re-hashed, " << r->references_checked << " references checked, " << r->versions_cross_checked
              << " versions cross-checked with their lineage records and the audit log, " << r->problems.size()
              << " problems\n";
  }
  return r->ok() ? kExitOk : kExitFailure;
}

}  // namespace modelreg::cli
