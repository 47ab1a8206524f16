#include "client/progress_text.h"

#include <cstdio>

namespace modelreg {

std::string ByteText(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string ProgressText(const std::string& verb, uint64_t done, uint64_t total, double seconds) {
  std::string line = verb + " " + ByteText(done);
  if (total > 0) {
    const uint64_t shown = done < total ? done : total;
    line += " of " + ByteText(total) + " (" + std::to_string(shown * 100 / total) + "%)";
  }
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  char b[64];
  if (seconds > 0) {
    std::snprintf(b, sizeof b, ", %.0f MB/s", rate / 1e6);
    line += b;
  }
  if (total > 0 && done < total && rate > 0) {
    const auto s = static_cast<unsigned long long>(static_cast<double>(total - done) / rate + 0.5);
    if (s >= 3600) std::snprintf(b, sizeof b, ", ETA %lluh%02llum", s / 3600, s / 60 % 60);
    else if (s >= 60) std::snprintf(b, sizeof b, ", ETA %llum%02llus", s / 60, s % 60);
    else std::snprintf(b, sizeof b, ", ETA %llus", s);
    line += b;
  }
  return line;
}

}  // namespace modelreg
