// Fuzz target: the "monitoring" member of an agent's status report (the
// registry parses it from the network: core/monitor_window.h). Invariants:
// no crash; a report that parses re-serializes to bytes that parse to the
// same report.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/monitor_window.h"

using namespace modelreg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto r = ParseMonitorReport(in); r.ok()) {
    const std::string again = SerializeMonitorReport(*r);
    auto r2 = ParseMonitorReport(again);
    if (!r2.ok() || SerializeMonitorReport(*r2) != again) abort();
  }
  return 0;
}
