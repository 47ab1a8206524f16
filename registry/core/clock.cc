#include "core/clock.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <regex>

namespace modelreg {
namespace {
std::atomic<int64_t> g_fake_now_ms{0};
}  // namespace

int64_t NowMs() {
  if (int64_t fake = g_fake_now_ms.load(std::memory_order_relaxed)) return fake;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SetFakeNowForTesting(int64_t ms) { g_fake_now_ms.store(ms, std::memory_order_relaxed); }

std::string FormatIsoTime(int64_t ms) {
  time_t s = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

Result<int64_t> ParseTimeMs(const std::string& text) {
  static const std::regex kIso(R"(^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?Z?$)");
  std::smatch m;
  if (std::regex_match(text, m, kIso)) {
    struct tm tm = {};
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = std::stoi(m[2]) - 1;
    tm.tm_mday = std::stoi(m[3]);
    if (m[4].matched) tm.tm_hour = std::stoi(m[4]);
    if (m[5].matched) tm.tm_min = std::stoi(m[5]);
    if (m[6].matched) tm.tm_sec = std::stoi(m[6]);
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
      return Status::InvalidArgument("bad time '" + text + "': a field is out of range");
    int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    if (m[7].matched) {
      std::string frac = m[7].str();
      while (frac.size() < 3) frac += '0';
      ms += std::stoi(frac);
    }
    return ms;
  }
  if (!text.empty() && text.size() <= 15 && std::all_of(text.begin(), text.end(), ::isdigit))
    return static_cast<int64_t>(std::stoll(text));
  return Status::InvalidArgument("bad time '" + text +
                                 "': want 2026-11-23T18:00:00Z (UTC), 2026-11-23 or epoch milliseconds");
}
}  // namespace modelreg
