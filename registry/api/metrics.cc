#include "api/metrics.h"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <tuple>

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

}  // namespace

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

std::string RenderAgentMetrics(const std::vector<AgentInfo>& agents) {
  std::ostringstream o;
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
        o << g.name << "{agent=\"" << a.id << "\",model=\"" << a.model << "\"} " << g.value(a) << "\n";
  }
  return o.str();
}

namespace {
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
