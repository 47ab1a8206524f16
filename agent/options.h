// modelreg-agent's configuration, from its command line.
#pragma once

#include <string>

namespace modelreg::agent {

struct Options {
  std::string registry = "http://127.0.0.1:8080";
  std::string token;
  std::string ca_file;
  std::string model;
  std::string stage = "production";
  std::string root;        // ROOT/{cache,versions,current,state.json}
  std::string trust_key;   // PEM file with the registry's release public key
  std::string id;          // default: hostname-model
  std::string on_swap;     // shell command run after each swap
  std::string health;      // http(s):// URL (GET must answer 2xx) or a shell command
  double interval_s = 10;  // long-poll wait and heartbeat period
  double health_timeout_s = 30;
  int keep = 3;       // versions kept on disk
  bool once = false;  // reconcile once and exit (for scripts and tests)
  double max_backoff_s = 30;
  std::string exec;                       // proxy mode: 'CMD {dir} {port}'
  std::string listen;                     // proxy mode: HOST:PORT the agent serves on
  bool record_output = false;             // proxy mode: keep response bodies in decisions
  bool record_decisions = true;           // proxy mode: --no-decisions turns capture off
  uint64_t spool_max_bytes = 1ull << 30;  // bound of the decision spool
  size_t max_connections = 1024;          // proxy mode: client connections at once (a thread each)
  // Proxy mode: connections to each model server at once (more requests
  // wait for one in arrival order); 0: max(8, 4 x cores).
  size_t model_connections = 0;
  // Proxy mode, when the answering model server fails a request (no answer,
  // 5xx, --timeout): "previous" answers from the other running version (a
  // canary/A-B rollout's other arm), "none" does not (docs/agent.md).
  std::string fallback = "previous";
  std::string fallback_response;  // --fallback-response FILE's JSON body ("": none), served with 200
  double timeout_s = 60;          // --timeout: a model server silent this long has failed the request
  bool direct_io = true;          // downloads write whole blocks with O_DIRECT; --no-direct-io: through the page cache
  // Proxy mode's monitoring (docs/agent.md "Monitoring"): request bodies
  // read, checked against the version's input schema and binned per window.
  bool monitoring = true;                  // --no-monitoring: bodies are not read at all
  std::string validate = "flag";           // --validate reject|flag|off
  double drift_window_s = 300;             // --drift-window: wall-clock-aligned window length
  uint64_t max_monitor_body = 1ull << 20;  // --max-monitor-body: larger bodies are counted unreadable
};

}  // namespace modelreg::agent
