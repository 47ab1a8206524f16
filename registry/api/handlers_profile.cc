// GET /api/v1/models/{m}/versions/{v}/profile (docs/api.md): the reference
// profile a version was registered with (core/profile.h), as stored.
#include "api/handler.h"
#include "api/json_codec.h"

namespace modelreg::api {

Status HandleVersionProfile(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto bytes, c.svc.VersionProfile(c.principal, c.Arg(1), c.Arg(2)));
  if (!bytes) {
    // Its own code, so that a client tells "no profile" from "no version".
    SendJson(c, 404,
             {{"error",
               {{"code", "no_profile"},
                {"message", "version " + c.Arg(2) + " of " + c.Arg(1) + " was registered without a reference profile"},
                {"details", nlohmann::json::array()}}}});
    return Status::OK();
  }
  c.res.status = 200;
  c.res.set_content(*bytes, "application/json");
  return Status::OK();
}

}  // namespace modelreg::api
