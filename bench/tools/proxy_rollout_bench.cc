// proxy_rollout_bench: the agent's proxy (agent/proxy.h) serving two
// versions of a model directly, without a registry, for
// bench/proxy_rollout.sh (issue #26 performance targets).
//   proxy_rollout_bench --exec 'CMD {dir} {port}' --listen HOST:PORT --root DIR
//                       --mode none|canary|shadow [--weight BP] [--no-decisions]
//                       [--model-connections N]
// Version directories DIR/v1 and DIR/v2 are made here; with --mode none
// only v1 serves. Decisions are spooled to DIR/spool (shipped to nowhere:
// the sender accepts them) unless --no-decisions. Prints "ready" once
// serving; on SIGTERM/SIGINT prints the rollout's report JSON and exits.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "proxy.h"
#include "rollout.h"
#include "spool.h"

using namespace modelreg;
using namespace modelreg::agent;

namespace {
std::atomic<bool> g_stop{false};

int Usage() {
  std::cerr << "usage: proxy_rollout_bench --exec 'CMD {dir} {port}' --listen HOST:PORT --root DIR "
               "--mode none|canary|shadow [--weight BP] [--no-decisions] [--model-connections N]\n";
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.model = "bench";
  o.id = "bench-agent";
  std::string mode = "none";
  int weight = 500;
  bool decisions = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--exec") o.exec = next();
    else if (a == "--listen") o.listen = next();
    else if (a == "--root") o.root = next();
    else if (a == "--mode") mode = next();
    else if (a == "--weight") weight = std::atoi(next().c_str());
    else if (a == "--no-decisions") decisions = false;
    else if (a == "--model-connections") o.model_connections = static_cast<size_t>(std::atoi(next().c_str()));
    else return Usage();
  }
  if (o.exec.empty() || o.listen.empty() || o.root.empty() || (mode != "none" && mode != "canary" && mode != "shadow"))
    return Usage();
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  namespace fs = std::filesystem;
  CurrentVersion v1{"sha256:" + std::string(64, '1'), 1, o.root + "/v1"};
  CurrentVersion v2{"sha256:" + std::string(64, '2'), 2, o.root + "/v2"};
  fs::create_directories(v1.dir);
  fs::create_directories(v2.dir);
  std::unique_ptr<DecisionSpool> spool;
  if (decisions) {
    spool =
        std::make_unique<DecisionSpool>(o.root + "/spool", 1ull << 30, [](const std::string&) { return Status::OK(); });
    if (Status st = spool->Open(); !st.ok()) {
      std::cerr << "spool: " << st.message() << "\n";
      return 1;
    }
  }
  Proxy p(o);
  if (spool) p.set_spool(spool.get());
  Status st = p.Start();
  if (st.ok()) st = p.SwapTo(v1);
  if (st.ok() && mode != "none") {
    RolloutSpec s;
    s.id = 1;
    s.mode = mode == "shadow" ? RolloutMode::kShadow : RolloutMode::kCanary;
    s.weight_bp = mode == "shadow" ? 0 : weight;
    s.salt = "be4c";
    s.baseline_version = 1;
    s.baseline_digest = v1.digest;
    s.candidate_version = 2;
    s.candidate_digest = v2.digest;
    st = p.SetRollout(v2, s);
  }
  if (!st.ok()) {
    std::cerr << "proxy_rollout_bench: " << st.message() << "\n";
    return 1;
  }
  std::cout << "ready" << std::endl;
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::cout << p.RolloutReportJson() << std::endl;
  p.Stop();
  if (spool) spool->Stop();
  return 0;
}
