#include "core/traffic_split.h"

#include <openssl/evp.h>

#include <algorithm>
#include <string>

namespace modelreg {

const char* ArmName(Arm a) { return a == Arm::kCandidate ? "candidate" : "baseline"; }

int TrafficBucket(std::string_view salt, std::string_view key) {
  std::string input;
  input.reserve(salt.size() + 1 + key.size());
  input.append(salt).push_back('\0');
  input.append(key);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | md[i];
  return static_cast<int>(v % kTrafficBuckets);
}

Arm ArmForBucket(int bucket, int weight_bp) {
  return bucket < std::clamp(weight_bp, 0, kTrafficBuckets) ? Arm::kCandidate : Arm::kBaseline;
}

Result<int> ParseTrafficPercent(std::string_view text, std::string_view flag) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(std::string(flag) + " wants a share of traffic in percent (e.g. 5 or 12.5), " + why);
  };
  std::string_view t = text;
  if (!t.empty() && t.back() == '%') t.remove_suffix(1);
  if (t.empty() || t.size() > 8) return bad("not '" + std::string(text.substr(0, 16)) + "'");
  int64_t whole = 0, frac = 0;
  int frac_digits = -1;  // -1: no decimal point seen
  for (char c : t) {
    if (c == '.' && frac_digits < 0) {
      frac_digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (frac_digits < 0) {
        whole = whole * 10 + (c - '0');
      } else if (++frac_digits <= 2) {
        frac = frac * 10 + (c - '0');
      } else {
        return bad("with at most two decimals, not '" + std::string(text) + "'");
      }
    } else {
      return bad("not '" + std::string(text) + "'");
    }
  }
  if (frac_digits == 0) return bad("not '" + std::string(text) + "'");
  if (frac_digits == 1) frac *= 10;
  const int64_t bp = whole * 100 + std::max<int64_t>(frac, 0);
  if (bp <= 0 || bp > kTrafficBuckets) return bad("more than 0 and at most 100, not '" + std::string(text) + "'");
  return static_cast<int>(bp);
}

}  // namespace modelreg
