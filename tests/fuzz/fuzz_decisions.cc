// Fuzz target: the body of POST /api/v1/decisions (ParseDecisionBatch), and
// TerminalSafe over what it yields (text an auditor's CLI prints later).
// Invariants: no crash; never more decisions than the cap; arm, fallback
// and rollout_id only ever hold their allowed values; TerminalSafe's output
// holds no control character and no invalid UTF-8 (a second pass changes
// nothing).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/decision_batch.h"
#include "core/terminal_text.h"

using namespace modelreg;

namespace {

void CheckSafe(std::string_view s) {
  const std::string out = TerminalSafe(s);
  if (!FirstControlChar(out).empty() || TerminalSafe(out) != out) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto r = ParseDecisionBatch(in, 4); r.ok()) {
    if (r->size() > 4) abort();
    for (const auto& d : *r) {
      if (!d.arm.empty() && d.arm != "baseline" && d.arm != "candidate") abort();
      if (!d.fallback.empty() && d.fallback != "previous" && d.fallback != "static") abort();
      if (d.rollout_id && *d.rollout_id <= 0) abort();
      CheckSafe(d.request_id);
      CheckSafe(d.agent_id);
      if (d.output) CheckSafe(*d.output);
    }
  }
  CheckSafe(in);
  return 0;
}
