// GET /v2/token: the token endpoint of the Docker/OCI token protocol
// (docs/oci.md "Logging in"). HTTP basic auth with a modelreg token as the
// password (any user name), or that token as Bearer; `scope` parameters
// say what the client wants. The answer is a bearer for as much of it as
// the token may do, valid for RegistryService::kOciBearerTtlS seconds.
#include "api/json_codec.h"
#include "api/oci_handlers.h"
#include "auth/signing.h"
#include "core/clock.h"

namespace modelreg::api {

Status OciToken(Ctx& c, OciTarget& t) {
  const std::string h = c.req.get_header_value("Authorization");
  std::string token;
  if (h.rfind("Basic ", 0) == 0) {
    auto decoded = Base64Decode(h.substr(6));
    const size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return Status::Unauthenticated("Authorization: Basic is not base64 of user:password");
    token = decoded->substr(colon + 1);
  } else if (h.rfind("Bearer ", 0) == 0) {
    token = h.substr(7);
  }
  if (token.empty()) {
    t.info->challenge = "Basic realm=\"modelreg\"";
    return Status::Unauthenticated("log in with a modelreg token as the password (any user name)");
  }
  std::vector<std::string> scopes;
  for (const auto& [key, value] : c.req.params)
    if (key == "scope") scopes.push_back(value);
  MR_ASSIGN_OR_RETURN(auto wanted, ParseOciScopes(scopes));
  auto bearer = c.svc.IssueOciBearer(token, wanted);
  if (!bearer.ok()) {
    if (bearer.status().code() == StatusCode::kUnauthenticated) t.info->challenge = "Basic realm=\"modelreg\"";
    return bearer.status();
  }
  t.info->actor = "token";
  c.res.set_header("Cache-Control", "no-store");
  SendJson(c, 200,
           {{"token", bearer->token},
            {"access_token", bearer->token},
            {"expires_in", bearer->expires_in_s},
            {"issued_at", FormatIsoTime(NowMs())}});
  return Status::OK();
}

}  // namespace modelreg::api
