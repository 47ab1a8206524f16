#include "api/metrics.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <tuple>

#include "core/process_stats.h"

namespace modelreg::api {
namespace {

constexpr double kBuckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30};
constexpr size_t kNumBuckets = sizeof(kBuckets) / sizeof(kBuckets[0]);

struct Histogram {
  uint64_t counts[kNumBuckets + 1] = {};
  double sum = 0;
  uint64_t n = 0;
};

std::mutex mu;
std::map<std::tuple<std::string, std::string, int>, uint64_t> requests;  // guarded by mu
std::map<std::string, Histogram> durations;                              // guarded by mu
std::atomic<uint64_t> bytes_in{0}, bytes_out{0}, body_direct{0};
std::atomic<uint64_t> webhook_delivered{0}, webhook_retry{0}, webhook_final{0};
std::atomic<uint64_t> webhook_micros{0};
std::string build_version = "unknown", build_commit = "unknown", build_type = "unknown";  // guarded by mu

// A Prometheus label value: backslash, quote and newline escaped.
std::string Label(const std::string& v) {
  std::string out;
  for (char ch : v) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

}  // namespace

void SetBuildInfo(const std::string& version, const std::string& commit, const std::string& type) {
  std::lock_guard<std::mutex> l(mu);
  build_version = version;
  build_commit = commit;
  build_type = type;
}

std::string RenderProcessMetrics() {
  std::ostringstream o;
  {
    std::lock_guard<std::mutex> l(mu);
    o << "# HELP modelreg_build_info The running build: version, git commit, build type.\n"
      << "# TYPE modelreg_build_info gauge\n"
      << "modelreg_build_info{version=\"" << Label(build_version) << "\",commit=\"" << Label(build_commit)
      << "\",build_type=\"" << Label(build_type) << "\"} 1\n";
  }
  auto p = ReadProcessStats();
  if (!p.ok()) return o.str();
  struct One {
    const char* name;
    const char* type;
    const char* help;
    double value;
  };
  const One all[] = {
      {"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", p->cpu_seconds},
      {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", double(p->resident_bytes)},
      {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", double(p->virtual_bytes)},
      {"process_open_fds", "gauge", "Number of open file descriptors.", double(p->open_fds)},
      {"process_max_fds", "gauge", "Maximum number of open file descriptors.", double(p->max_fds)},
      {"process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
       p->start_time_seconds},
  };
  o.setf(std::ios::fixed);
  o.precision(3);
  for (const One& m : all) {
    o << "# HELP " << m.name << " " << m.help << "\n# TYPE " << m.name << " " << m.type << "\n" << m.name << " ";
    if (m.value == std::floor(m.value)) o << static_cast<int64_t>(m.value) << "\n";  // counts and bytes: whole
    else o << m.value << "\n";
  }
  return o.str();
}

std::string RenderStageMetrics(const std::map<std::string, int64_t>& per_stage) {
  std::ostringstream o;
  o << "# HELP modelreg_versions Model versions per stage (over the models the scraper may see).\n"
    << "# TYPE modelreg_versions gauge\n";
  for (const auto& [stage, n] : per_stage) o << "modelreg_versions{stage=\"" << Label(stage) << "\"} " << n << "\n";
  return o.str();
}

std::string RenderBlobMetrics(uint64_t blobs, uint64_t bytes, uint64_t reclaimable_bytes) {
  std::ostringstream o;
  o << "# HELP modelreg_blobs Blobs in the local blob store.\n# TYPE modelreg_blobs gauge\nmodelreg_blobs " << blobs
    << "\n# HELP modelreg_blob_stored_bytes Bytes of the blobs in the local blob store.\n"
    << "# TYPE modelreg_blob_stored_bytes gauge\nmodelreg_blob_stored_bytes " << bytes
    << "\n# HELP modelreg_blob_reclaimable_bytes Bytes of stored blobs nothing live references (admin gc removes "
       "those past its grace period).\n"
    << "# TYPE modelreg_blob_reclaimable_bytes gauge\nmodelreg_blob_reclaimable_bytes " << reclaimable_bytes << "\n";
  return o.str();
}

void RecordRequest(const std::string& route, const std::string& method, int status, double seconds) {
  std::lock_guard<std::mutex> l(mu);
  ++requests[{route, method, status}];
  auto& h = durations[route];
  size_t i = 0;
  while (i < kNumBuckets && seconds > kBuckets[i]) ++i;
  ++h.counts[i];
  h.sum += seconds;
  ++h.n;
}

void AddBytesReceived(uint64_t n) { bytes_in += n; }
void AddBytesSent(uint64_t n) { bytes_out += n; }
void AddBodyBytesDirect(uint64_t n) { body_direct += n; }

void RecordWebhookAttempt(bool delivered, bool retryable, double seconds) {
  (delivered ? webhook_delivered : retryable ? webhook_retry : webhook_final) += 1;
  webhook_micros += static_cast<uint64_t>(seconds * 1e6);
}

std::string RenderMetrics() {
  std::ostringstream o;
  std::lock_guard<std::mutex> l(mu);
  o << "# HELP modelreg_http_requests_total HTTP requests by route, method and status.\n"
    << "# TYPE modelreg_http_requests_total counter\n";
  for (const auto& [k, v] : requests)
    o << "modelreg_http_requests_total{route=\"" << std::get<0>(k) << "\",method=\"" << std::get<1>(k) << "\",status=\""
      << std::get<2>(k) << "\"} " << v << "\n";
  o << "# HELP modelreg_http_request_duration_seconds Request latency by route.\n"
    << "# TYPE modelreg_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : durations) {
    uint64_t cum = 0;
    for (size_t i = 0; i < kNumBuckets; ++i) {
      cum += h.counts[i];
      o << "modelreg_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << kBuckets[i] << "\"} "
        << cum << "\n";
    }
    cum += h.counts[kNumBuckets];
    o << "modelreg_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << cum << "\n";
    o << "modelreg_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n";
    o << "modelreg_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.n << "\n";
  }
  o << "# HELP modelreg_blob_bytes_received_total Blob bytes received.\n"
    << "# TYPE modelreg_blob_bytes_received_total counter\n"
    << "modelreg_blob_bytes_received_total " << bytes_in.load() << "\n"
    << "# HELP modelreg_blob_bytes_sent_total Blob bytes sent.\n"
    << "# TYPE modelreg_blob_bytes_sent_total counter\n"
    << "modelreg_blob_bytes_sent_total " << bytes_out.load() << "\n"
    << "# HELP modelreg_body_bytes_direct_total Request body bytes read in large reads straight from the "
       "connection (plain TCP or TLS), not through the 64 KiB reads of other bodies.\n"
    << "# TYPE modelreg_body_bytes_direct_total counter\n"
    << "modelreg_body_bytes_direct_total " << body_direct.load() << "\n";
  o << "# HELP modelreg_webhook_attempts_total Webhook delivery attempts of this replica by result "
       "(docs/events.md).\n"
    << "# TYPE modelreg_webhook_attempts_total counter\n"
    << "modelreg_webhook_attempts_total{result=\"delivered\"} " << webhook_delivered.load() << "\n"
    << "modelreg_webhook_attempts_total{result=\"retry\"} " << webhook_retry.load() << "\n"
    << "modelreg_webhook_attempts_total{result=\"failed\"} " << webhook_final.load() << "\n"
    << "# HELP modelreg_webhook_attempt_seconds_total Time spent in webhook delivery attempts.\n"
    << "# TYPE modelreg_webhook_attempt_seconds_total counter\n"
    << "modelreg_webhook_attempt_seconds_total " << webhook_micros.load() / 1e6 << "\n";
  return o.str();
}

std::string RenderAgentMetrics(const std::vector<AgentInfo>& agents, int64_t now_ms) {
  std::ostringstream o;
  std::map<std::string, int64_t> by_state;
  for (const char* st : {"serving", "downloading", "failed", "offline", "silent"}) by_state[st] = 0;
  for (const auto& a : agents) {
    const bool silent = now_ms - a.last_seen_ms > AgentSilenceLimitMs(a.heartbeat_ms);
    ++by_state[silent ? "silent" : (a.state.empty() ? "unknown" : a.state)];
  }
  o << "# HELP modelreg_agents Agents by their last reported state; silent: no report for three heartbeats.\n"
    << "# TYPE modelreg_agents gauge\n";
  for (const auto& [st, n] : by_state) o << "modelreg_agents{state=\"" << Label(st) << "\"} " << n << "\n";
  o << "# HELP modelreg_agent_heartbeat_age_seconds Seconds since each agent last reported.\n"
    << "# TYPE modelreg_agent_heartbeat_age_seconds gauge\n";
  for (const auto& a : agents)
    o << "modelreg_agent_heartbeat_age_seconds{agent=\"" << Label(a.id) << "\",model=\"" << Label(a.model) << "\"} "
      << std::max<int64_t>(0, now_ms - a.last_seen_ms) / 1000.0 << "\n";
  struct Gauge {
    const char* name;
    const char* help;
    std::function<int64_t(const AgentInfo&)> value;
  };
  const Gauge gauges[] = {
      {"modelreg_agent_spool_pending_bytes", "Decision spool bytes not yet shipped, per agent.",
       [](const AgentInfo& a) { return a.spool_pending_bytes; }},
      {"modelreg_agent_spool_max_bytes", "Decision spool bound, per agent.",
       [](const AgentInfo& a) { return a.spool_max_bytes; }},
      {"modelreg_agent_spool_near_bound", "1 when the decision spool is at 80 % of its bound or more.",
       [](const AgentInfo& a) { return int64_t{a.SpoolNearBound()}; }},
      {"modelreg_agent_decisions_dropped", "Decisions not recorded because the spool was full, per agent.",
       [](const AgentInfo& a) { return a.decisions_dropped; }},
  };
  for (const auto& g : gauges) {
    o << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n";
    for (const auto& a : agents)
      if (a.spool_max_bytes > 0)
        o << g.name << "{agent=\"" << Label(a.id) << "\",model=\"" << Label(a.model) << "\"} " << g.value(a) << "\n";
  }
  return o.str();
}

std::string RenderDriftMetrics(const std::vector<LatestDriftRecord>& latest) {
  std::ostringstream o;
  o << "# HELP modelreg_feature_drift Drift of a feature in the newest monitoring window of a version: psi, js"
       " (Jensen-Shannon distance), missing_rate, out_of_range_rate, threshold (the PSI alarm threshold).\n"
       "# TYPE modelreg_feature_drift gauge\n";
  for (const auto& l : latest) {
    const std::pair<const char*, double> stats[] = {{"psi", l.psi},
                                                    {"js", l.js},
                                                    {"missing_rate", l.missing_rate},
                                                    {"out_of_range_rate", l.out_of_range_rate},
                                                    {"threshold", l.threshold}};
    for (const auto& [stat, value] : stats)
      o << "modelreg_feature_drift{model=\"" << Label(l.model) << "\",version=\"" << l.version << "\",feature=\""
        << Label(l.feature) << "\",stat=\"" << stat << "\"} " << value << "\n";
  }
  return o.str();
}

}  // namespace modelreg::api
