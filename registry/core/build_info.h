// What this binary is: the project version, the git commit it was built
// from (captured at build time; "unknown" outside a git checkout) and the
// CMake build type. Defined in a file generated at build time
// (cmake/build_info.cmake), linked by modelreg and modelreg-agent.
#pragma once

#include <string>

namespace modelreg {

struct BuildInfo {
  const char* version;     // "0.1.0"
  const char* git_commit;  // full sha, with "-dirty" for local changes; or "unknown"
  const char* build_type;  // "RelWithDebInfo", ...
};

const BuildInfo& GetBuildInfo();

// "PROGRAM 0.1.0 (commit 1a2b3c4d5e6f, RelWithDebInfo)", for --version.
std::string BuildInfoLine(const std::string& program);

}  // namespace modelreg
