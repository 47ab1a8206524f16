#include "api/oci_errors.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "api/json_codec.h"

namespace modelreg::api {

std::string OciCodeFor(const Status& st, const OciCodes& codes, const std::string& chosen) {
  if (!chosen.empty()) return chosen;
  switch (st.code()) {
    case StatusCode::kUnauthenticated:
      return "UNAUTHORIZED";
    case StatusCode::kPermissionDenied:
      return "DENIED";
    case StatusCode::kNotFound:
    case StatusCode::kGone:
      return codes.not_found;
    case StatusCode::kInvalidArgument:
      return codes.invalid;
    case StatusCode::kResourceExhausted:
      return "SIZE_INVALID";
    case StatusCode::kOutOfRange:
      return codes.out_of_range;
    case StatusCode::kFailedPrecondition:
      return codes.failed_precondition ? codes.failed_precondition : "DENIED";
    case StatusCode::kAborted:
    case StatusCode::kAlreadyExists:
      return "DENIED";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
    default:
      return "UNKNOWN";
  }
}

int OciHttpStatus(const std::string& code, const Status& st) {
  static const struct {
    const char* code;
    int http;
  } kFixed[] = {
      {"UNAUTHORIZED", 401},          {"DENIED", 403},           {"NAME_UNKNOWN", 404},
      {"MANIFEST_UNKNOWN", 404},      {"BLOB_UNKNOWN", 404},     {"BLOB_UPLOAD_UNKNOWN", 404},
      {"MANIFEST_BLOB_UNKNOWN", 400}, {"MANIFEST_INVALID", 400}, {"DIGEST_INVALID", 400},
      {"NAME_INVALID", 400},          {"TOOMANYREQUESTS", 429},
  };
  for (const auto& f : kFixed)
    if (code == f.code) {
      // A conflict stays 409, whatever the code calls it.
      if (f.http == 403 && (st.code() == StatusCode::kAborted || st.code() == StatusCode::kAlreadyExists)) return 409;
      return f.http;
    }
  return HttpStatusFor(st.code());
}

std::string OciErrorText(const std::string& code, const Status& st, const std::string& request_id) {
  nlohmann::json detail = {{"request_id", request_id}};
  if (!st.details().empty()) detail["details"] = st.details();
  const nlohmann::json j = {
      {"errors", nlohmann::json::array({{{"code", code}, {"message", st.message()}, {"detail", detail}}})}};
  return JsonText(j);
}

void WriteOciError(net::ServerResponse& res, const std::string& code, const Status& st, const std::string& request_id) {
  res.status = OciHttpStatus(code, st);
  res.set_content(OciErrorText(code, st, request_id), "application/json");
}

const char* OciCodeForHttpStatus(int status) {
  switch (status) {
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "DENIED";
    case 413:
    case 431:
      return "SIZE_INVALID";
    case 429:
      return "TOOMANYREQUESTS";
    case 503:
      return "UNAVAILABLE";
    default:
      return status >= 500 && status != 501 && status != 505 ? "UNKNOWN" : "UNSUPPORTED";
  }
}

}  // namespace modelreg::api
