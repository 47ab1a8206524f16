// The web UI: static files served without a token. They hold no data; every
// fact the page shows comes from token-authenticated /api/v1 calls made by
// the browser, so the server still enforces every permission.
#include <algorithm>

#include "api/handler.h"
#include "api/web_assets.h"

namespace modelreg::api {
namespace {

// One policy for every UI response: scripts and styles only from this
// origin (no inline code, so an injected string can never run), no framing,
// no forms posting anywhere, API calls only to this origin.
constexpr const char* kUiCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

void SetUiHeaders(Response& res) {
  res.set_header("Content-Security-Policy", kUiCsp);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  // Assets change with the binary; revalidating is cheap and avoids a stale UI after an upgrade.
  res.set_header("Cache-Control", "no-cache");
}

Status SendAsset(Ctx& c, std::string_view name) {
  SetUiHeaders(c.res);
  const WebAsset* a = FindWebAsset(name);
  if (a == nullptr) return Status::NotFound("no UI file '" + std::string(name) + "'");
  c.res.status = 200;
  c.res.set_content(std::string(a->bytes), std::string(WebContentType(name)));
  return Status::OK();
}

}  // namespace

const WebAsset* FindWebAsset(std::string_view name) {
  const auto& assets = EmbeddedWebAssets();
  auto it = std::find_if(assets.begin(), assets.end(), [&](const WebAsset& a) { return a.name == name; });
  return it == assets.end() ? nullptr : &*it;
}

std::string_view WebContentType(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

Status HandleUiRedirect(Ctx& c) {
  SetUiHeaders(c.res);
  c.res.set_redirect("/ui/", 302);
  return Status::OK();
}

Status HandleUiIndex(Ctx& c) { return SendAsset(c, "index.html"); }

Status HandleUiAsset(Ctx& c) { return SendAsset(c, c.Arg(1)); }

}  // namespace modelreg::api
