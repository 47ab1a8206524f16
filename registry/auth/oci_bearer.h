// The short-lived bearer tokens of the OCI /v2/ endpoint (docs/oci.md
// "Logging in"), and the scopes OCI clients ask for.
//
// An OCI client first asks /v2/token, with HTTP basic auth whose password is
// a modelreg token, for access such as "repository:churn:pull,push"; the
// answer is a bearer the client then sends with each /v2/ request:
//   "mro1." base64url(claims JSON) "." base64url(HMAC-SHA256(key, "mro1." claims))
// The claims name the modelreg token by its sha256 (never the token), the
// expiry, and the access granted. The bearer is only a narrower, shorter
// form of that token: whoever checks it still loads the token (revoked or
// expired: refused) and applies its role and model scopes.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace modelreg {

// Access to one repository ("churn", "churn/modelpack").
struct OciAccess {
  std::string repository;
  bool pull = false;
  bool push = false;
  bool operator==(const OciAccess&) const = default;
};

struct OciBearerClaims {
  std::string token_hash;  // sha256 of the modelreg token, 32 raw bytes
  int64_t expires_at_ms = 0;
  std::vector<OciAccess> access;
};

inline constexpr char kOciBearerPrefix[] = "mro1.";

// The bearer text for `claims`, authenticated with `key` (any length; the
// service derives it from the release key, so every replica checks what any
// replica issued).
std::string SignOciBearer(std::string_view key, const OciBearerClaims& claims);
// The claims of a bearer `SignOciBearer(key, …)` made. Unauthenticated if it
// is malformed, not made with `key`, or expired at `now_ms`.
Result<OciBearerClaims> OpenOciBearer(std::string_view key, std::string_view bearer, int64_t now_ms);
bool LooksLikeOciBearer(std::string_view text);

// The `scope` parameters of a token request ("repository:NAME:ACTIONS",
// several per parameter separated by spaces, ACTIONS a comma list of pull,
// push, delete, *). Access to the same repository is merged; other resource
// types (registry:catalog:*) and actions other than pull and push are left
// out, as the token protocol lets a server grant less than asked.
// InvalidArgument for a scope that is not TYPE:NAME:ACTIONS, or whose NAME
// holds a byte that is not printable ASCII.
Result<std::vector<OciAccess>> ParseOciScopes(const std::vector<std::string>& scopes);
// The model an OCI repository name is about: "churn" and its ModelPack view
// "churn/modelpack" (docs/oci.md) are both model churn.
inline constexpr std::string_view kModelPackView = "/modelpack";
std::string ModelOfOciRepository(std::string_view repository);
bool IsModelPackRepository(std::string_view repository);

// "repository:NAME:pull" or "repository:NAME:pull,push".
std::string OciScopeText(const OciAccess& a);

}  // namespace modelreg
