// GET /api/v1/openapi.json: the API's OpenAPI 3 description, no token (it
// describes the endpoints; it holds no data).
#include "api/handler.h"
#include "api/openapi_doc.h"

namespace modelreg::api {

Status HandleOpenApi(Ctx& c) {
  c.res.status = 200;
  c.res.set_header("Cache-Control", "no-cache");  // it changes with the binary
  c.res.set_content(std::string(OpenApiDocument()), "application/json");
  return Status::OK();
}

}  // namespace modelreg::api
