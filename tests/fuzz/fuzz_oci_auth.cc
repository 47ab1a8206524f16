// Fuzz target: what an OCI client sends to log in (docs/oci.md "Logging
// in"): the scope parameters of /v2/token and the bearer it then presents.
// Invariants: no crash; no bearer opens unless this key made it (the MAC);
// a bearer made from the parsed scopes opens to exactly those scopes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "auth/oci_bearer.h"

using namespace modelreg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string key(32, 'k');
  const std::string in(reinterpret_cast<const char*>(data), size);
  if (OpenOciBearer(key, in, 0).ok()) abort();  // a forged MAC would be needed
  std::vector<std::string> params;
  for (size_t at = 0; at <= in.size();) {  // one scope parameter per line
    size_t nl = in.find('\n', at);
    if (nl == std::string::npos) nl = in.size();
    params.push_back(in.substr(at, nl - at));
    at = nl + 1;
  }
  auto scopes = ParseOciScopes(params);
  if (!scopes.ok()) return 0;
  OciBearerClaims claims{std::string(32, 'h'), 1000, *scopes};
  const std::string bearer = SignOciBearer(key, claims);
  auto opened = OpenOciBearer(key, bearer, 999);
  if (!opened.ok() || opened->access != *scopes || opened->token_hash != claims.token_hash) abort();
  if (OpenOciBearer(key, bearer, 1000).ok()) abort();     // expired
  if (OpenOciBearer("other", bearer, 999).ok()) abort();  // another key
  for (const auto& a : *scopes) (void)ModelOfOciRepository(a.repository);
  return 0;
}
