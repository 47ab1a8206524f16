#include "core/status.h"

#include <cerrno>
#include <cstring>

namespace modelreg {
namespace {
struct CodeName {
  StatusCode code;
  const char* name;
};
constexpr CodeName kNames[] = {
    {StatusCode::kOk, "OK"},
    {StatusCode::kInvalidArgument, "INVALID_ARGUMENT"},
    {StatusCode::kNotFound, "NOT_FOUND"},
    {StatusCode::kAlreadyExists, "ALREADY_EXISTS"},
    {StatusCode::kFailedPrecondition, "FAILED_PRECONDITION"},
    {StatusCode::kUnauthenticated, "UNAUTHENTICATED"},
    {StatusCode::kPermissionDenied, "PERMISSION_DENIED"},
    {StatusCode::kResourceExhausted, "RESOURCE_EXHAUSTED"},
    {StatusCode::kOutOfRange, "OUT_OF_RANGE"},
    {StatusCode::kDataLoss, "DATA_LOSS"},
    {StatusCode::kUnavailable, "UNAVAILABLE"},
    {StatusCode::kAborted, "ABORTED"},
    {StatusCode::kInternal, "INTERNAL"},
    {StatusCode::kGone, "GONE"},
};
}  // namespace

const char* StatusCodeName(StatusCode code) {
  for (const auto& n : kNames)
    if (n.code == code) return n.name;
  return "UNKNOWN";
}

std::optional<StatusCode> StatusCodeFromName(const std::string& name) {
  for (const auto& n : kNames)
    if (name == n.name) return n.code;
  return std::nullopt;
}

Status Status::FromErrno(const std::string& what, int err) {
  std::string msg = what + ": " + std::strerror(err);
  // A full disk is the server's trouble, not the request's: 503, retry later.
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) return Status(StatusCode::kUnavailable, msg + " (storage full)");
  if (err == ENOENT) return Status(StatusCode::kNotFound, msg);
  if (err == EACCES || err == EPERM) return Status(StatusCode::kPermissionDenied, msg);
  return Status(StatusCode::kInternal, msg);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = std::string(StatusCodeName(code_)) + ": " + message_;
  for (const auto& d : details_) s += "\n  - " + d;
  return s;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_, details_);
}

}  // namespace modelreg
