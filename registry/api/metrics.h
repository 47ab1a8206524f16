// Process-wide request metrics in Prometheus text format. Thread-safe.
#pragma once

#include <cstdint>
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
// Gauges of each proxy-mode agent's decision spool: pending and max bytes,
// decisions dropped, and near_bound (1 at >= 80 % of the bound).
std::string RenderAgentMetrics(const std::vector<AgentInfo>& agents);
// modelreg_feature_drift{model,version,feature,stat}: the newest window's
// statistics per model, version and feature (docs/monitoring.md).
std::string RenderDriftMetrics(const std::vector<LatestDriftRecord>& latest);

}  // namespace modelreg::api
