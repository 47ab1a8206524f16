#include "core/flag_values.h"

#include <charconv>
#include <cmath>
#include <string>

namespace modelreg {
namespace {

Status Bad(std::string_view flag, std::string_view text, std::string_view want) {
  return Status::InvalidArgument(std::string(flag) + " wants " + std::string(want) + ", not '" + std::string(text) +
                                 "'");
}

// The leading decimal digits of `text` as a number and what follows, or
// nothing if there are no digits or they overflow.
bool LeadingDigits(std::string_view text, uint64_t* n, std::string_view* rest) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, *n);
  if (ec != std::errc() || p == text.data()) return false;
  *rest = std::string_view(p, static_cast<size_t>(end - p));
  return true;
}

}  // namespace

std::optional<double> ParseFiniteDecimal(std::string_view text) {
  if (text.empty() || text.front() == '+') return std::nullopt;
  const char* end = text.data() + text.size();
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), end, v, std::chars_format::general);
  if (ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

Result<int64_t> ParseCountFlag(std::string_view text, std::string_view flag, int64_t min, int64_t max) {
  const std::string want = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  uint64_t n = 0;
  std::string_view rest;
  if (!LeadingDigits(text, &n, &rest) || !rest.empty() || n > static_cast<uint64_t>(INT64_MAX) ||
      static_cast<int64_t>(n) < min || static_cast<int64_t>(n) > max)
    return Bad(flag, text, want);
  return static_cast<int64_t>(n);
}

Result<double> ParseSecondsFlag(std::string_view text, std::string_view flag, bool zero_ok) {
  const std::string_view want =
      zero_ok ? "seconds >= 0 (30, 0.5, or 45s, 30m, 12h, 90d)" : "seconds > 0 (30, 0.5, or 45s, 30m, 12h, 90d)";
  double v = 0;
  if (!text.empty() && text.back() >= '0' && text.back() <= '9') {  // a bare number, maybe with a fraction
    auto parsed = ParseFiniteDecimal(text);
    if (!parsed || text.find_first_of("eE") != std::string_view::npos) return Bad(flag, text, want);
    v = *parsed;
  } else {
    uint64_t n = 0;
    std::string_view unit;
    if (!LeadingDigits(text, &n, &unit) || unit.size() != 1 || n > (1ull << 40)) return Bad(flag, text, want);
    const double scale = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
    if (scale == 0) return Bad(flag, text, want);
    v = static_cast<double>(n) * scale;
  }
  if (!std::isfinite(v) || v < 0 || (v == 0 && !zero_ok)) return Bad(flag, text, want);
  return v;
}

Result<uint64_t> ParseBytesFlag(std::string_view text, std::string_view flag) {
  const std::string_view want = "a size in bytes > 0 (1048576, or 64K, 64M, 2G, 1T)";
  uint64_t n = 0;
  std::string_view unit;
  if (!LeadingDigits(text, &n, &unit) || n == 0) return Bad(flag, text, want);
  int shift = 0;
  if (!unit.empty()) {
    const char u = unit.front();
    shift = u == 'K' || u == 'k' ? 10 : u == 'M' ? 20 : u == 'G' ? 30 : u == 'T' ? 40 : -1;
    const std::string_view tail = unit.substr(1);
    if (shift < 0 || !(tail.empty() || tail == "B" || tail == "iB")) return Bad(flag, text, want);
  }
  if (shift > 0 && n > (UINT64_MAX >> shift)) return Bad(flag, text, want);
  return n << shift;
}

}  // namespace modelreg
