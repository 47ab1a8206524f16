// modelreg serve: runs the registry until SIGTERM/SIGINT.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "api/metrics.h"
#include "api/server.h"
#include "common.h"
#include "core/build_info.h"
#include "core/file_util.h"
#include "core/flag_values.h"
#include "core/pipelined_writer.h"
#include "net/address.h"
#include "net/cidr.h"
#include "serve_settings.h"
#include "service/registry_service.h"
#include "service/replica_config.h"

namespace modelreg::cli {

// serve's failures exit 1: the client's codes (docs/cli.md) do not apply; a
// port in use is no "registry unreachable" (6).
static int ServeFail(const Status& st) {
  Fail(st);
  return kExitFailure;
}
namespace {

void LogLine(const nlohmann::json& j) {
  nlohmann::json l = j;
  l["ts"] = FormatIsoTime(NowMs());  // like the access log's lines
  std::cerr << l.dump() << std::endl;
}

// --write-mode auto|direct|buffered (also from MODELREG_WRITE_MODE or
// --config: MergeServeSettings put it in `args`); --no-direct-io is
// buffered; without either, MODELREG_DIRECT_IO=off|on (as the CLI's pull
// reads it) gives the default. docs/operations.md.
// `write_mode_given`: --write-mode was on the command line (not taken from
// the environment or --config), so a --no-direct-io beside it contradicts
// it; otherwise the flag --no-direct-io wins.
std::string WriteModeFlag(const Args& args, bool write_mode_given) {
  std::string mode;
  const char* env_direct = std::getenv("MODELREG_DIRECT_IO");
  if (args.Has("--no-direct-io") && !write_mode_given) mode = "buffered";
  else if (auto m = args.Get("--write-mode")) mode = *m;
  else if (args.Has("--no-direct-io")) mode = "buffered";
  else if (env_direct && (std::string(env_direct) == "off" || std::string(env_direct) == "0")) mode = "buffered";
  else if (env_direct && (std::string(env_direct) == "on" || std::string(env_direct) == "1")) mode = "direct";
  else mode = "auto";
  if (mode != "auto" && mode != "direct" && mode != "buffered")
    throw UsageError("--write-mode is auto, direct or buffered, not '" + mode + "'");
  if (args.Has("--no-direct-io") && args.Get("--write-mode") && mode != "buffered")
    throw UsageError("--no-direct-io contradicts --write-mode " + mode);
  return mode;
}

// auto's probe, kept in DATA/write-mode.json: a restart within a week on the
// same filesystem reuses it instead of writing 128 MiB again (docs/operations.md).
constexpr int64_t kProbeKeepMs = 7 * 24 * 3600 * 1000LL;

struct CachedProbe {
  WriteProbe probe;
  int64_t at_ms = 0;
};

std::optional<CachedProbe> LoadProbe(const std::string& data, int64_t now_ms) {
  auto text = ReadSmallFile(data + "/write-mode.json", 1 << 16);
  struct stat st {};
  if (!text.ok() || ::stat(data.c_str(), &st) != 0) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    CachedProbe c;
    c.at_ms = j.at("at_ms").get<int64_t>();
    if (j.at("dev").get<uint64_t>() != static_cast<uint64_t>(st.st_dev) || now_ms - c.at_ms > kProbeKeepMs ||
        c.at_ms > now_ms)
      return std::nullopt;
    c.probe.direct_supported = j.at("direct_supported").get<bool>();
    c.probe.direct_gbps = j.at("direct_gbps").get<double>();
    c.probe.buffered_gbps = j.at("buffered_gbps").get<double>();
    c.probe.bytes = j.at("bytes").get<uint64_t>();
    c.probe.samples = j.at("samples").get<int>();
    c.probe.choose_direct = j.at("choose_direct").get<bool>();
    return c;
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable: probe again
  }
}

void SaveProbe(const std::string& data, const WriteProbe& p, int64_t now_ms) {
  struct stat st {};
  if (::stat(data.c_str(), &st) != 0) return;
  nlohmann::json j = {{"at_ms", now_ms},
                      {"dev", static_cast<uint64_t>(st.st_dev)},
                      {"direct_supported", p.direct_supported},
                      {"direct_gbps", p.direct_gbps},
                      {"buffered_gbps", p.buffered_gbps},
                      {"bytes", p.bytes},
                      {"samples", p.samples},
                      {"choose_direct", p.choose_direct}};
  (void)WriteFileAtomic(data + "/write-mode.json", j.dump() + "\n");  // a cache: losing it costs a probe
}

nlohmann::json WriteModeLine(const std::string& asked, const std::optional<WriteProbe>& probe) {
  nlohmann::json j = {{"level", "info"}, {"msg", "write mode"}, {"asked", asked}};
  if (!probe) {
    j["mode"] = asked;
    j["why"] = "asked for";
    return j;
  }
  auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
  j["mode"] = probe->choose_direct ? "direct" : "buffered";
  j["direct_gbps"] = round3(probe->direct_gbps);
  j["buffered_gbps"] = round3(probe->buffered_gbps);
  j["probe_mib"] = probe->bytes >> 20;
  j["probe_runs"] = probe->samples;
  j["probe_ms"] = std::lround(probe->ms);
  if (!probe->direct_supported) j["why"] = "the filesystem refuses O_DIRECT";
  else if (probe->choose_direct) j["why"] = "buffered was not faster than direct I/O by more than 10 %";
  else j["why"] = "buffered wrote faster than direct I/O by more than 10 %";
  return j;
}

}  // namespace

const std::set<std::string>& ServeValueFlags() {
  static const std::set<std::string> k = {
      "--data",           "--listen",    "--tls-cert", "--tls-key",           "--threads",
      "--upload-ttl",     "--drain",     "--db",       "--db-password-file",  "--release-key",
      "--max-long-polls", "--blobs",     "--blobs-ca", "--blobs-credentials", "--webhook-timeout",
      "--metrics-allow",  "--write-mode"};
  return k;
}
const std::set<std::string>& ServeBoolFlags() {
  static const std::set<std::string> k = {"--no-direct-io", "--oci-agent-stages-only", "--webhooks-allow-private",
                                          "--no-webhooks"};
  return k;
}

int CmdServe(const std::vector<std::string>& argv) {
  // Flags, else MODELREG_* from the environment, else --config F (cli/serve_settings.h).
  auto settings = MergeServeSettings(argv, ServeValueFlags(), ServeBoolFlags(),
                                     [](const char* name) -> const char* { return std::getenv(name); });
  if (!settings.ok()) throw UsageError(settings.status().message());
  Args args(settings->argv, ServeValueFlags(), ServeBoolFlags());
  args.ExpectPositional(0, 0);
  auto data = args.Get("--data");
  if (!data) throw UsageError("--data DIR is required");
  const auto listen = OrUsageError(net::ParseListenAddress(args.GetOr("--listen", "127.0.0.1:8080")));
  api::ServerOptions so;
  so.host = listen.host;
  so.port = listen.port;
  so.tls_cert = args.GetOr("--tls-cert", "");
  so.tls_key = args.GetOr("--tls-key", "");
  so.threads = static_cast<int>(OrUsageError(ParseCountFlag(args.GetOr("--threads", "64"), "--threads", 2, 4096)));
  if (auto drain = args.Get("--drain"))
    so.drain_s = OrUsageError(ParseSecondsFlag(*drain, "--drain", /*zero_ok=*/true));
  so.webhooks.allow_private = args.Has("--webhooks-allow-private");
  so.webhooks.enabled = !args.Has("--no-webhooks");
  if (auto t = args.Get("--webhook-timeout"))
    so.webhooks.timeout =
        std::chrono::milliseconds(static_cast<int64_t>(OrUsageError(ParseSecondsFlag(*t, "--webhook-timeout")) * 1000));
  if (auto m = args.Get("--metrics-allow")) {
    auto ranges = net::ParseCidrList(*m);
    if (!ranges.ok()) throw UsageError("--metrics-allow: " + ranges.status().message());
    so.metrics_allow = std::move(*ranges);
  }
  api::SetBuildInfo(GetBuildInfo().version, GetBuildInfo().git_commit, GetBuildInfo().build_type);
  ServiceOptions svc_opts;
  const auto& taken = settings->from_env;
  const auto& filed = settings->from_config;
  const bool write_mode_given = args.Get("--write-mode") &&
                                std::find(taken.begin(), taken.end(), "--write-mode") == taken.end() &&
                                std::find(filed.begin(), filed.end(), "--write-mode") == filed.end();
  const std::string write_mode = WriteModeFlag(args, write_mode_given);
  svc_opts.oci_agent_stages_only = args.Has("--oci-agent-stages-only");
  svc_opts.db_url = args.GetOr("--db", "");
  svc_opts.db_password_file = args.GetOr("--db-password-file", "");
  if (!svc_opts.db_password_file.empty() && svc_opts.db_url.empty())
    throw UsageError("--db-password-file goes with --db postgresql://...");
  svc_opts.release_key_file = args.GetOr("--release-key", "");
  // Absolute: DATA/replica.json records them for local commands run elsewhere.
  for (std::string* f : {&svc_opts.db_password_file, &svc_opts.release_key_file})
    if (!f->empty()) f->assign(std::filesystem::absolute(*f).string());
  // Long polls hold no worker (docs/http.md): bounded by their own count.
  if (auto n = args.Get("--max-long-polls"))
    so.max_long_polls = static_cast<size_t>(OrUsageError(ParseCountFlag(*n, "--max-long-polls", 0, 1000000)));
  svc_opts.oci_blobs = OrUsageError(BlobsFromFlags(args));
  if (svc_opts.oci_blobs)
    for (std::string* f : {&svc_opts.oci_blobs->ca_file, &svc_opts.oci_blobs->credentials_file})
      if (!f->empty()) f->assign(std::filesystem::absolute(*f).string());
  if (auto ttl = args.Get("--upload-ttl"))
    svc_opts.upload_ttl_ms = static_cast<int64_t>(OrUsageError(ParseSecondsFlag(*ttl, "--upload-ttl")) * 1000);

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (Status st = MakeDirs(*data); !st.ok()) return ServeFail(st);
  // Absolute from here: the log names files wholly, and error answers can
  // write the directory as "<data>" (api::ServerOptions::data_dir).
  std::error_code ec;
  if (auto abs = std::filesystem::canonical(*data, ec); !ec) data = abs.string();
  so.data_dir = *data;
  // One server per data directory.
  std::string lock_path = *data + "/LOCK";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock.valid()) return ServeFail(Status::FromErrno("open " + lock_path, errno));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
    return ServeFail(Status::FailedPrecondition("another modelreg serve is using " + *data));

  // How uploads reach the disk: decided before the store opens, and said
  // in one log line with the figures it was decided from.
  if (write_mode == "auto") {
    if (auto cached = LoadProbe(*data, NowMs())) {
      svc_opts.direct_io = cached->probe.choose_direct;
      nlohmann::json line = WriteModeLine(write_mode, cached->probe);
      line["probed_at"] = FormatIsoTime(cached->at_ms);  // kept a week: delete DATA/write-mode.json to probe again
      line.erase("probe_ms");
      LogLine(line);
    } else {
      auto probe = ProbeWriteModes(*data);
      if (!probe.ok()) return ServeFail(probe.status().WithContext("write mode probe in " + *data));
      svc_opts.direct_io = probe->choose_direct;
      SaveProbe(*data, *probe, NowMs());
      LogLine(WriteModeLine(write_mode, *probe));
    }
  } else {
    svc_opts.direct_io = write_mode == "direct";
    LogLine(WriteModeLine(write_mode, std::nullopt));
  }

  auto svc = RegistryService::Open(*data, svc_opts);
  if (!svc.ok()) return ServeFail(svc.status());
  if (Status st = WriteReplicaConfig(*data, svc_opts); !st.ok()) return ServeFail(st);
  (*svc)->RemoveOrphanUploads();
  auto boot = (*svc)->BootstrapAdmin();
  if (!boot.ok()) return ServeFail(boot.status());
  if (*boot) LogLine({{"level", "info"}, {"msg", "created admin token"}, {"path", *data + "/admin.token"}});
  if (!settings->from_env.empty() || !settings->from_config.empty())
    LogLine({{"level", "info"},
             {"msg", "settings"},
             {"from_environment", settings->from_env},
             {"from_config", settings->from_config},
             {"config", settings->config_file}});

  ::unlink((*data + "/serve.url").c_str());
  api::ApiServer server(svc->get(), so);
  auto port = server.Bind();
  if (!port.ok()) return ServeFail(port.status());

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    LogLine({{"level", "info"}, {"msg", "stopping"}, {"signal", sig}});
    if (size_t cut = server.Stop(); cut > 0)
      LogLine({{"level", "warn"}, {"msg", "requests still running after the drain were cut"}, {"count", cut}});
  });

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  int64_t sweep_ms = std::clamp<int64_t>(svc_opts.upload_ttl_ms / 4, 200, 60000);
  std::thread janitor([&] {
    std::unique_lock<std::mutex> l(mu);
    while (!cv.wait_for(l, std::chrono::milliseconds(sweep_ms), [&] { return stopping; })) {
      auto n = (*svc)->ExpireUploads(NowMs());
      if (n.ok() && *n > 0) LogLine({{"level", "info"}, {"msg", "expired upload sessions"}, {"count", *n}});
    }
  });

  (void)WriteFileAtomic(*data + "/serve.url", server.url() + "\n");
  LogLine({{"level", "info"},
           {"msg", "listening"},
           {"url", server.url()},
           {"data", *data},
           {"blobs", svc_opts.oci_blobs ? (*svc)->blobs_description() : "local"}});
  Status st = server.Run();
  {
    std::lock_guard<std::mutex> l(mu);
    stopping = true;
  }
  cv.notify_all();
  janitor.join();
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  ::unlink((*data + "/serve.url").c_str());
  LogLine({{"level", "info"}, {"msg", "stopped"}});
  return st.ok() ? kExitOk : ServeFail(st);
}

}  // namespace modelreg::cli
