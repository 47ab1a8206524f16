// modelreg-agent: follows the approved release of one model and serves it
// from ROOT/current. Small, no SQLite; talks to the registry over HTTP(S).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <thread>

#include "agent.h"
#include "auth/token.h"
#include "core/file_util.h"
#include "core/flag_values.h"
#include "net/address.h"

namespace {

std::atomic<bool> g_stop{false};

const char kUsage[] =
    "Usage: modelreg-agent --registry URL --token T --model M [--stage production|staging] --root DIR\n"
    "                      --trust-key PEM [--id NAME] [--on-swap CMD] [--health URL|CMD]\n"
    "                      [--interval SECONDS] [--keep N] [--ca FILE] [--once] [--no-direct-io]\n"
    "                      [--exec 'CMD {dir} {port}' --listen HOST:PORT [--record-output]\n"
    "                      [--spool-max SIZE] [--no-decisions] [--max-connections N]]\n"
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
    "--spool-max SIZE (1G): bound of the decision spool; bytes or 64K, 64M, 2G (powers of 1024).\n"
    "SECONDS (--interval 10, --health-timeout 30, --max-backoff 30): 30, 0.5, or 45s, 30m, 12h.\n"
    "Environment: MODELREG_URL and MODELREG_TOKEN stand for --registry and --token.\n";

}  // namespace

int main(int argc, char** argv) {
  using modelreg::agent::Options;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);  // a file-size limit is an EFBIG error value, like a full disk
  Options o;
  if (const char* u = getenv("MODELREG_URL")) o.registry = u;
  std::string token_source = "MODELREG_TOKEN";
  if (const char* t = getenv("MODELREG_TOKEN")) o.token = t;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "modelreg-agent: " << a << " needs a value\n" << kUsage;
        exit(2);
      }
      return argv[++i];
    };
    // A flag's value parsed whole ("64M" is not 64 bytes), or exit 2.
    auto flag = [](auto parsed) {
      if (!parsed.ok()) {
        std::cerr << "modelreg-agent: " << parsed.status().message() << "\n";
        exit(2);
      }
      return *parsed;
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--registry") o.registry = value();
    else if (a == "--token") {
      o.token = value();
      token_source = "--token";
    }
    else if (a == "--ca") o.ca_file = value();
    else if (a == "--model") o.model = value();
    else if (a == "--stage") o.stage = value();
    else if (a == "--root") o.root = value();
    else if (a == "--trust-key") o.trust_key = value();
    else if (a == "--id") o.id = value();
    else if (a == "--on-swap") o.on_swap = value();
    else if (a == "--health") o.health = value();
    else if (a == "--interval") o.interval_s = flag(modelreg::ParseSecondsFlag(value(), a));
    else if (a == "--health-timeout") o.health_timeout_s = flag(modelreg::ParseSecondsFlag(value(), a));
    else if (a == "--max-backoff") o.max_backoff_s = flag(modelreg::ParseSecondsFlag(value(), a));
    else if (a == "--keep") o.keep = static_cast<int>(flag(modelreg::ParseCountFlag(value(), a, 1, 10000)));
    else if (a == "--once") o.once = true;
    else if (a == "--exec") o.exec = value();
    else if (a == "--listen") o.listen = value();
    else if (a == "--record-output") o.record_output = true;
    else if (a == "--no-decisions") o.record_decisions = false;
    else if (a == "--no-direct-io") o.direct_io = false;
    else if (a == "--spool-max") o.spool_max_bytes = flag(modelreg::ParseBytesFlag(value(), a));
    else if (a == "--max-connections")
      o.max_connections = static_cast<size_t>(flag(modelreg::ParseCountFlag(value(), a, 1, 1000000)));
    else {
      std::cerr << "modelreg-agent: unknown option " << a << "\n" << kUsage;
      return 2;
    }
  }
  if (auto token = modelreg::TokenFromUser(o.token, token_source); token.ok()) {
    o.token = *token;
  } else {
    std::cerr << "modelreg-agent: " << token.status().message() << "\n";
    return 2;
  }
  if (o.model.empty() || o.root.empty() || o.trust_key.empty() || o.token.empty()) {
    std::cerr << "modelreg-agent: --model, --root, --trust-key and a token are required\n" << kUsage;
    return 2;
  }
  if (auto url = modelreg::net::NormalizeRegistryUrl(o.registry); url.ok()) {
    o.registry = *url;
  } else {
    std::cerr << "modelreg-agent: --registry: " << url.status().message() << "\n";
    return 2;
  }
  if (o.stage != "production" && o.stage != "staging") {
    std::cerr << "modelreg-agent: --stage is production or staging, not '" << o.stage << "'\n";
    return 2;
  }
  if (o.exec.empty() != o.listen.empty()) {
    std::cerr << "modelreg-agent: --exec and --listen go together (proxy mode)\n";
    return 2;
  }
  if (!o.listen.empty()) {
    if (auto a = modelreg::net::ParseListenAddress(o.listen); !a.ok()) {
      std::cerr << "modelreg-agent: " << a.status().message() << "\n";
      return 2;
    }
  }
  if (o.id.empty()) {
    char h[256] = {0};
    gethostname(h, sizeof h - 1);
    o.id = std::string(h) + "-" + o.model;
  }
  auto pem = modelreg::ReadSmallFile(o.trust_key, 1 << 16);
  if (!pem.ok()) {
    std::cerr << "modelreg-agent: " << pem.status().message() << "\n";
    return 1;
  }
  auto key = modelreg::VerifyKey::FromPem(*pem);
  if (!key.ok()) {
    std::cerr << "modelreg-agent: --trust-key " << o.trust_key << ": " << key.status().message() << "\n";
    return 1;
  }
  auto store = modelreg::agent::LocalStore::Open(o.root);
  if (!store.ok()) {
    std::cerr << "modelreg-agent: " << store.status().message() << "\n";
    return 1;
  }
  struct sigaction sa = {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  auto link = std::make_unique<modelreg::agent::RegistryLink>(o, std::move(key).value());
  modelreg::agent::Agent agent(o, std::move(store).value(), std::move(link));
  return agent.Run(g_stop);
}
