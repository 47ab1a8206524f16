// The /v2/ router: which handler a path and method reach, who the caller
// is (a modelreg token, or a bearer from /v2/token; sent as Bearer or as
// the password of HTTP basic auth), and whether it may pull or push there.
#include <algorithm>
#include <cstring>

#include "api/oci_handlers.h"
#include "auth/signing.h"
#include "core/bundle_path.h"
#include "net/http_request.h"

namespace modelreg::api {
namespace {

enum class Need { kNone, kAny, kPull, kPush };
enum class Kind { kBase, kToken, kCatalog, kManifest, kBlob, kUploads, kUpload, kTags, kReferrers };

struct OciRoute {
  const char* method;  // GET also answers HEAD
  Kind kind;
  const char* name;
  Need need;
  OciHandler fn;
  OciCodes codes;
};

const std::vector<OciRoute>& OciRoutes() {
  const OciCodes manifest{"MANIFEST_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_BLOB_UNKNOWN", "UNSUPPORTED"};
  const OciCodes blob{"BLOB_UNKNOWN", "DIGEST_INVALID", nullptr, "BLOB_UNKNOWN"};
  const OciCodes upload{"BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID", nullptr, "BLOB_UPLOAD_INVALID"};
  const OciCodes finish{"BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID", nullptr, "BLOB_UPLOAD_INVALID"};
  const OciCodes name{"NAME_UNKNOWN", "UNSUPPORTED", nullptr, "UNSUPPORTED"};
  static const std::vector<OciRoute> k = {
      {"GET", Kind::kBase, "oci.base", Need::kAny, OciBase, name},
      {"GET", Kind::kToken, "oci.token", Need::kNone, OciToken, name},
      {"GET", Kind::kCatalog, "oci.catalog", Need::kAny, OciCatalog, name},
      {"GET", Kind::kManifest, "oci.manifest.get", Need::kPull, OciGetManifest, manifest},
      {"PUT", Kind::kManifest, "oci.manifest.put", Need::kPush, OciPutManifest, manifest},
      {"DELETE", Kind::kManifest, "oci.manifest.delete", Need::kPush, OciDeleteRefused, manifest},
      {"GET", Kind::kBlob, "oci.blob.get", Need::kPull, OciGetBlob, blob},
      {"DELETE", Kind::kBlob, "oci.blob.delete", Need::kPush, OciDeleteRefused, blob},
      {"POST", Kind::kUploads, "oci.upload.start", Need::kPush, OciStartUpload, finish},
      {"GET", Kind::kUpload, "oci.upload.get", Need::kPush, OciGetUpload, upload},
      {"PATCH", Kind::kUpload, "oci.upload.patch", Need::kPush, OciPatchUpload, upload},
      {"PUT", Kind::kUpload, "oci.upload.finish", Need::kPush, OciFinishUpload, finish},
      {"DELETE", Kind::kUpload, "oci.upload.cancel", Need::kPush, OciCancelUpload, upload},
      {"GET", Kind::kTags, "oci.tags", Need::kPull, OciListTags, name},
      {"GET", Kind::kReferrers, "oci.referrers", Need::kPull, OciListReferrers, blob},
  };
  return k;
}

struct Parsed {
  Kind kind;
  std::string name, ref;
};

// /v2/ + NAME + /manifests/REF | /blobs/DIGEST | /blobs/uploads/[ID] |
// /tags/list | /referrers/DIGEST; NAME is MODEL or MODEL/modelpack (model names hold no '/').
// nullopt: no such path.
std::optional<Parsed> ParsePath(std::string_view path) {
  if (path == "/v2" || path == "/v2/") return Parsed{Kind::kBase, "", ""};
  path.remove_prefix(4);  // "/v2/"
  if (path == "token") return Parsed{Kind::kToken, "", ""};
  if (path == "_catalog") return Parsed{Kind::kCatalog, "", ""};
  std::vector<std::string_view> seg;
  for (size_t at = 0;;) {
    const size_t slash = path.find('/', at);
    seg.push_back(path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  size_t i = 1;
  std::string name(seg[0]);
  if (seg.size() > 2 && seg[1] == "modelpack") {
    name += "/modelpack";
    i = 2;
  }
  const size_t rest = seg.size() - i;
  if (rest == 2 && seg[i] == "manifests") return Parsed{Kind::kManifest, name, std::string(seg[i + 1])};
  if (rest == 2 && seg[i] == "tags" && seg[i + 1] == "list") return Parsed{Kind::kTags, name, ""};
  if (rest == 2 && seg[i] == "referrers") return Parsed{Kind::kReferrers, name, std::string(seg[i + 1])};
  if (rest == 2 && seg[i] == "blobs" && seg[i + 1] != "uploads")
    return Parsed{Kind::kBlob, name, std::string(seg[i + 1])};
  if (rest == 3 && seg[i] == "blobs" && seg[i + 1] == "uploads")
    return Parsed{seg[i + 2].empty() ? Kind::kUploads : Kind::kUpload, name, std::string(seg[i + 2])};
  if (rest == 2 && seg[i] == "blobs" && seg[i + 1] == "uploads") return Parsed{Kind::kUploads, name, ""};
  return std::nullopt;
}

// The absolute URL of /v2/token as this client reaches the server. A Host
// with anything but host characters is not echoed.
std::string Realm(const Ctx& c) {
  std::string host = c.req.get_header_value("Host");
  const bool sane = !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::strchr(".-:[]_", ch) != nullptr;
  });
  if (!sane) host = "localhost";
  std::string scheme = c.plain_tcp ? "http" : "https";
  const std::string forwarded = c.req.get_header_value("X-Forwarded-Proto");
  if (forwarded == "https" || forwarded == "http") scheme = forwarded;
  return scheme + "://" + host + "/v2/token";
}

std::string Challenge(const OciTarget& t, Need need, const std::string& error) {
  std::string h = "Bearer realm=\"" + t.realm + "\",service=\"" + t.service + "\"";
  if (!t.name.empty() && (need == Need::kPull || need == Need::kPush))
    h += ",scope=\"" + OciScopeText({t.name, true, need == Need::kPush}) + "\"";
  if (!error.empty()) h += ",error=\"" + error + "\"";
  return h;
}

// The credential sent: "Bearer X" or the password of "Basic base64(user:X)".
// Empty if none; InvalidArgument-free: a malformed header is no credential.
std::string Credential(const Ctx& c) {
  const std::string h = c.req.get_header_value("Authorization");
  if (h.rfind("Bearer ", 0) == 0) return h.substr(7);
  if (h.rfind("Basic ", 0) == 0) {
    auto decoded = Base64Decode(h.substr(6));
    if (!decoded.ok()) return "";
    const size_t colon = decoded->find(':');
    return colon == std::string::npos ? "" : decoded->substr(colon + 1);
  }
  return "";
}

}  // namespace

bool OciTarget::Grants(const std::string& repository, bool push) const {
  if (!access) return true;
  return std::any_of(access->begin(), access->end(),
                     [&](const OciAccess& a) { return a.repository == repository && (push ? a.push : a.pull); });
}

bool IsOciPath(std::string_view raw_path) { return raw_path == "/v2" || raw_path.rfind("/v2/", 0) == 0; }

Status ServeOci(Ctx& c, OciRequestInfo* info) {
  c.res.set_header(kOciApiVersionHeader, "registry/2.0");
  const std::string method = c.req.method == "HEAD" ? "GET" : c.req.method;
  const auto parsed = ParsePath(c.req.raw_path);
  if (!parsed) return Status::NotFound("no OCI endpoint at " + c.req.raw_path.substr(0, 200) + " (docs/oci.md)");
  const OciRoute* route = nullptr;
  std::string allow;
  for (const auto& r : OciRoutes()) {
    if (r.kind != parsed->kind) continue;
    if (method == r.method) route = &r;
    allow += std::string(allow.empty() ? "" : ", ") + (std::string(r.method) == "GET" ? "GET, HEAD" : r.method);
  }
  if (!route) {
    c.res.set_header("Allow", allow);
    info->code = "UNSUPPORTED";
    info->http_status = 405;
    return Status::InvalidArgument("method " + c.req.method + " is not allowed on " + c.req.raw_path.substr(0, 200));
  }
  info->route = route->name;
  info->codes = route->codes;

  OciTarget t;
  t.info = info;
  t.realm = Realm(c);
  t.service = "modelreg";
  t.name = parsed->name;
  t.model = ModelOfOciRepository(t.name);
  t.modelpack = IsModelPackRepository(t.name);
  auto ref = net::PercentDecode(parsed->ref, false);
  if (!ref) return Status::InvalidArgument("bad percent-encoding in the path");
  t.ref = std::move(*ref);
  if (!t.name.empty()) {
    // The name as sent: OCI names are never percent-encoded.
    if (Status st = ValidateModelName(t.model); !st.ok()) {
      info->code = "NAME_INVALID";
      return st;
    }
  }
  if (route->need == Need::kNone) return route->fn(c, t);

  const std::string credential = Credential(c);
  if (credential.empty()) {
    info->challenge = Challenge(t, route->need, "");
    return Status::Unauthenticated(
        "authentication required: log in with a modelreg token as the password "
        "(docs/oci.md \"Logging in\")");
  }
  auto caller = c.svc.AuthenticateOci(credential);
  if (!caller.ok()) {
    info->challenge = Challenge(t, route->need, "invalid_token");
    return caller.status();
  }
  c.principal = caller->principal;
  t.access = std::move(caller->access);
  info->actor = c.principal.name;
  if (route->need == Need::kPull || route->need == Need::kPush) {
    const bool push = route->need == Need::kPush;
    const Action action = push ? Action::kRegister : Action::kReadModels;
    // What the token itself may not do is refused outright; what it may do
    // but this bearer was not granted is a challenge for a bearer that is.
    MR_RETURN_IF_ERROR(Authorize(c.principal, action, t.model));
    if (push && t.modelpack)
      return Status::PermissionDenied("repository '" + t.name + "' is a read-only view of model '" + t.model +
                                      "': push to " + t.model);
    if (!t.Grants(t.name, push)) {
      info->challenge = Challenge(t, route->need, "insufficient_scope");
      return Status::Unauthenticated("this bearer does not grant " + OciScopeText({t.name, true, push}) +
                                     ": ask /v2/token for it");
    }
  }
  Status st = route->fn(c, t);
  // A model that does not exist (or that this token may not know of) is
  // NAME_UNKNOWN, whatever the route would call what it did not find.
  if (st.code() == StatusCode::kNotFound && info->code.empty() && route->need == Need::kPull &&
      std::string(route->codes.not_found) != "NAME_UNKNOWN" && !c.svc.GetModel(c.principal, t.model).ok())
    info->code = "NAME_UNKNOWN";
  return st;
}

}  // namespace modelreg::api
