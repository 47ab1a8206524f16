// modelreg admin fsck --data DIR [--blobs URL] [--repair] | admin backup --data DIR DEST
#include "common.h"
#include "service/registry_service.h"

namespace modelreg::cli {

int CmdAdmin(const std::vector<std::string>& argv) {
  Args args(argv, {"--data", "--blobs", "--blobs-ca", "--blobs-credentials"}, {"--json", "--repair"});
  const std::string& sub = args.Pos(0, "subcommand (fsck, backup)");
  if (sub != "fsck" && sub != "backup") throw UsageError("unknown admin subcommand '" + sub + "'");
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
