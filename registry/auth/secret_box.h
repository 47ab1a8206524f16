// Secrets the registry must be able to read back (webhook signing secrets),
// kept encrypted in the database: AES-256-GCM under a 32-byte key the
// service derives from the release key (so every replica given the same
// release key can read them, and a copy of the database alone cannot),
// with a fresh 12-byte random nonce per seal and `context` (e.g. the
// webhook's name) as associated data, so a sealed value moved to another
// row does not open. Sealed form: "mrs1:" + base64(nonce || ciphertext ||
// 16-byte tag). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace modelreg {

inline constexpr char kSealedPrefix[] = "mrs1:";

// `key`: 32 bytes. Internal on an OpenSSL failure.
Result<std::string> SealSecret(std::string_view key, std::string_view context, std::string_view plaintext);
// DataLoss if `sealed` is not one, or does not open under `key` and
// `context` (another release key, another row, or altered bytes).
Result<std::string> OpenSecret(std::string_view key, std::string_view context, std::string_view sealed);
bool IsSealedSecret(std::string_view text);

}  // namespace modelreg
