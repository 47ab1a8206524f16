#include "common.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "auth/token.h"
#include "connection.h"
#include "core/file_util.h"
#include "core/terminal_text.h"
#include "service/registry_service.h"

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
    auto keys = client->GetJson("/api/v1/keys");
    if (!keys.ok()) return keys.status().WithContext("fetch the registry's key (or pass --trust-key PEM)");
    if (keys->contains("keys") && (*keys)["keys"].is_array() && !(*keys)["keys"].empty())
      pem = (*keys)["keys"][0].value("pem", "");
    std::cerr << "modelreg: note: trusting the key the registry serves now; pin one with --trust-key\n";
  }
  return VerifyKey::FromPem(pem);
}

Result<std::unique_ptr<RegistryService>> OpenExistingRegistry(const std::string& data_dir) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::path(data_dir) / "registry.db", ec))
    return Status::NotFound("no registry in " + data_dir +
                            " (it has no registry.db): check --data; 'modelreg serve --data DIR' creates one");
  return RegistryService::Open(data_dir);
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

int Fail(const Status& st) {
  std::cerr << "modelreg: " << TerminalSafe(st.message()) << "\n";
  for (const auto& d : st.details()) std::cerr << "  - " << TerminalSafe(d) << "\n";
  return kExitFailure;
}

bool WantJson(const Args& args) { return args.Has("--json"); }

void PrintJson(const nlohmann::json& j) {
  std::cout << TerminalSafe(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace), true) << "\n";
}

std::string Count(uint64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string UrlComponent(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

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
