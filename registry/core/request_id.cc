#include "core/request_id.h"

#include <openssl/rand.h>

#include <cctype>
#include <chrono>

#include "core/digest.h"

namespace modelreg {

bool IsValidRequestId(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string RequestIdV7(uint64_t unix_ms, const unsigned char random[10]) {
  unsigned char b[16];
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(unix_ms >> (8 * (5 - i)));
  for (int i = 0; i < 10; ++i) b[6 + i] = random[i];
  b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0f));  // version 7
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));  // variant 10
  const std::string hex = HexEncode(b, sizeof b);           // 32 characters, dashed 8-4-4-4-12
  return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' + hex.substr(16, 4) + '-' +
         hex.substr(20);
}

std::string NewRequestId() {
  unsigned char r[10];
  RAND_bytes(r, sizeof r);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return RequestIdV7(static_cast<uint64_t>(ms), r);
}

std::string RequestIdOrNew(const std::string& given) { return IsValidRequestId(given) ? given : NewRequestId(); }

}  // namespace modelreg
