// Fuzz target: a signed release as the agent receives it (a DSSE envelope,
// verified before anything in it is parsed), and base64.
// Invariants: no crash; nothing opens: the key below is an Ed25519 public
// key whose private half was thrown away when it was made, so an envelope
// that verifies would be a forged signature; base64 round-trips.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "auth/signing.h"

using namespace modelreg;

namespace {
constexpr char kPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAF+vCtxlmuzNKK3N8ZOSx05RB2UrDCIpF4K6QuWRS4FI=\n"
    "-----END PUBLIC KEY-----\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<VerifyKey> key = [] {
    auto k = VerifyKey::FromPem(kPem);
    if (!k.ok()) abort();
    return std::move(k).value();
  }();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (OpenDsse(*key, in, kInTotoPayloadType).ok()) abort();
  if (auto d = Base64Decode(in); d.ok()) {
    auto again = Base64Decode(Base64Encode(*d));
    if (!again.ok() || *again != *d) abort();
  }
  auto back = Base64Decode(Base64Encode(in));
  if (!back.ok() || *back != in) abort();
  return 0;
}
