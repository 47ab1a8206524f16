// modelreg-agent: follows the approved release of one model and serves it
// from ROOT/current. Small, no SQLite; talks to the registry over HTTP(S).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent.h"
#include "auth/token.h"
#include "core/build_info.h"
#include "core/command_line.h"
#include "core/file_util.h"
#include "core/flag_values.h"
#include "core/man_page.h"
#include "core/terminal_text.h"
#include "monitoring.h"
#include "net/address.h"

namespace {

using namespace modelreg;
using agent::Options;

std::atomic<bool> g_stop{false};

const char kUsage[] =
    "Usage: modelreg-agent --registry URL (--token T | --token-file F) --model M [--stage production|staging] --root "
    "DIR\n"
    "                      --trust-key PEM [--id NAME] [--on-swap CMD] [--health URL|CMD]\n"
    "                      [--interval SECONDS] [--keep N] [--ca FILE] [--once] [--no-direct-io]\n"
    "                      [--exec 'CMD {dir} {port}' --listen HOST:PORT [--record-output]\n"
    "                      [--spool-max SIZE] [--no-decisions] [--max-connections N] [--model-connections N]\n"
    "                      [--fallback previous|none] [--fallback-response FILE] [--timeout SECONDS]\n"
    "                      [--validate reject|flag|off] [--drift-window DURATION] [--max-monitor-body SIZE]\n"
    "                      [--no-monitoring]]\n"
    "       modelreg-agent --version | --man\n"
    "\n"
    "Follows the signed release of MODEL in STAGE. Each new release is verified with the\n"
    "pinned --trust-key, its missing blobs are downloaded and checked, the version is\n"
    "materialized read-only under ROOT/versions/ and ROOT/current is swapped atomically.\n"
    "--on-swap runs after each swap with MODEL_DIR, MODEL_VERSION, MODEL_DIGEST set;\n"
    "--health (a URL that must answer 2xx, or a command that must exit 0) decides whether\n"
    "the swap stays; on failure the agent swaps back and reports it.\n"
    "Blobs are written with O_DIRECT (around the page cache); --no-direct-io writes them\n"
    "through it.\n"
    "--once: one poll-and-apply step, then exit 0 if it ended without error (or the registry\n"
    "was unreachable and a verified version is being served), 1 otherwise (a refused release,\n"
    "a blob the registry reports damaged, a full disk, nothing to serve).\n"
    "A full or failing disk under ROOT is reported as failed and retried every --interval;\n"
    "the release applies once there is room or the disk works.\n"
    "Proxy mode (--exec, --listen): the agent runs CMD per version on a private loopback\n"
    "port, waits for its health (--health /path, default /healthz), moves traffic to it\n"
    "and drains and stops the old one; responses carry X-Model-Version/-Digest/X-Request-Id.\n"
    "Each answered request is recorded as a decision in ROOT/spool (before the response\n"
    "leaves) and shipped in batches to the registry; nothing is lost while it is down.\n"
    "--max-connections N (1024): client connections served at once; at the bound a new one\n"
    "closes the connection idle the longest, or is refused if none is idle.\n"
    "--model-connections N (4 per core, at least 8): kept-alive connections to each model server\n"
    "at once; more requests wait for one in arrival order (up to --timeout). Raise it for a model\n"
    "server that gains from more requests at once (one that batches them, or waits on I/O).\n"
    "--spool-max SIZE (1G): bound of the decision spool; bytes or 64K, 64M, 2G (powers of 1024).\n"
    "Rollouts (a release with a shadow, canary or A/B rollout; proxy mode only): the candidate's\n"
    "model server runs beside the baseline's; each request goes to the arm its routing key\n"
    "(the rollout's key header, else the request id) hashes to; responses carry X-Model-Arm.\n"
    "In files mode the baseline alone is served.\n"
    "--timeout SECONDS (60): a model server that sends nothing for this long has failed the request.\n"
    "--fallback previous|none (previous): a request the answering model server fails (no answer,\n"
    "5xx, --timeout) is sent once more to the other running version (the other arm of a canary\n"
    "or A/B rollout; never a shadow candidate), tagged X-Model-Fallback: previous. Requests are\n"
    "re-sent whole (the body is buffered): use none for a model server whose requests must not\n"
    "be repeated.\n"
    "--fallback-response FILE: a JSON body answered (200, application/json, X-Model-Fallback:\n"
    "static) when no version could answer; without it such a request gets the 5xx or a 503.\n"
    "Monitoring (proxy mode; docs/agent.md \"Monitoring\"): each request body is read (the formats\n"
    "{\"features\"}, {\"instances\"}, Open Inference Protocol v2 {\"inputs\"}, MLflow {\"dataframe_split\"}\n"
    "and {\"dataframe_records\"}), checked against the served version's input schema and binned with\n"
    "its reference profile (the bundle file .modelreg/profile.json), the answer's outputs too; the\n"
    "counts of each completed window go to the registry with the agent's status. What is forwarded\n"
    "never changes; a body the agent cannot read is counted and forwarded, in every mode.\n"
    "--validate reject|flag|off (flag): reject answers a request that breaks the schema 400 (code\n"
    "schema_violation, naming the feature, the rule and the row) without forwarding it; flag\n"
    "forwards and counts it; off checks nothing (values are still binned).\n"
    "--drift-window DURATION (5m, at least 1s): the monitoring window, aligned to the wall clock.\n"
    "--max-monitor-body SIZE (1M): larger bodies are forwarded unread, counted unreadable.\n"
    "--no-monitoring: bodies are not read at all (no schema check, no drift windows).\n"
    "SECONDS (--interval 10, --health-timeout 30, --max-backoff 30): 30, 0.5, or 45s, 30m, 12h.\n"
    "--token-file F: the token is read from F (a token on the command line shows in `ps`).\n"
    "Environment: MODELREG_URL and MODELREG_TOKEN stand for --registry and --token.\n";

// The flags and what each sets in Options; a value flag's text is parsed
// whole ("64M" is not 64 bytes).
const FlagSpec kFlags = {{"--registry",
                          "--token",
                          "--token-file",
                          "--ca",
                          "--model",
                          "--stage",
                          "--root",
                          "--trust-key",
                          "--id",
                          "--on-swap",
                          "--health",
                          "--interval",
                          "--health-timeout",
                          "--max-backoff",
                          "--keep",
                          "--exec",
                          "--listen",
                          "--spool-max",
                          "--max-connections",
                          "--model-connections",
                          "--fallback",
                          "--fallback-response",
                          "--timeout",
                          "--validate",
                          "--drift-window",
                          "--max-monitor-body"},
                         {"--once", "--record-output", "--no-decisions", "--no-direct-io", "--no-monitoring", "--help",
                          "-h", "--version", "--man"}};

// Step 1: the command line (and MODELREG_URL / MODELREG_TOKEN) into Options.
Result<Options> ParseOptions(const ParsedArgs& args) {
  Options o;
  if (!args.positional().empty())
    return Status::InvalidArgument("unexpected argument '" + args.positional()[0] + "' (every option is a --flag)");
  if (const char* u = getenv("MODELREG_URL"); u && *u) o.registry = u;
  o.registry = args.GetOr("--registry", o.registry);
  if (args.Has("--token") && args.Has("--token-file"))
    return Status::InvalidArgument("--token and --token-file: give one");
  std::string token_source = "MODELREG_TOKEN";
  if (const char* t = getenv("MODELREG_TOKEN")) o.token = t;
  if (auto t = args.Get("--token")) {
    o.token = *t;
    token_source = "--token";
  } else if (auto f = args.Get("--token-file")) {
    MR_ASSIGN_OR_RETURN(o.token, ReadSmallFile(*f, 1 << 16));
    token_source = "--token-file " + *f;
  }
  MR_ASSIGN_OR_RETURN(o.token, TokenFromUser(o.token, token_source));
  auto text = [&](const char* flag, std::string* out) {
    if (auto v = args.Get(flag)) *out = *v;
  };
  text("--ca", &o.ca_file);
  text("--model", &o.model);
  text("--stage", &o.stage);
  text("--root", &o.root);
  text("--trust-key", &o.trust_key);
  text("--id", &o.id);
  text("--on-swap", &o.on_swap);
  text("--health", &o.health);
  text("--exec", &o.exec);
  text("--listen", &o.listen);
  if (auto v = args.Get("--interval")) { MR_ASSIGN_OR_RETURN(o.interval_s, ParseSecondsFlag(*v, "--interval")); }
  if (auto v = args.Get("--health-timeout")) {
    MR_ASSIGN_OR_RETURN(o.health_timeout_s, ParseSecondsFlag(*v, "--health-timeout"));
  }
  if (auto v = args.Get("--max-backoff")) {
    MR_ASSIGN_OR_RETURN(o.max_backoff_s, ParseSecondsFlag(*v, "--max-backoff"));
  }
  if (auto v = args.Get("--keep")) {
    MR_ASSIGN_OR_RETURN(int64_t keep, ParseCountFlag(*v, "--keep", 1, 10000));
    o.keep = static_cast<int>(keep);
  }
  if (auto v = args.Get("--spool-max")) { MR_ASSIGN_OR_RETURN(o.spool_max_bytes, ParseBytesFlag(*v, "--spool-max")); }
  if (auto v = args.Get("--max-connections")) {
    MR_ASSIGN_OR_RETURN(int64_t n, ParseCountFlag(*v, "--max-connections", 1, 1000000));
    o.max_connections = static_cast<size_t>(n);
  }
  if (auto v = args.Get("--model-connections")) {
    MR_ASSIGN_OR_RETURN(int64_t n, ParseCountFlag(*v, "--model-connections", 1, 100000));
    o.model_connections = static_cast<size_t>(n);
  }
  if (auto v = args.Get("--timeout")) { MR_ASSIGN_OR_RETURN(o.timeout_s, ParseSecondsFlag(*v, "--timeout")); }
  if (auto v = args.Get("--fallback")) {
    if (*v != "previous" && *v != "none")
      return Status::InvalidArgument("--fallback is previous or none, not '" + *v + "'");
    o.fallback = *v;
  }
  if (auto f = args.Get("--fallback-response")) {
    MR_ASSIGN_OR_RETURN(o.fallback_response, ReadSmallFile(*f, 1 << 20));
    if (nlohmann::json::parse(o.fallback_response, nullptr, false).is_discarded())
      return Status::InvalidArgument("--fallback-response " + *f + " is not JSON (it is answered as application/json)");
  }
  if (auto v = args.Get("--validate")) {
    MR_RETURN_IF_ERROR(agent::ParseValidateMode(*v).status());
    o.validate = *v;
  }
  if (auto v = args.Get("--drift-window")) {
    MR_ASSIGN_OR_RETURN(o.drift_window_s, ParseSecondsFlag(*v, "--drift-window"));
    if (o.drift_window_s < 1) return Status::InvalidArgument("--drift-window is at least 1s, not '" + *v + "'");
  }
  if (auto v = args.Get("--max-monitor-body")) {
    MR_ASSIGN_OR_RETURN(o.max_monitor_body, ParseBytesFlag(*v, "--max-monitor-body"));
  }
  o.monitoring = !args.Has("--no-monitoring");
  if (o.exec.empty())
    for (const char* f : {"--validate", "--drift-window", "--max-monitor-body", "--no-monitoring"})
      if (args.Has(f)) return Status::InvalidArgument(std::string(f) + " needs proxy mode (--exec, --listen)");
  o.once = args.Has("--once");
  o.record_output = args.Has("--record-output");
  o.record_decisions = !args.Has("--no-decisions");
  o.direct_io = !args.Has("--no-direct-io");
  return o;
}

// Step 2: what the options must say together; normalizes the URL and fills
// the default --id.
Status CheckOptions(Options& o) {
  if (o.model.empty() || o.root.empty() || o.trust_key.empty() || o.token.empty())
    return Status::InvalidArgument("--model, --root, --trust-key and a token are required");
  auto url = net::NormalizeRegistryUrl(o.registry);
  if (!url.ok()) return Status::InvalidArgument("--registry: " + url.status().message());
  o.registry = *url;
  if (o.stage != "production" && o.stage != "staging")
    return Status::InvalidArgument("--stage is production or staging, not '" + o.stage + "'");
  if (o.exec.empty() != o.listen.empty())
    return Status::InvalidArgument("--exec and --listen go together (proxy mode)");
  if (!o.listen.empty()) MR_RETURN_IF_ERROR(net::ParseListenAddress(o.listen).status());
  if (o.exec.empty() && !o.fallback_response.empty())
    return Status::InvalidArgument("--fallback-response needs proxy mode (--exec, --listen)");
  if (o.id.empty()) {
    char h[256] = {0};
    gethostname(h, sizeof h - 1);
    o.id = std::string(h) + "-" + o.model;
  }
  return Status::OK();
}

// Step 3: the pinned release key.
Result<std::unique_ptr<VerifyKey>> LoadTrustKey(const std::string& path) {
  MR_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, 1 << 16));
  auto key = VerifyKey::FromPem(pem);
  if (!key.ok()) return key.status().WithContext("--trust-key " + path);
  return std::move(key).value();
}

// Step 4: SIGTERM and SIGINT ask the agent to stop (it then reports itself
// offline).
void StopOnSignals() {
  struct sigaction sa = {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

int UsageError(const Status& st) {
  std::cerr << "modelreg-agent: " << TerminalSafe(st.message()) << "\nRun 'modelreg-agent --help' for the options.\n";
  return 2;
}

int Failure(const Status& st) {
  std::cerr << "modelreg-agent: " << TerminalSafe(st.message()) << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);  // a file-size limit is an EFBIG error value, like a full disk
  auto args = ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc), kFlags);
  if (!args.ok()) return UsageError(args.status());
  if (args->Has("--help") || args->Has("-h")) {
    std::cout << kUsage;
    return 0;
  }
  if (args->Has("--man")) {
    std::cout << RenderManPage("modelreg-agent", "serves the approved release of one model", GetBuildInfo().version,
                               {{"Synopsis and description", kUsage, {}}});
    return 0;
  }
  if (args->Has("--version")) {
    std::cout << BuildInfoLine("modelreg-agent") << "\n";
    return 0;
  }
  auto o = ParseOptions(*args);
  if (!o.ok()) return UsageError(o.status());
  if (Status st = CheckOptions(*o); !st.ok()) return UsageError(st);
  auto key = LoadTrustKey(o->trust_key);
  if (!key.ok()) return Failure(key.status());
  auto store = agent::LocalStore::Open(o->root);
  if (!store.ok()) return Failure(store.status());
  StopOnSignals();
  auto link = std::make_unique<agent::RegistryLink>(*o, std::move(key).value());
  agent::Agent agent(*o, std::move(store).value(), std::move(link));
  return agent.Run(g_stop);
}
