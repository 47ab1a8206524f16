// Fuzz target: values clients send that the other targets do not parse.
// The first byte picks the parser ('0'..'4' in the seeds; any byte, modulo
// 5, when fuzzing), the rest is its input:
//   0: a manifest pushed with a subject (OCI `PUT /v2/.../manifests/...`
//      by any OCI client with a trainer token: core/oci_referrer.h);
//   1: rollout steps (`--steps`, the rollout API's body: core/rollout.h);
//   2: rollout steps as stored in the database (the same file);
//   3: a traffic share (`--percent`, the rollout API: core/traffic_split.h);
//   4: a list's page_token (every list's query string: api/list_page.h).
// Invariants: no crash; what parses satisfies its contract (bounds, order)
// and comes back unchanged through its own encoding.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/list_page.h"
#include "core/oci_referrer.h"
#include "core/rollout.h"
#include "core/traffic_split.h"

using namespace modelreg;

namespace {

void Referrer(std::string_view in) {
  auto r = ParsePushedReferrer(in);
  if (!r.ok()) return;
  // config + at most kMaxReferrerLayers layers, every one typed
  if (r->blobs.empty() || r->blobs.size() > kMaxReferrerLayers + 1) abort();
  if (r->subject.media_type.empty()) abort();
  for (const Descriptor& d : r->blobs) {
    if (d.media_type.empty()) abort();
    if (!Digest::Parse(d.digest.str()).ok()) abort();
  }
}

void Steps(std::string_view in) {
  auto s = ParseRolloutSteps(in);
  if (!s.ok()) return;
  if (s->empty()) abort();
  for (size_t i = 0; i < s->size(); ++i) {
    if ((*s)[i] <= 0 || (*s)[i] > 10000) abort();
    if (i > 0 && (*s)[i] <= (*s)[i - 1]) abort();
  }
  auto back = ParseStepsBp(FormatStepsBp(*s));
  if (!back.ok() || *back != *s) abort();
}

void StoredSteps(std::string_view in) {
  auto s = ParseStepsBp(in);
  if (!s.ok()) return;
  if (s->empty()) abort();
  for (int v : *s)
    if (v < 0 || v > 10000) abort();
  auto back = ParseStepsBp(FormatStepsBp(*s));
  if (!back.ok() || *back != *s) abort();
}

void Percent(std::string_view in) {
  auto p = ParseTrafficPercent(in, "--percent");
  if (p.ok() && (*p <= 0 || *p > 10000)) abort();
}

void PageToken(std::string_view in) {
  auto j = api::DecodePageToken(std::string(in));
  if (!j.ok()) return;
  if (!j->is_object()) abort();
  const std::string again = api::EncodePageToken(*j);
  if (again.size() > 4096) return;  // a number printed longer than it was written
  auto j2 = api::DecodePageToken(again);
  if (!j2.ok() || *j2 != *j) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (static_cast<uint8_t>(data[0] - '0') % 5) {  // '0'..'4' in the seeds
    case 0:
      Referrer(in);
      break;
    case 1:
      Steps(in);
      break;
    case 2:
      StoredSteps(in);
      break;
    case 3:
      Percent(in);
      break;
    default:
      PageToken(in);
      break;
  }
  return 0;
}
