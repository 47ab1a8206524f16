// Credentials of the OCI /v2/ endpoint: modelreg tokens as they are, and
// the short-lived bearers /v2/token hands out (auth/oci_bearer.h).
#include <openssl/evp.h>

#include "auth/signing.h"
#include "auth/token.h"
#include "core/bundle_path.h"
#include "core/clock.h"
#include "service/registry_service.h"

namespace modelreg {
// Ed25519 signatures are deterministic: the signature of a fixed message is
// a secret only holders of the release key can compute, the same on every
// replica given the same key file.
Result<RegistryService::OciCaller> RegistryService::AuthenticateOci(const std::string& credential) const {
  if (!LooksLikeOciBearer(credential)) {
    MR_ASSIGN_OR_RETURN(Principal p, Authenticate(credential));
    return OciCaller{std::move(p), std::nullopt};
  }
  MR_ASSIGN_OR_RETURN(OciBearerClaims claims, OpenOciBearer(oci_bearer_key_, credential, NowMs()));
  MR_ASSIGN_OR_RETURN(Principal p, AuthenticateHash(claims.token_hash));
  return OciCaller{std::move(p), std::move(claims.access)};
}

Result<RegistryService::OciBearer> RegistryService::IssueOciBearer(const std::string& token,
                                                                   const std::vector<OciAccess>& wanted) const {
  MR_ASSIGN_OR_RETURN(Principal p, Authenticate(token));
  OciBearer out;
  for (const OciAccess& w : wanted) {
    const std::string model = ModelOfOciRepository(w.repository);
    if (!ValidateModelName(model).ok() || !p.CanSeeModel(model)) continue;
    OciAccess g{w.repository, w.pull && RoleAllows(p.role, Action::kReadModels),
                w.push && model == w.repository && RoleAllows(p.role, Action::kRegister)};
    if (g.pull || g.push) out.granted.push_back(std::move(g));
  }
  OciBearerClaims claims{TokenHash(token), NowMs() + kOciBearerTtlS * 1000, out.granted};
  out.token = SignOciBearer(oci_bearer_key_, claims);
  out.expires_in_s = kOciBearerTtlS;
  return out;
}

}  // namespace modelreg
