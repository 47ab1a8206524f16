// modelreg register MODEL DIR [lineage flags]: pack, hash, upload what the
// registry lacks, register the manifest.
#include <chrono>
#include <filesystem>

#include "codec/json_codec.h"
#include "common.h"
#include "core/file_util.h"
#include "core/profile.h"
#include "core/profile_builder.h"
#include "lineage/git_capture.h"
#include "progress.h"

namespace modelreg::cli {
namespace {

std::pair<std::string, std::string> SplitKV(const std::string& s, const char* flag) {
  auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) throw UsageError(std::string(flag) + " wants K=V, got '" + s + "'");
  return {s.substr(0, eq), s.substr(eq + 1)};
}

Result<LineageRecord> BuildLineage(const std::string& model, const Args& args) {
  LineageRecord r;
  r.model = model;
  std::set<std::string> dataset_names;
  auto add_dataset = [&](DatasetRef d) -> Status {
    if (!dataset_names.insert(d.name).second) return Status::InvalidArgument("dataset '" + d.name + "' given twice");
    r.data.push_back(std::move(d));
    return Status::OK();
  };
  for (const auto& spec : args.GetAll("--data")) {
    auto [name, rest] = SplitKV(spec, "--data");
    DatasetRef d{name, rest, std::nullopt};
    auto at = rest.rfind("@sha256:");
    if (at != std::string::npos) {
      d.uri = rest.substr(0, at);
      MR_ASSIGN_OR_RETURN(Digest dg, Digest::Parse(rest.substr(at + 1)));
      d.digest = dg;
    }
    MR_RETURN_IF_ERROR(add_dataset(std::move(d)));
  }
  for (const auto& spec : args.GetAll("--data-path")) {
    auto [name, path] = SplitKV(spec, "--data-path");
    auto dg = DigestDataPath(path);
    if (!dg.ok()) return dg.status().WithContext("dataset " + name);
    MR_RETURN_IF_ERROR(
        add_dataset(DatasetRef{name, "file://" + std::filesystem::absolute(path).lexically_normal().string(), *dg}));
  }
  if (auto dir = args.Get("--code-dir")) {
    if (args.Has("--code-repo") || args.Has("--code-commit"))
      throw UsageError("--code-dir and --code-repo/--code-commit exclude each other");
    auto code = CaptureGitCode(*dir);
    if (!code.ok()) return code.status().WithContext("--code-dir");
    r.code = *code;
  } else if (args.Has("--code-repo") || args.Has("--code-commit")) {
    auto commit = args.Get("--code-commit");
    if (!commit) throw UsageError("--code-repo needs --code-commit SHA");
    r.code = CodeRef{StripUrlCredentials(args.GetOr("--code-repo", "")), *commit, "", false, ""};
  }
  if (r.code) {
    if (auto ep = args.Get("--entrypoint")) r.code->entrypoint = *ep;
    if (auto br = args.Get("--code-branch")) r.code->branch = *br;
  }
  if (auto f = args.Get("--params-file")) {
    MR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(*f, 1 << 20));
    auto p = ParseParamsJson(text);
    if (!p.ok()) return p.status().WithContext(*f);
    r.params = *p;
  }
  for (const auto& spec : args.GetAll("--param")) {
    auto [k, v] = SplitKV(spec, "--param");
    r.params[k] = ParseParamText(v);
  }
  if (auto f = args.Get("--metrics-file")) {
    MR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(*f, 1 << 20));
    auto m = ParseMetricsJson(text);
    if (!m.ok()) return m.status().WithContext(*f);
    r.metrics = *m;
  }
  for (const auto& spec : args.GetAll("--metric")) {
    auto [k, v] = SplitKV(spec, "--metric");
    MR_ASSIGN_OR_RETURN(r.metrics[k], ParseMetricText(k, v));
  }
  for (const auto& spec : args.GetAll("--env")) {
    auto [k, v] = SplitKV(spec, "--env");
    r.environment[k] = v;
  }
  if (auto p = args.Get("--parent")) {
    MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(*p));
    r.parent = d;
  }
  // Validate exactly as the server will, before uploading anything.
  auto check = ParseLineage(SerializeLineage(r));
  if (!check.ok()) return check.status();
  MR_RETURN_IF_ERROR(CheckLineageText(*check));
  return r;
}

// The reference profile (docs/monitoring.md) from --profile-data NAME=PATH
// [--target C] [--output-column C] [--schema FILE]: its serialization, or
// "" when none of these flags is given. The profiled file also becomes a
// dataset of the lineage record (by digest), unless NAME is already one.
Result<std::string> BuildProfileBytes(const Args& args, LineageRecord* lineage) {
  const auto data = args.Get("--profile-data");
  const auto schema_file = args.Get("--schema");
  if (!data && (args.Has("--target") || args.Has("--output-column")))
    throw UsageError("--target and --output-column go with --profile-data NAME=PATH");
  if (!data && !schema_file) return std::string();
  Profile profile;
  if (data) {
    auto [name, path] = SplitKV(*data, "--profile-data");
    ProfileOptions opts;
    opts.dataset = name;
    opts.target = args.GetOr("--target", "");
    opts.output_column = args.GetOr("--output-column", "");
    const auto start = std::chrono::steady_clock::now();
    auto p = BuildProfileFromFile(path, opts);
    if (!p.ok()) return p.status().WithContext("--profile-data");
    profile = std::move(*p);
    if (!WantJson(args))
      std::cerr << "  profiled " << TerminalSafe(path) << ": " << Count(profile.rows, "row") << ", "
                << Count(profile.columns.size(), "input column") << (profile.output ? " and the output" : "") << " in "
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
    bool listed = false;
    for (const auto& d : lineage->data) listed = listed || d.name == name;
    if (!listed) {
      auto dg = DigestDataPath(path);
      if (!dg.ok()) return dg.status().WithContext("dataset " + name);
      lineage->data.push_back(
          DatasetRef{name, "file://" + std::filesystem::absolute(path).lexically_normal().string(), *dg});
      MR_RETURN_IF_ERROR(CheckLineageText(*lineage));
    }
  }
  if (schema_file) {
    MR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(*schema_file, 16 << 20));
    auto s = ParseSchemaJson(text);
    if (!s.ok()) return s.status().WithContext(*schema_file);
    profile.schema = std::move(*s);
  }
  std::string bytes = SerializeProfile(profile);
  if (auto check = ParseProfile(bytes); !check.ok()) return check.status().WithContext("the computed profile");
  return bytes;
}

// The size of the regular files under `dir`, for the progress line (0 when
// it cannot be read: Register then says why).
uint64_t BundleBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  return ec ? 0 : total;
}

}  // namespace

int CmdRegister(const std::vector<std::string>& argv) {
  Args args(
      argv,
      Merge(GlobalValueFlags(), {"--data", "--data-path", "--code-dir", "--code-repo", "--code-commit", "--code-branch",
                                 "--entrypoint", "--param", "--params-file", "--metric", "--metrics-file", "--env",
                                 "--parent", "--profile-data", "--target", "--output-column", "--schema"}),
      GlobalBoolFlags());
  args.ExpectPositional(2, 2);
  const std::string& model = args.Pos(0, "MODEL");
  const std::string& dir = args.Pos(1, "DIR");
  if (Status st = ValidateModelName(model); !st.ok()) throw UsageError(st.message());
  auto lineage = BuildLineage(model, args);
  if (!lineage.ok()) return Fail(lineage.status());
  auto profile = BuildProfileBytes(args, &*lineage);
  if (!profile.ok()) return Fail(profile.status());
  TransferProgress progress;
  progress.hash_total = BundleBytes(dir);
  auto client = MakeClient(args, &progress);
  if (!client.ok()) return Fail(client.status());
  auto out = [&] {
    ProgressLine line(&progress, "sent", WantJson(args));
    return (*client)->Register(model, dir, *lineage, *profile);
  }();
  if (!out.ok()) return Fail(out.status());
  auto record = codec::Decode<VersionRecord>(out->version);
  if (!record.ok())
    return Fail(
        Status::Internal("the registry's answer is not what this client reads (register: " + record.status().message() +
                         "); is MODELREG_URL / --registry a modelreg registry of this version?"));
  const auto c = out->version.find("created");  // an object: it decoded
  const bool created = c != out->version.end() && c->is_boolean() && c->get<bool>();
  if (WantJson(args)) {
    PrintJson({{"model", model},
               {"version", record->number},
               {"digest", record->digest},
               {"created", created},
               {"files", out->stats.files},
               {"bytes", out->stats.bytes_total},
               {"bytes_uploaded", out->stats.bytes_uploaded}});
  } else {
    std::cout << "registered " << model << " version " << record->number << " " << TerminalSafe(record->digest) << "\n";
    std::cerr << "  " << Count(out->stats.files, "file") << ", " << HumanBytes(out->stats.bytes_total) << "; uploaded "
              << Count(out->stats.blobs_uploaded, "blob") << ", " << HumanBytes(out->stats.bytes_uploaded)
              << (created ? "" : " (already registered)") << "\n";
  }
  return kExitOk;
}

}  // namespace modelreg::cli
