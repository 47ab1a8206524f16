// Ed25519 signing keys and DSSE envelopes (docs/agent.md).
//
// SigningKey is the registry's release key: created once under DATA/keys/
// (private key 0600), loaded on every start. VerifyKey is what an agent pins
// (--trust-key PEM). DSSE: signatures are over the pre-authentication
// encoding PAE(payloadType, payload), so the payload is verified before it is
// parsed. Thread-safe after construction (OpenSSL keys are read-only here).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace modelreg {

inline constexpr char kInTotoPayloadType[] = "application/vnd.in-toto+json";

class SigningKey {
 public:
  // Loads DIR/release.key, or creates it (and DIR/release.pub) if absent.
  static Result<std::unique_ptr<SigningKey>> LoadOrCreate(const std::string& dir);
  // Loads an existing Ed25519 private key (PEM): replicas sharing one
  // database are all given the same file (`serve --release-key`).
  static Result<std::unique_ptr<SigningKey>> LoadFile(const std::string& path);
  ~SigningKey();
  std::string Sign(std::string_view message) const;  // raw 64-byte signature
  const std::string& public_pem() const { return public_pem_; }
  const std::string& key_id() const { return key_id_; }  // hex sha256 of the DER public key

 private:
  SigningKey() = default;
  static Result<std::unique_ptr<SigningKey>> Adopt(evp_pkey_st* key);  // takes ownership
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string public_pem_;
  std::string key_id_;
};

class VerifyKey {
 public:
  static Result<std::unique_ptr<VerifyKey>> FromPem(const std::string& pem);
  ~VerifyKey();
  bool Verify(std::string_view message, std::string_view signature) const;
  const std::string& key_id() const { return key_id_; }

 private:
  VerifyKey() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string key_id_;
};

// DSSE pre-authentication encoding.
std::string DssePae(std::string_view payload_type, std::string_view payload);
// A signed envelope as JSON text: {"payloadType","payload"(base64),"signatures":[{"keyid","sig"}]}.
std::string SignDsse(const SigningKey& key, std::string_view payload_type, std::string_view payload);
// Verifies an envelope with `key` and returns its payload (decoded). Fails
// with PermissionDenied if no signature verifies, InvalidArgument if the
// envelope is malformed or of another payload type.
Result<std::string> OpenDsse(const VerifyKey& key, std::string_view envelope, std::string_view want_payload_type);

std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace modelreg
