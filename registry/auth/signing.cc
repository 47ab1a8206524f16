#include "auth/signing.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/digest.h"
#include "core/file_util.h"

namespace modelreg {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

std::string PublicPem(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, k);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

std::string KeyId(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(k, &der);
  std::string id = n > 0 ? Digest::Of(std::string_view(reinterpret_cast<char*>(der), n)).hex() : "";
  OPENSSL_free(der);
  return id;
}

Status OpenSslError(const std::string& what) { return Status::Internal(what + " failed (OpenSSL)"); }

}  // namespace

struct SigningKey::Impl {
  Pkey key;
};
struct VerifyKey::Impl {
  Pkey key;
};

SigningKey::~SigningKey() = default;
VerifyKey::~VerifyKey() = default;

Result<std::unique_ptr<SigningKey>> SigningKey::LoadOrCreate(const std::string& dir) {
  MR_RETURN_IF_ERROR(MakeDirs(dir));
  ::chmod(dir.c_str(), 0700);
  const std::string priv = dir + "/release.key";
  if (::access(priv.c_str(), F_OK) == 0) return LoadFile(priv);
  Pkey key;
  {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) return OpenSslError("Ed25519 key generation");
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(b);
    MR_RETURN_IF_ERROR(WriteFileAtomic(priv, pem, 0600));
    MR_RETURN_IF_ERROR(WriteFileAtomic(dir + "/release.pub", PublicPem(key.get()), 0644));
  }
  return Adopt(key.release());
}

Result<std::unique_ptr<SigningKey>> SigningKey::LoadFile(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0)
    return Status::NotFound("release key " + path +
                            " does not exist; create one with `openssl genpkey -algorithm ed25519 -out " + path +
                            "` and give every replica the same file (docs/operations.md)");
  MR_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, 1 << 16));
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Pkey key(PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr));
  BIO_free(b);
  if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
    return Status::DataLoss(path + " is not an Ed25519 private key in PEM form");
  return Adopt(key.release());
}

Result<std::unique_ptr<SigningKey>> SigningKey::Adopt(evp_pkey_st* raw) {
  Pkey key(raw);
  std::unique_ptr<SigningKey> k(new SigningKey());
  k->public_pem_ = PublicPem(key.get());
  k->key_id_ = KeyId(key.get());
  k->impl_ = std::make_unique<Impl>();
  k->impl_->key = std::move(key);
  return k;
}

std::string SigningKey::Sign(std::string_view message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  size_t len = sizeof sig;
  EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, impl_->key.get());
  EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<char*>(sig), len);
}

Result<std::unique_ptr<VerifyKey>> VerifyKey::FromPem(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Pkey key(PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr));
  BIO_free(b);
  if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
    return Status::InvalidArgument("not an Ed25519 public key in PEM form");
  std::unique_ptr<VerifyKey> k(new VerifyKey());
  k->key_id_ = KeyId(key.get());
  k->impl_ = std::make_unique<Impl>();
  k->impl_->key = std::move(key);
  return k;
}

bool VerifyKey::Verify(std::string_view message, std::string_view signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, impl_->key.get()) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string DssePae(std::string_view type, std::string_view payload) {
  return "DSSEv1 " + std::to_string(type.size()) + " " + std::string(type) + " " + std::to_string(payload.size()) +
         " " + std::string(payload);
}

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string in(text);
  for (char& c : in) {  // accept the URL-safe alphabet too
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (in.size() % 4) in += '=';
  std::string out(3 * in.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return Status::InvalidArgument("bad base64");
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - std::min<size_t>(pad, static_cast<size_t>(n)));
  return out;
}

std::string SignDsse(const SigningKey& key, std::string_view type, std::string_view payload) {
  nlohmann::json env = {
      {"payloadType", type},
      {"payload", Base64Encode(payload)},
      {"signatures", {{{"keyid", key.key_id()}, {"sig", Base64Encode(key.Sign(DssePae(type, payload)))}}}}};
  return env.dump();
}

Result<std::string> OpenDsse(const VerifyKey& key, std::string_view envelope, std::string_view want_type) {
  auto env = nlohmann::json::parse(envelope, nullptr, false);
  if (env.is_discarded() || !env.is_object() || !env.contains("payload") || !env["payload"].is_string() ||
      !env.contains("payloadType") || !env["payloadType"].is_string() || !env.contains("signatures") ||
      !env["signatures"].is_array())
    return Status::InvalidArgument("not a DSSE envelope");
  std::string type = env["payloadType"];
  if (type != want_type)
    return Status::InvalidArgument("DSSE payload type '" + type + "' is not " + std::string(want_type));
  MR_ASSIGN_OR_RETURN(std::string payload, Base64Decode(env["payload"].get<std::string>()));
  const std::string pae = DssePae(type, payload);
  for (const auto& s : env["signatures"]) {
    if (!s.is_object() || !s.contains("sig") || !s["sig"].is_string()) continue;
    auto sig = Base64Decode(s["sig"].get<std::string>());
    if (sig.ok() && key.Verify(pae, *sig)) return payload;
  }
  return Status::PermissionDenied("no signature of the envelope verifies with the trusted key " +
                                  key.key_id().substr(0, 16));
}

}  // namespace modelreg
