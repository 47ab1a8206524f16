#include "core/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace modelreg {

Result<ProcessStats> ReadProcessStats() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat;
  if (!stat_file || !std::getline(stat_file, stat)) return Status::Unavailable("cannot read /proc/self/stat");
  // "pid (comm) state ..." — comm may hold spaces and parentheses: the
  // fields start after the last ')'. Field 3 (state) is fields[0] below.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return Status::Unavailable("unexpected /proc/self/stat");
  std::istringstream in(stat.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  // fields[k] is field k + 3 of proc(5): utime 14, stime 15, starttime 22, vsize 23, rss 24.
  if (fields.size() < 22) return Status::Unavailable("unexpected /proc/self/stat");
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const long page = sysconf(_SC_PAGESIZE);
  ProcessStats s;
  try {
    s.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
    const double start_ticks = std::stod(fields[19]);
    s.virtual_bytes = std::stoll(fields[20]);
    s.resident_bytes = std::stoll(fields[21]) * page;
    std::ifstream boot("/proc/stat");
    for (std::string line; std::getline(boot, line);)
      if (line.rfind("btime ", 0) == 0) s.start_time_seconds = std::stod(line.substr(6)) + start_ticks / ticks;
  } catch (const std::exception&) { return Status::Unavailable("unexpected /proc/self/stat"); }
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++s.open_fds;
    closedir(d);
    --s.open_fds;  // the directory stream's own descriptor
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) s.max_fds = static_cast<int64_t>(rl.rlim_cur);
  return s;
}

}  // namespace modelreg
