// Fuzz target: the headers a webhook receiver gets (core/webhook_signature.h)
// — delivery id, timestamp and signature header, one per line, then the
// body. Invariants: no crash; a delivery verifies only if one of its
// signatures is the one this secret makes for it; what SignWebhook makes
// for a well-formed id and timestamp verifies, and not with another secret.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/webhook_signature.h"

using namespace modelreg;

namespace {

std::string_view Line(std::string_view* in) {
  const size_t nl = in->find('\n');
  const std::string_view line = in->substr(0, nl);
  in->remove_prefix(nl == std::string_view::npos ? in->size() : nl + 1);
  return line;
}

bool Digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string secret = "whsec-fuzz";
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view id = Line(&in), ts = Line(&in), sig = Line(&in), body = in;
  const Status st = VerifyWebhook(secret, id, ts, sig, body, 1796558400, kWebhookTolerance);
  if (st.ok()) {
    // Only a signature this secret made for exactly these bytes opens it.
    const std::string made = SignWebhook(secret, id, std::stoll(std::string(ts)), body);
    if (std::string_view(sig).find(made) == std::string_view::npos || !Digits(id) || !Digits(ts)) abort();
  } else if (st.code() != StatusCode::kUnauthenticated || st.message().empty()) {
    abort();
  }
  if (Digits(id) && id.size() <= 20) {
    const std::string made = SignWebhook(secret, id, 1796558400, body);
    if (!VerifyWebhook(secret, id, "1796558400", made, body, 1796558400).ok()) abort();
    if (!VerifyWebhook(secret, id, "1796558400", made + " v2,x", body, 1796558400).ok()) abort();
    if (VerifyWebhook("whsec-other", id, "1796558400", made, body, 1796558400).ok()) abort();
  }
  return 0;
}
