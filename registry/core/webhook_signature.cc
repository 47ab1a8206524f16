#include "core/webhook_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <vector>

namespace modelreg {
namespace {

// Longer headers are refused before any work: a few signatures fit easily.
constexpr size_t kMaxSignatureHeader = 4096;
constexpr size_t kMaxDeliveryId = 20;  // an int64's digits
constexpr size_t kMaxTimestamp = 18;   // fits an int64 with room for the tolerance
// A v1 signature's base64 text: 32 bytes, padded.
constexpr size_t kV1Length = 44;

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int k = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(k);
  return out;
}

// The base64 text of the MAC (always kV1Length characters).
std::string Mac(std::string_view secret, std::string_view delivery_id, std::string_view timestamp,
                std::string_view body) {
  // EVP_MAC rather than the one-shot HMAC(), which would need the message
  // copied into one piece.
  unsigned char out[EVP_MAX_MD_SIZE];
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  size_t len = 0;
  bool ok = ctx && EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params) == 1;
  for (std::string_view part : {delivery_id, std::string_view("."), timestamp, std::string_view("."), body})
    ok = ok && EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) == 1;
  ok = ok && EVP_MAC_final(ctx, out, &len, sizeof out) == 1;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  // Only a broken OpenSSL fails here; an empty MAC then matches nothing.
  return ok ? Base64(out, len) : std::string();
}

bool AllDigits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

bool IsBase64(std::string_view s) {
  for (char c : s) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  return true;
}

Status Refused(const std::string& why) { return Status::Unauthenticated("webhook delivery refused: " + why); }

}  // namespace

std::string SignWebhook(std::string_view secret, std::string_view delivery_id, int64_t timestamp,
                        std::string_view body) {
  return "v1," + Mac(secret, delivery_id, std::to_string(timestamp), body);
}

std::vector<std::pair<std::string, std::string>> WebhookHeaders(std::string_view secret, int64_t delivery_id,
                                                                int64_t timestamp, std::string_view body) {
  const std::string id = std::to_string(delivery_id);
  return {{kWebhookDeliveryIdHeader, id},
          {kWebhookTimestampHeader, std::to_string(timestamp)},
          {kWebhookSignatureHeader, SignWebhook(secret, id, timestamp, body)}};
}

Status VerifyWebhook(std::string_view secret, std::string_view delivery_id, std::string_view timestamp_header,
                     std::string_view signature_header, std::string_view body, int64_t now_unix, int64_t tolerance_s) {
  if (!AllDigits(delivery_id) || delivery_id.size() > kMaxDeliveryId)
    return Refused(std::string(kWebhookDeliveryIdHeader) + " is not a decimal event id");
  if (!AllDigits(timestamp_header) || timestamp_header.size() > kMaxTimestamp)
    return Refused(std::string(kWebhookTimestampHeader) + " is not decimal unix seconds");
  const int64_t timestamp = std::stoll(std::string(timestamp_header));
  const int64_t skew = now_unix - timestamp;
  if (skew > tolerance_s)
    return Refused("timestamp " + std::to_string(timestamp) + " is " + std::to_string(skew) + " s old, more than the " +
                   std::to_string(tolerance_s) + " s allowed (a replayed delivery, or a clock out of step)");
  if (-skew > tolerance_s)
    return Refused("timestamp " + std::to_string(timestamp) + " is " + std::to_string(-skew) +
                   " s in the future, more than the " + std::to_string(tolerance_s) +
                   " s allowed (a clock out of step)");
  if (signature_header.size() > kMaxSignatureHeader)
    return Refused(std::string(kWebhookSignatureHeader) + " is longer than " + std::to_string(kMaxSignatureHeader) +
                   " bytes");

  // "v1,<b64> v1,<b64> v2,...": single spaces between, each VERSION,VALUE.
  std::vector<std::string_view> v1;
  for (size_t at = 0; at <= signature_header.size();) {
    size_t end = signature_header.find(' ', at);
    if (end == std::string_view::npos) end = signature_header.size();
    const std::string_view token = signature_header.substr(at, end - at);
    const size_t comma = token.find(',');
    if (token.empty() || comma == std::string_view::npos || comma == 0 || comma + 1 == token.size())
      return Refused(std::string(kWebhookSignatureHeader) +
                     " is malformed: expected space-separated VERSION,SIGNATURE (e.g. v1,<base64>)");
    if (token.substr(0, comma) == "v1") {
      const std::string_view value = token.substr(comma + 1);
      if (value.size() != kV1Length || !IsBase64(value))
        return Refused(std::string(kWebhookSignatureHeader) + " has a v1 signature that is not " +
                       std::to_string(kV1Length) + " characters of base64");
      v1.push_back(value);
    }
    at = end + 1;
  }
  if (v1.empty()) return Refused(std::string(kWebhookSignatureHeader) + " has no v1 signature");

  const std::string expected = Mac(secret, delivery_id, timestamp_header, body);
  bool match = false;
  for (std::string_view candidate : v1)  // every one compared: the time does not tell which matched
    match |= expected.size() == kV1Length && CRYPTO_memcmp(candidate.data(), expected.data(), kV1Length) == 0;
  if (!match)
    return Refused("no signature in " + std::string(kWebhookSignatureHeader) +
                   " matches (a wrong secret, or an altered body, delivery id or timestamp)");
  return Status::OK();
}

}  // namespace modelreg
