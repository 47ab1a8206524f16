// Fuzz target: the body of POST /api/v1/decisions (ParseDecisionBatch), and
// TerminalSafe over what it yields (text an auditor's CLI prints later).
// Invariants: no crash; never more decisions than the cap; arm, fallback
// and rollout_id only ever hold their allowed values; TerminalSafe's output
// holds no control character and no invalid UTF-8 (a second pass changes
// nothing); where the one-pass reader (ParseDecisionBatchFast) answers, the
// SAX parse accepts the same body and yields the same records.
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

bool Same(const DecisionRecord& a, const DecisionRecord& b) {
  return a.request_id == b.request_id && a.model == b.model && a.version == b.version && a.digest == b.digest &&
         a.agent_id == b.agent_id && a.at_ms == b.at_ms && a.input_sha256 == b.input_sha256 && a.output == b.output &&
         a.received_at_ms == b.received_at_ms && a.arm == b.arm && a.rollout_id == b.rollout_id &&
         a.fallback == b.fallback;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto fast = ParseDecisionBatchFast(in, 4)) {
    auto sax = ParseDecisionBatchSax(in, 4);
    if (!sax.ok() || sax->size() != fast->size()) abort();
    for (size_t i = 0; i < fast->size(); ++i)
      if (!Same((*fast)[i], (*sax)[i])) abort();
  }
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
