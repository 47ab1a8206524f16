#include "net/http_error.h"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

namespace modelreg::net {

Status StatusFromHttpAnswer(int http_status, std::string_view body, const std::string& what) {
  if (http_status >= 200 && http_status < 300) return Status::OK();
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    const auto code = StatusCodeFromName(e.value("code", ""));
    std::vector<std::string> details;
    if (e.contains("details") && e["details"].is_array())
      for (const auto& d : e["details"])
        if (d.is_string()) details.push_back(d.get<std::string>());
    return Status(code.value_or(StatusCode::kInternal), what + ": " + e.value("message", "error"), details);
  }
  const StatusCode c = http_status == 401                           ? StatusCode::kUnauthenticated
                       : http_status == 403                         ? StatusCode::kPermissionDenied
                       : http_status == 404                         ? StatusCode::kNotFound
                       : (http_status >= 502 && http_status <= 504) ? StatusCode::kUnavailable
                                                                    : StatusCode::kInternal;
  return Status(c, what + ": HTTP " + std::to_string(http_status));
}

void AppendErrorBody(std::string* body, const char* data, size_t n) {
  if (body->size() < kMaxErrorBody) body->append(data, std::min(n, kMaxErrorBody - body->size()));
}

Status TransportFailure(int httplib_error, const std::string& url, const std::string& what) {
  const auto err = static_cast<httplib::Error>(httplib_error);
  if (err == httplib::Error::SSLServerVerification)
    return Status::Unavailable(what + ": the TLS certificate of " + url +
                               " is not trusted (pass --ca FILE with the registry's CA)");
  if (err == httplib::Error::SSLConnection)
    return Status::Unavailable(what + ": TLS handshake with " + url +
                               " failed (is it an https server? is --ca right?)");
  std::string detail = httplib::to_string(err);
  if (err == httplib::Error::Read) {
    detail += ": the connection closed without an answer";
    if (url.rfind("http://", 0) == 0) detail += "; if the registry serves https, use an https:// URL";
  }
  return Status::Unavailable(what + ": cannot reach registry at " + url + " (" + detail + ")");
}

}  // namespace modelreg::net
