// Fuzz target: the reference profile (core/profile.h), which the registry
// parses on register and the agent parses from a pulled bundle, and the
// --schema file. Invariants: no crash; a profile or schema that parses
// re-serializes to bytes that parse to the same value; every bin a column
// reports for a value is below Bins() (or Bins() itself for "no bin").
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/profile.h"

using namespace modelreg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto p = ParseProfile(in); p.ok()) {
    const std::string again = SerializeProfile(*p);
    auto p2 = ParseProfile(again);
    if (!p2.ok() || SerializeProfile(*p2) != again) abort();
    for (const auto& c : p->columns) {
      if (c.fractions.size() != c.Bins()) abort();
      for (double x : {-1e300, -1.0, 0.0, 0.5, 1.0, 1e300})
        if (c.NumericBin(x) >= c.Bins()) abort();
      for (const auto& cat : c.categories)
        if (c.CategoryBin(cat) >= c.Bins()) abort();
    }
    (void)SchemaFromProfile(p->columns);
  }
  if (auto s = ParseSchemaJson(in); s.ok()) {
    const std::string again = SerializeSchemaJson(*s);
    auto s2 = ParseSchemaJson(again);
    if (!s2.ok() || SerializeSchemaJson(*s2) != again) abort();
  }
  return 0;
}
