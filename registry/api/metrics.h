// Process-wide request metrics in Prometheus text format. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/drift_record.h"
#include "core/records.h"

namespace modelreg::api {

void RecordRequest(const std::string& route, const std::string& method, int status, double seconds);
void AddBytesReceived(uint64_t n);
void AddBytesSent(uint64_t n);
// Request body bytes read in large reads straight from the connection
// (api/socket_body), in large reads into lent buffers.
void AddBodyBytesDirect(uint64_t n);
// One webhook delivery attempt of this replica (api/webhook_worker.cc):
// delivered, failed and to be retried, or failed for good.
void RecordWebhookAttempt(bool delivered, bool retryable, double seconds);
std::string RenderMetrics();
// What modelreg_build_info reports (serve sets it once at start from
// core/build_info.h; unset: "unknown").
void SetBuildInfo(const std::string& version, const std::string& commit, const std::string& build_type);
// modelreg_build_info and the process_* metrics (CPU, memory, descriptors,
// start time) of this process.
std::string RenderProcessMetrics();
// Versions per stage over the models the scraper may see.
std::string RenderStageMetrics(const std::map<std::string, int64_t>& per_stage);
// modelreg_blobs, modelreg_blob_stored_bytes, modelreg_blob_reclaimable_bytes.
std::string RenderBlobMetrics(uint64_t blobs, uint64_t bytes, uint64_t reclaimable_bytes);
// Agents by state (a silent agent, past AgentSilenceLimitMs, counts as
// "silent"), each agent's heartbeat age, and the gauges of each proxy-mode
// agent's decision spool: pending and max bytes, decisions dropped, and
// near_bound (1 at >= 80 % of the bound). `now_ms`: the registry's clock.
std::string RenderAgentMetrics(const std::vector<AgentInfo>& agents, int64_t now_ms);
// modelreg_feature_drift{model,version,feature,stat}: the newest window's
// statistics per model, version and feature (docs/monitoring.md).
std::string RenderDriftMetrics(const std::vector<LatestDriftRecord>& latest);

}  // namespace modelreg::api
