#include "auth/oci_bearer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

namespace modelreg {
namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kMaxBearer = 16 * 1024;

std::string B64Url(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64Url[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kB64Url[(acc << (6 - bits)) & 63];
  return out;
}

bool UnB64Url(std::string_view in, std::string* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* at = static_cast<const char*>(memchr(kB64Url, c, 64));
    if (!at || c == '\0') return false;
    acc = (acc << 6) | static_cast<uint32_t>(at - kB64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return bits < 6 && (acc & ((1u << bits) - 1)) == 0;  // no stray bits in the last character
}

std::string Mac(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

Status Bad(const char* why) { return Status::Unauthenticated(std::string("bearer token ") + why); }

}  // namespace

std::string SignOciBearer(std::string_view key, const OciBearerClaims& claims) {
  nlohmann::json access = nlohmann::json::array();
  for (const auto& a : claims.access) access.push_back({a.repository, a.pull, a.push});
  const nlohmann::json j = {{"t", B64Url(claims.token_hash)}, {"exp", claims.expires_at_ms}, {"a", access}};
  // Never throws: bytes that are not UTF-8 (none reach here from
  // ParseOciScopes) would be replaced.
  std::string signed_part =
      std::string(kOciBearerPrefix) + B64Url(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return signed_part + "." + B64Url(Mac(key, signed_part));
}

bool LooksLikeOciBearer(std::string_view text) {
  return text.substr(0, sizeof(kOciBearerPrefix) - 1) == kOciBearerPrefix;
}

Result<OciBearerClaims> OpenOciBearer(std::string_view key, std::string_view bearer, int64_t now_ms) {
  if (!LooksLikeOciBearer(bearer) || bearer.size() > kMaxBearer) return Bad("is malformed");
  const size_t dot = bearer.rfind('.');
  if (dot < sizeof(kOciBearerPrefix)) return Bad("is malformed");
  std::string mac;
  if (!UnB64Url(bearer.substr(dot + 1), &mac)) return Bad("is malformed");
  const std::string want = Mac(key, bearer.substr(0, dot));
  if (mac.size() != want.size() || CRYPTO_memcmp(mac.data(), want.data(), want.size()) != 0)
    return Bad("was not issued by this registry (or its release key changed)");
  std::string text;
  if (!UnB64Url(bearer.substr(sizeof(kOciBearerPrefix) - 1, dot - (sizeof(kOciBearerPrefix) - 1)), &text))
    return Bad("is malformed");
  // Made by this registry (the MAC holds), so well-formed unless the
  // format changed: checked all the same, never thrown.
  const auto j = nlohmann::json::parse(text, nullptr, false);
  OciBearerClaims c;
  if (!j.is_object() || !j.contains("t") || !j["t"].is_string() || !j.contains("exp") ||
      !j["exp"].is_number_integer() || !j.contains("a") || !j["a"].is_array() ||
      !UnB64Url(j["t"].get<std::string>(), &c.token_hash) || c.token_hash.size() != 32)
    return Bad("has claims this version does not read");
  c.expires_at_ms = j["exp"].get<int64_t>();
  for (const auto& a : j["a"]) {
    if (!a.is_array() || a.size() != 3 || !a[0].is_string() || !a[1].is_boolean() || !a[2].is_boolean())
      return Bad("has claims this version does not read");
    c.access.push_back({a[0].get<std::string>(), a[1].get<bool>(), a[2].get<bool>()});
  }
  if (now_ms >= c.expires_at_ms) return Bad("expired: ask /v2/token for a new one");
  return c;
}

Result<std::vector<OciAccess>> ParseOciScopes(const std::vector<std::string>& scopes) {
  std::vector<OciAccess> out;
  for (const std::string& param : scopes) {
    size_t at = 0;
    while (at <= param.size()) {
      size_t end = param.find(' ', at);
      if (end == std::string::npos) end = param.size();
      const std::string_view one = std::string_view(param).substr(at, end - at);
      at = end + 1;
      if (one.empty()) continue;
      // TYPE:NAME:ACTIONS; a NAME may hold ':' before a port
      // (registry.example:5000/x), so TYPE is up to the first ':' and
      // ACTIONS after the last.
      const size_t first = one.find(':');
      const size_t last = one.rfind(':');
      if (first == std::string_view::npos || first == last || first == 0 || last == first + 1)
        return Status::InvalidArgument("scope '" + std::string(one.substr(0, 200)) +
                                       "' is not TYPE:NAME:ACTIONS (e.g. repository:churn:pull)");
      if (one.substr(0, first) != "repository") continue;
      OciAccess a{std::string(one.substr(first + 1, last - first - 1)), false, false};
      // OCI names are lowercase ASCII with separators; anything outside
      // printable ASCII names no repository here.
      for (char ch : a.repository)
        if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f)
          return Status::InvalidArgument("scope names a repository with a byte that is not printable ASCII");
      std::string_view actions = one.substr(last + 1);
      while (!actions.empty()) {
        const size_t comma = std::min(actions.find(','), actions.size());
        const std::string_view act = actions.substr(0, comma);
        a.pull = a.pull || act == "pull" || act == "*";
        a.push = a.push || act == "push" || act == "*";
        actions.remove_prefix(std::min(comma + 1, actions.size()));
      }
      auto same =
          std::find_if(out.begin(), out.end(), [&](const OciAccess& o) { return o.repository == a.repository; });
      if (same == out.end()) {
        out.push_back(std::move(a));
      } else {
        same->pull = same->pull || a.pull;
        same->push = same->push || a.push;
      }
    }
  }
  return out;
}

bool IsModelPackRepository(std::string_view repository) {
  return repository.size() > kModelPackView.size() &&
         repository.substr(repository.size() - kModelPackView.size()) == kModelPackView;
}

std::string ModelOfOciRepository(std::string_view repository) {
  if (IsModelPackRepository(repository)) repository.remove_suffix(kModelPackView.size());
  return std::string(repository);
}

std::string OciScopeText(const OciAccess& a) {
  std::string actions = a.pull && a.push ? "pull,push" : a.push ? "push" : "pull";
  return "repository:" + a.repository + ":" + actions;
}

}  // namespace modelreg
