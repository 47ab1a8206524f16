// Process-wide request metrics in Prometheus text format. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace modelreg::api {

void RecordRequest(const std::string& route, const std::string& method, int status,
                   double seconds);
void AddBytesReceived(uint64_t n);
void AddBytesSent(uint64_t n);
std::string RenderMetrics();

}  // namespace modelreg::api
