#include "common.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "auth/token.h"
#include "client/progress_text.h"
#include "connection.h"
#include "core/file_util.h"
#include "core/terminal_text.h"
#include "service/registry_service.h"
#include "service/replica_config.h"

namespace modelreg::cli {

std::set<std::string> GlobalValueFlags() { return {"--registry", "--token", "--token-file", "--ca", "--context"}; }
std::set<std::string> GlobalBoolFlags() { return {"--json"}; }

std::set<std::string> Merge(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

Result<std::unique_ptr<RegistryClient>> MakeClient(const Args& args, TransferProgress* progress) {
  ClientOptions o;
  o.progress = progress;
  MR_ASSIGN_OR_RETURN(Connection c, ResolveConnection(args));  // flags > env > config (cli/connection.h)
  o.url = c.url;
  o.token = c.token;
  o.ca_file = c.ca_file;
  const char* env_direct = std::getenv("MODELREG_DIRECT_IO");
  o.direct_io = !(env_direct && (std::string(env_direct) == "off" || std::string(env_direct) == "0"));
  if (o.token.empty())
    return Status::Unauthenticated("no token: run `modelreg login URL`, pass --token-file F, or set MODELREG_TOKEN");
  return RegistryClient::Create(o);
}

Result<std::unique_ptr<VerifyKey>> TrustedKey(const Args& args) {
  std::string pem;
  if (auto path = args.Get("--trust-key")) {
    MR_ASSIGN_OR_RETURN(pem, ReadSmallFile(*path, 1 << 20));
  } else {
    MR_ASSIGN_OR_RETURN(auto client, MakeClient(args));
    auto keys = client->KeysPem();
    if (!keys.ok()) return keys.status().WithContext("fetch the registry's key (or pass --trust-key PEM)");
    if (!keys->empty()) pem = keys->front();
    std::cerr << "modelreg: note: trusting the key the registry serves now; pin one with --trust-key\n";
  }
  return VerifyKey::FromPem(pem);
}

Result<std::optional<OciConfig>> BlobsFromFlags(const Args& args) {
  auto url = args.Get("--blobs");
  if (!url) {
    if (args.Has("--blobs-ca") || args.Has("--blobs-credentials"))
      return Status::InvalidArgument("--blobs-ca and --blobs-credentials need --blobs oci://HOST:PORT/PREFIX");
    return std::optional<OciConfig>();
  }
  MR_ASSIGN_OR_RETURN(OciConfig cfg, ParseOciUrl(*url));
  cfg.ca_file = args.GetOr("--blobs-ca", "");
  if (!cfg.ca_file.empty() && cfg.plain_http) return Status::InvalidArgument("--blobs-ca is for oci:// (TLS)");
  MR_RETURN_IF_ERROR(LoadOciCredentials(&cfg, args.GetOr("--blobs-credentials", "")));
  return std::optional<OciConfig>(std::move(cfg));
}

Result<std::unique_ptr<RegistryService>> OpenExistingRegistry(const std::string& data_dir, ServiceOptions options) {
  // A replica on PostgreSQL recorded where its database is (replica.json).
  MR_RETURN_IF_ERROR(ReadReplicaConfig(data_dir, &options));
  std::error_code ec;
  if (options.db_url.empty() && !std::filesystem::is_regular_file(std::filesystem::path(data_dir) / "registry.db", ec))
    return Status::NotFound("no registry in " + data_dir +
                            " (it has no registry.db): check --data; 'modelreg serve --data DIR' creates one");
  return RegistryService::Open(data_dir, std::move(options));
}

Result<std::string> WriteOutput(const Args& args, const std::string& text) {
  auto out = args.Get("--output");
  if (!out) out = args.Get("-o");
  if (!out) {
    std::cout << text;
    return std::string();
  }
  // WriteFileAtomic syncs the file's directory: name it even for a bare file name.
  MR_RETURN_IF_ERROR(WriteFileAtomic(out->find('/') == std::string::npos ? "./" + *out : *out, text));
  return *out;
}

namespace {
bool g_json_errors = false;

void PrintJsonError(const std::string& code, const std::string& message, const std::vector<std::string>& details) {
  nlohmann::json j = {{"error", {{"code", code}, {"message", message}, {"details", details}}}};
  std::cerr << TerminalSafe(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), true) << "\n";
}
}  // namespace

void SetJsonErrors(bool on) { g_json_errors = on; }
bool JsonErrors() { return g_json_errors; }

void SetJsonErrorsFromArgv(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--")) break;
    if (!strcmp(argv[i], "--json")) g_json_errors = true;
  }
}

int ExitCodeFor(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kNotFound:
    case StatusCode::kGone:  // a deleted version
      return kExitNotFound;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return kExitUnauthorized;
    case StatusCode::kUnavailable:
      return kExitUnreachable;
    default:
      return kExitFailure;
  }
}

int Fail(const Status& st) {
  if (g_json_errors) {
    PrintJsonError(StatusCodeName(st.code()), st.message(), st.details());
  } else {
    std::cerr << "modelreg: " << TerminalSafe(st.message()) << "\n";
    for (const auto& d : st.details()) std::cerr << "  - " << TerminalSafe(d) << "\n";
  }
  return ExitCodeFor(st);
}

int FailLocal(const Status& st) {
  Fail(st);
  return kExitFailure;
}

int FailStageChange(const Status& st) {
  const int code = Fail(st);
  return st.code() == StatusCode::kFailedPrecondition ? kExitRefused : code;
}

int FailUsage(const std::string& command, const std::string& message, const std::string& hint) {
  if (g_json_errors) {
    PrintJsonError("USAGE", message, {hint});
  } else {
    std::cerr << "modelreg" << (command.empty() ? "" : " " + command) << ": " << TerminalSafe(message) << "\n"
              << hint << "\n";
  }
  return kExitUsage;
}

int ReadingAnswers(const std::function<int()>& command) {
  try {
    return command();
  } catch (const nlohmann::json::exception& e) {
    return Fail(Status::Internal(std::string("the registry's answer is not what this client reads (") + e.what() +
                                 "); is MODELREG_URL / --registry a modelreg registry of this version?"));
  }
}

bool WantJson(const Args& args) { return args.Has("--json"); }

void PrintJson(const nlohmann::json& j) {
  std::cout << TerminalSafe(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace), true) << "\n";
}

std::string Count(uint64_t n, const std::string& noun) { return std::to_string(n) + " " + noun + (n == 1 ? "" : "s"); }

std::string HumanBytes(uint64_t n) { return ByteText(n); }

std::string JsonText(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  return TerminalSafe(v.is_string() ? v.get<std::string>()
                                    : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string FieldText(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  return JsonText(*it);
}

}  // namespace modelreg::cli
