// Bearer tokens (docs/roles.md): "mr_" + 256 random bits in base64url. Only the
// sha256 of a token is ever stored; comparisons are constant-time.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace modelreg {

// A fresh token from OpenSSL's CSPRNG.
std::string GenerateToken();
// True if `s` has the shape of a token (prefix, length, alphabet).
bool LooksLikeToken(std::string_view s);
// A token as a user hands it over (--token, MODELREG_TOKEN, a secret file):
// surrounding whitespace, such as a file's trailing newline, is dropped. A
// space or control character left inside would break the Authorization
// header (a newline ended it, and what followed became a header of its
// own): InvalidArgument naming `source`, never echoing the value.
Result<std::string> TokenFromUser(std::string_view raw, std::string_view source);
// sha256 of the token text, 32 raw bytes.
std::string TokenHash(std::string_view token);
// Constant-time equality of two hashes (CRYPTO_memcmp).
bool HashesEqual(std::string_view a, std::string_view b);

}  // namespace modelreg
