// Fuzz target: bundle paths and names (docs/architecture.md), as a manifest or a bundle
// directory brings them. The input is a list of paths, one per line.
// Invariants: no crash; a set that validates has valid members, no two equal
// after case-folding and normalization and none a prefix directory of
// another; case-folding a valid path is idempotent.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/bundle_path.h"

using namespace modelreg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> paths;
  for (size_t start = 0; start <= in.size();) {
    size_t nl = in.find('\n', start);
    if (nl == std::string_view::npos) nl = in.size();
    paths.emplace_back(in.substr(start, nl - start));
    start = nl + 1;
  }
  for (const auto& p : paths) {
    (void)ValidateModelName(p);
    (void)ValidateTokenName(p);
    if (ValidateBundlePath(p).ok()) {
      const std::string f = CaseFold(p);
      if (CaseFold(f) != f) abort();
    }
  }
  if (ValidateBundlePathSet(paths).ok()) {
    std::set<std::string> folded;
    for (const auto& p : paths) {
      if (!ValidateBundlePath(p).ok()) abort();
      if (!folded.insert(CaseFold(p)).second) abort();
    }
    for (const auto& f : folded)
      for (size_t slash = f.find('/'); slash != std::string::npos; slash = f.find('/', slash + 1))
        if (folded.count(f.substr(0, slash))) abort();
  }
  return 0;
}
