#include "auth/secret_box.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "auth/signing.h"

namespace modelreg {
namespace {

constexpr int kNonce = 12, kTag = 16;

using Ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

bool IsSealedSecret(std::string_view text) { return text.rfind(kSealedPrefix, 0) == 0; }

Result<std::string> SealSecret(std::string_view key, std::string_view context, std::string_view plaintext) {
  if (key.size() != 32) return Status::Internal("a secret key must be 32 bytes");
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(p, kNonce) != 1) return Status::Internal("no random bytes for a nonce");
  Ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0, m = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key), p) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, U(context), static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), p + kNonce, &n, U(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), p + kNonce + n, &m) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, p + kNonce + plaintext.size()) != 1)
    return Status::Internal("sealing a secret failed (OpenSSL)");
  return kSealedPrefix + Base64Encode(out);
}

Result<std::string> OpenSecret(std::string_view key, std::string_view context, std::string_view sealed) {
  if (key.size() != 32) return Status::Internal("a secret key must be 32 bytes");
  if (!IsSealedSecret(sealed)) return Status::DataLoss("a stored secret is not sealed (no mrs1: prefix)");
  auto raw = Base64Decode(sealed.substr(sizeof(kSealedPrefix) - 1));
  if (!raw.ok() || raw->size() < kNonce + kTag) return Status::DataLoss("a stored secret is damaged");
  const std::string& r = *raw;
  const int len = static_cast<int>(r.size()) - kNonce - kTag;
  std::string out(static_cast<size_t>(len), '\0');
  Ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0, m = 0;
  std::string tag = r.substr(kNonce + len);
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key), U(r)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, U(context), static_cast<int>(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n, U(r) + kNonce, len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &m) != 1)
    return Status::DataLoss(
        "a stored secret does not open with this registry's release key (another key, or altered bytes)");
  return out;
}

}  // namespace modelreg
