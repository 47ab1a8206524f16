// Fuzz target: the lineage record (a manifest's config blob) and the texts a
// user passes to register and policy: --params/--metrics JSON, metric
// values, gates, times. Invariants: no crash; a lineage record that parses
// re-serializes to bytes that parse to the same record; a gate that parses
// prints to text that parses to the same gate.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/lineage_record.h"
#include "core/policy.h"

using namespace modelreg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto r = ParseLineage(in); r.ok()) {
    const std::string again = SerializeLineage(*r);
    auto r2 = ParseLineage(again);
    if (!r2.ok() || SerializeLineage(*r2) != again) abort();
  }
  (void)ParseParamsJson(in);
  (void)ParseMetricsJson(in);
  (void)ParseMetricText("m", in);
  const std::string text(in);
  if (auto g = ParseGate(text); g.ok()) {
    auto g2 = ParseGate(g->ToString());
    if (!g2.ok() || g2->ToString() != g->ToString()) abort();
  }
  (void)ParseTimeMs(text);
  return 0;
}
