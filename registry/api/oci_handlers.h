// The /v2/ handlers and what the router (oci_router.cc) gives them.
// Internal to the api library.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/handler.h"
#include "api/oci.h"
#include "auth/oci_bearer.h"

namespace modelreg::api {

inline constexpr char kOciApiVersionHeader[] = "Docker-Distribution-API-Version";

struct OciTarget {
  std::string name;        // the repository as in the path: "churn" or "churn/modelpack"
  std::string model;       // the model it is about
  bool modelpack = false;  // the ModelPack view (read-only)
  std::string ref;         // a manifest reference, a digest or an upload id (percent-decoded)
  // The bearer's access (nullopt: a modelreg token, its role and scopes
  // alone apply).
  std::optional<std::vector<OciAccess>> access;
  OciRequestInfo* info = nullptr;
  // The realm and service of this server's challenges.
  std::string realm, service;

  // Whether the bearer grants `pull`/`push` on `repository`.
  bool Grants(const std::string& repository, bool push) const;
};

using OciHandler = Status (*)(Ctx&, OciTarget&);

// oci_pull.cc
Status OciBase(Ctx& c, OciTarget& t);
Status OciCatalog(Ctx& c, OciTarget& t);
Status OciGetManifest(Ctx& c, OciTarget& t);
Status OciGetBlob(Ctx& c, OciTarget& t);
Status OciListTags(Ctx& c, OciTarget& t);
Status OciListReferrers(Ctx& c, OciTarget& t);
// oci_push.cc
Status OciStartUpload(Ctx& c, OciTarget& t);
Status OciGetUpload(Ctx& c, OciTarget& t);
Status OciPatchUpload(Ctx& c, OciTarget& t);
Status OciFinishUpload(Ctx& c, OciTarget& t);
Status OciCancelUpload(Ctx& c, OciTarget& t);
Status OciPutManifest(Ctx& c, OciTarget& t);
Status OciDeleteRefused(Ctx& c, OciTarget& t);
// oci_token.cc
Status OciToken(Ctx& c, OciTarget& t);

}  // namespace modelreg::api
