#include "core/glob.h"

#include <fnmatch.h>

#include <string>

namespace modelreg {

bool GlobMatch(std::string_view glob, std::string_view name) {
  // fnmatch wants NUL-terminated strings.
  const std::string g(glob), n(name);
  return ::fnmatch(g.c_str(), n.c_str(), FNM_NOESCAPE) == 0;
}

}  // namespace modelreg
