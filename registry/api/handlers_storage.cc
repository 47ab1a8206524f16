// Deleting versions, retention rules and garbage collection over REST
// (docs/api.md "Retention and garbage collection").
#include "api/handler.h"
#include "api/json_codec.h"
#include "core/clock.h"

namespace modelreg::api {
namespace {

using nlohmann::json;

json RetentionJson(const std::string& model, const RetentionRule& r) {
  json j = {{"model", model}, {"keep_archived", nullptr}, {"keep_rejected_days", nullptr}};
  if (r.keep_archived) j["keep_archived"] = *r.keep_archived;
  if (r.keep_rejected_days) j["keep_rejected_days"] = *r.keep_rejected_days;
  if (r.updated_at_ms) {
    j["updated_at"] = IsoTime(r.updated_at_ms);
    j["updated_by"] = r.updated_by;
  }
  return j;
}

// An optional non-negative whole number (null or absent: none).
Result<std::optional<int64_t>> OptCount(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer() || it->get<int64_t>() < 0)
    return Status::InvalidArgument(std::string(key) + " must be a whole number >= 0 or null");
  return std::optional<int64_t>(it->get<int64_t>());
}

}  // namespace

Status HandleDeleteVersion(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, OptionalJsonBody(c));
  auto it = j.find("reason");
  const std::string reason = it != j.end() && it->is_string() ? it->get<std::string>() : "";
  MR_ASSIGN_OR_RETURN(VersionRecord v, c.svc.DeleteVersion(c.principal, c.Arg(1), c.Arg(2), reason));
  SendJson(c, 200, ToJson(v));
  return Status::OK();
}

Status HandleGetRetention(Ctx& c) {
  MR_ASSIGN_OR_RETURN(RetentionRule r, c.svc.GetRetention(c.principal, c.Arg(1)));
  SendJson(c, 200, RetentionJson(c.Arg(1), r));
  return Status::OK();
}

Status HandleSetRetention(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, ReadJsonBody(c));
  if (!j.is_object())
    return Status::InvalidArgument("want {\"keep_archived\": N|null, \"keep_rejected_days\": D|null}");
  RetentionRule r;
  MR_ASSIGN_OR_RETURN(r.keep_archived, OptCount(j, "keep_archived"));
  MR_ASSIGN_OR_RETURN(r.keep_rejected_days, OptCount(j, "keep_rejected_days"));
  MR_ASSIGN_OR_RETURN(RetentionRule stored, c.svc.SetRetention(c.principal, c.Arg(1), r));
  SendJson(c, 200, RetentionJson(c.Arg(1), stored));
  return Status::OK();
}

Status HandleGc(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, OptionalJsonBody(c));
  GcOptions o;
  if (auto it = j.find("dry_run"); it != j.end()) {
    if (!it->is_boolean()) return Status::InvalidArgument("dry_run must be true or false");
    o.dry_run = it->get<bool>();
  }
  if (auto it = j.find("retention"); it != j.end()) {
    if (!it->is_boolean()) return Status::InvalidArgument("retention must be true or false");
    o.apply_retention = it->get<bool>();
  }
  MR_ASSIGN_OR_RETURN(auto grace, OptCount(j, "grace_seconds"));
  if (grace) o.grace_ms = *grace * 1000;
  MR_ASSIGN_OR_RETURN(GcReport r, c.svc.CollectGarbage(c.principal, o));
  SendJson(c, 200, ToJson(r));
  return Status::OK();
}

}  // namespace modelreg::api
