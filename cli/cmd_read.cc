// modelreg models | versions | show | pull | whoami
#include "client/api_path.h"
#include "common.h"
#include "core/clock.h"
#include "core/param_json.h"
#include "core/profile.h"
#include "progress.h"
#include "table.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

Args ClientArgs(const std::vector<std::string>& argv, const std::set<std::string>& value_flags = {}) {
  return Args(argv, Merge(GlobalValueFlags(), value_flags), GlobalBoolFlags());
}

std::string Opt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

std::string Num(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// One line per column of a reference profile (docs/monitoring.md): type,
// missing share, range or top categories.
void PrintProfile(const Profile& p) {
  std::cout << "profile:  " << TerminalSafe(p.dataset.empty() ? "(schema only)" : p.dataset) << ", "
            << Count(p.rows, "row") << ", " << Count(p.columns.size(), "input column")
            << (p.output ? ", output " + TerminalSafe(p.output->name) : "") << "\n";
  auto line = [](const char* label, const ColumnProfile& c) {
    std::cout << label << TerminalSafe(c.name) << "  " << ColumnTypeName(c.type);
    if (c.count > 0) std::cout << "  missing " << Num(100.0 * c.missing / c.count) << "%";
    if (c.type == ColumnType::kNumeric && c.count > c.missing)
      std::cout << "  [" << Num(c.min) << ", " << Num(c.max) << "]  " << c.edges.size() + 1 << " bins";
    if (c.type == ColumnType::kBoolean) std::cout << "  true " << Num(100.0 * c.fractions[1]) << "%";
    if (c.type == ColumnType::kCategorical) {
      std::cout << "  ";
      for (size_t i = 0; i < c.categories.size() && i < 5; ++i)
        std::cout << (i ? ", " : "") << TerminalSafe(c.categories[i]) << " " << Num(100.0 * c.fractions[i]) << "%";
      if (c.categories.size() > 5) std::cout << ", ...";
      std::cout << "; other " << Num(100.0 * c.fractions.back()) << "%";
    }
    std::cout << "\n";
  };
  for (const auto& c : p.columns) line("  column: ", c);
  if (p.output) line("  output: ", *p.output);
}

std::string MetricsText(const std::map<std::string, double>& metrics) {
  std::string out;
  for (const auto& [name, value] : metrics)
    out += (out.empty() ? "" : " ") + TerminalSafe(name) + "=" + JsonText(json(value));
  return out;
}

}  // namespace

int CmdModels(const std::vector<std::string>& argv) {
  Args args = ClientArgs(argv, {"-o", "--output"});
  args.ExpectPositional(0, 0);
  const OutputFormat format = OutputFormatOf(args, true);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto models = (*client)->Models(&raw);
  if (!models.ok()) return Fail(models.status());
  if (PrintStructured(format, raw)) return kExitOk;
  if (format == OutputFormat::kName) {
    for (const auto& m : *models) std::cout << TerminalSafe(m.name) << "\n";
    return kExitOk;
  }
  Table t;
  t.Column("MODEL", 32)
      .Column("VERSIONS")
      .Column("LATEST")
      .Column("PRODUCTION")
      .Column("CREATED BY", 16, true)
      .Column("CREATED");
  for (const auto& m : *models)
    t.Row({TerminalSafe(m.name), std::to_string(m.version_count), Opt(m.latest_version), Opt(m.production_version),
           TerminalSafe(m.created_by), FormatIsoTime(m.created_at_ms)});
  t.Print(std::cout, format == OutputFormat::kWide);
  return kExitOk;
}

int CmdVersions(const std::vector<std::string>& argv) {
  Args args = ClientArgs(argv, {"-o", "--output"});
  args.ExpectPositional(1, 1);
  const OutputFormat format = OutputFormatOf(args, true);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto versions = (*client)->Versions(args.Pos(0, "MODEL"), &raw);
  if (!versions.ok()) return Fail(versions.status());
  if (PrintStructured(format, raw)) return kExitOk;
  if (format == OutputFormat::kName) {
    for (const auto& v : *versions) std::cout << v.record.number << "\n";
    return kExitOk;
  }
  const bool wide = format == OutputFormat::kWide;
  Table t;
  t.Column("VERSION")
      .Column("STAGE")
      .Column("DIGEST")
      .Column("FILES")
      .Column("SIZE")
      .Column("CREATED BY", 16)
      .Column("CREATED", 0, true)
      .Column("METRICS");
  for (const auto& v : *versions)
    t.Row({std::to_string(v.record.number), TerminalSafe(v.record.stage) + (v.record.deleted() ? " deleted" : ""),
           TerminalSafe(wide ? v.record.digest : ShortDigest(v.record.digest)), std::to_string(v.record.file_count),
           HumanBytes(v.record.total_bytes), TerminalSafe(v.record.created_by), FormatIsoTime(v.record.created_at_ms),
           MetricsText(v.metrics)});
  t.Print(std::cout, wide);
  return kExitOk;
}

int CmdShow(const std::vector<std::string>& argv) {
  Args args = ClientArgs(argv);
  args.ExpectPositional(2, 2);
  const std::string& model = args.Pos(0, "MODEL");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw, lineage_raw;
  auto v = (*client)->Version(model, args.Pos(1, "VERSION"), &raw);
  if (!v.ok()) return Fail(v.status());
  // By digest: the same version even if VERSION names a stage that moves meanwhile.
  auto lineage = (*client)->LineageOf(model, v->record.digest, &lineage_raw);
  if (!lineage.ok()) return Fail(lineage.status());
  if (WantJson(args)) {
    raw["params"] = lineage_raw["params"];
    raw["environment"] = lineage_raw["environment"];
    raw["profile"] = lineage_raw.value("profile", json(nullptr));
    PrintJson(raw);
    return kExitOk;
  }
  const VersionRecord& r = v->record;
  std::cout << "model:    " << TerminalSafe(r.model) << "\n"
            << "version:  " << r.number << "\n"
            << "digest:   " << TerminalSafe(r.digest) << "\n"
            << "stage:    " << TerminalSafe(r.stage) << "\n"
            << "files:    " << r.file_count << " (" << HumanBytes(r.total_bytes) << ")\n"
            << "created:  " << FormatIsoTime(r.created_at_ms) << " by " << TerminalSafe(r.created_by) << "\n";
  if (r.deleted())
    std::cout << "deleted:  at " << FormatIsoTime(*r.deleted_at_ms) << " by " << TerminalSafe(r.deleted_by)
              << " because " << TerminalSafe(r.delete_reason) << " (its files are no longer served)\n";
  if (!r.code_commit.empty())
    std::cout << "code:     " << TerminalSafe(r.code_repo) << " @ " << TerminalSafe(r.code_commit)
              << (r.code_dirty.value_or(false) ? " (dirty)" : "") << "\n";
  if (!r.parent_digest.empty()) std::cout << "parent:   " << TerminalSafe(r.parent_digest) << "\n";
  for (const auto& d : v->data)
    std::cout << "data:     " << TerminalSafe(d.name) << " " << TerminalSafe(d.uri) << " "
              << (d.digest.empty() ? "-" : TerminalSafe(d.digest)) << "\n";
  for (const auto& [k, p] : lineage->params)
    std::cout << "param:    " << TerminalSafe(k) << " = " << TerminalSafe(ParamJson(p).dump()) << "\n";
  for (const auto& [k, m] : v->metrics)
    std::cout << "metric:   " << TerminalSafe(k) << " = " << JsonText(json(m)) << "\n";
  for (const auto& [k, e] : lineage->environment)
    std::cout << "env:      " << TerminalSafe(k) << " = " << TerminalSafe(e) << "\n";
  if (lineage->profile) {
    auto j = (*client)->GetJson(ApiPath({"models", model, "versions", r.digest, "profile"}));
    if (!j.ok()) return Fail(j.status().WithContext("profile"));
    auto p = ParseProfile(j->dump());
    if (!p.ok()) return Fail(p.status());
    PrintProfile(*p);
  } else {
    std::cout << "profile:  none\n";
  }
  if (v->approvals.empty()) std::cout << "approvals: none\n";
  for (const auto& a : v->approvals)
    std::cout << "approved: by " << TerminalSafe(a.approver) << " at " << FormatIsoTime(a.created_at_ms)
              << (a.comment.empty() ? "" : ": " + TerminalSafe(a.comment)) << "\n";
  return kExitOk;
}

// The digest of the version now in `stage` (production: the one; other
// stages: the newest), so the pull fetches exactly that version even if the
// stage moves meanwhile.
Result<std::string> VersionInStage(RegistryClient& client, const std::string& model, const std::string& stage) {
  static const std::set<std::string> kStages = {"none", "staging", "production", "archived", "rejected"};
  if (!kStages.count(stage))
    throw UsageError("--stage wants none, staging, production, archived or rejected, not '" + stage + "'");
  MR_ASSIGN_OR_RETURN(auto versions, client.Versions(model));
  std::string digest;
  int64_t best = 0;
  for (const auto& v : versions)
    if (v.record.stage == stage && v.record.number > best) {
      best = v.record.number;
      digest = v.record.digest;
    }
  if (digest.empty()) return Status::NotFound("no version of " + model + " is in stage " + stage);
  return digest;
}

int CmdPull(const std::vector<std::string>& argv) {
  Args args(argv, Merge(GlobalValueFlags(), {"--stage"}), Merge(GlobalBoolFlags(), {"--force"}));
  const auto stage = args.Get("--stage");
  args.ExpectPositional(stage ? 2 : 3, stage ? 2 : 3);
  const std::string model = args.Pos(0, "MODEL");
  const std::string dest = args.Pos(stage ? 1 : 2, "DEST");
  TransferProgress progress;
  auto client = MakeClient(args, &progress);
  if (!client.ok()) return Fail(client.status());
  std::string ref;
  if (stage) {
    auto d = VersionInStage(**client, model, *stage);
    if (!d.ok()) return Fail(d.status());
    ref = *d;
  } else {
    ref = args.Pos(1, "VERSION");
  }
  auto out = [&] {
    ProgressLine line(&progress, "received", WantJson(args));
    return (*client)->PullChecked(model, ref, dest, args.Has("--force"));
  }();
  if (!out.ok()) return Fail(out.status());
  if (WantJson(args)) {
    PrintJson({{"model", model},
               {"version", out->version},
               {"digest", out->digest},
               {"dest", dest},
               {"files", out->stats.files},
               {"bytes", out->stats.bytes_total},
               {"bytes_downloaded", out->stats.bytes_downloaded},
               {"bytes_reused", out->stats.bytes_reused},
               {"unchanged", out->unchanged},
               {"replaced", out->replaced},
               {"verified", true}});
  } else if (out->unchanged) {
    std::cout << dest << " already holds the files of " << model << " version " << out->version << " "
              << TerminalSafe(out->digest) << " (" << Count(out->stats.files, "file")
              << ", all verified); nothing to pull\n";
  } else {
    std::cout << "pulled " << model << " version " << out->version << " " << TerminalSafe(out->digest) << " into "
              << dest << " (" << Count(out->stats.files, "file") << ", " << HumanBytes(out->stats.bytes_total)
              << ", all verified" << (out->replaced ? "; what it held before was replaced" : "") << ")\n";
    if (out->stats.bytes_reused > 0)
      std::cerr << "  " << HumanBytes(out->stats.bytes_reused) << " kept from an interrupted pull into " << dest << ", "
                << HumanBytes(out->stats.bytes_downloaded) << " downloaded\n";
  }
  return kExitOk;
}

int CmdWhoami(const std::vector<std::string>& argv) {
  Args args = ClientArgs(argv);
  args.ExpectPositional(0, 0);
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  json raw;
  auto id = (*client)->WhoAmI(&raw);
  if (!id.ok()) return Fail(id.status());
  if (WantJson(args)) PrintJson(raw);
  else std::cout << TerminalSafe(id->name) << " (" << TerminalSafe(id->role) << ")\n";
  return kExitOk;
}

}  // namespace modelreg::cli
