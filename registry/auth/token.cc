#include "auth/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace modelreg {
namespace {
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kTokenChars = 3 + 43;  // "mr_" + base64url(32 bytes), unpadded
}  // namespace

std::string GenerateToken() {
  unsigned char raw[33] = {0};
  RAND_bytes(raw, 32);
  std::string out = "mr_";
  // 32 bytes -> 43 base64url characters (last group has 2 bytes -> 3 chars).
  for (int i = 0; i < 33; i += 3) {
    uint32_t v = (raw[i] << 16) | (raw[i + 1] << 8) | raw[i + 2];
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    out += kB64Url[(v >> 6) & 63];
    if (i + 2 < 32) out += kB64Url[v & 63];
  }
  return out;
}

bool LooksLikeToken(std::string_view s) {
  if (s.size() != kTokenChars || s.substr(0, 3) != "mr_") return false;
  for (char c : s.substr(3)) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<std::string> TokenFromUser(std::string_view raw, std::string_view source) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!raw.empty() && blank(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && blank(raw.back())) raw.remove_suffix(1);
  for (char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      return Status::InvalidArgument(std::string(source) +
                                     " has a space, control or non-ASCII character inside; a token is "
                                     "'mr_' and 43 characters of A-Z a-z 0-9 - _");
  }
  return std::string(raw);
}

std::string TokenHash(std::string_view token) {
  unsigned char out[32];
  unsigned int n = 0;
  EVP_Digest(token.data(), token.size(), out, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), 32);
}

bool HashesEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace modelreg
