// Bearer tokens (SPEC §6): "mr_" + 256 random bits in base64url. Only the
// sha256 of a token is ever stored; comparisons are constant-time.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace modelreg {

// A fresh token from OpenSSL's CSPRNG.
std::string GenerateToken();
// True if `s` has the shape of a token (prefix, length, alphabet).
bool LooksLikeToken(std::string_view s);
// sha256 of the token text, 32 raw bytes.
std::string TokenHash(std::string_view token);
// Constant-time equality of two hashes (CRYPTO_memcmp).
bool HashesEqual(std::string_view a, std::string_view b);

}  // namespace modelreg
