// JSON forms of domain records for the REST API. The only place where domain
// structs meet nlohmann::json on the server side.
#pragma once

#include <nlohmann/json.hpp>

#include "core/records.h"
#include "core/status.h"
#include "service/registry_service.h"

namespace modelreg::api {

nlohmann::json ToJson(const ModelRecord& m);
nlohmann::json ToJson(const VersionRecord& v);
nlohmann::json ToJson(const VersionDetail& d);
nlohmann::json ToJson(const TokenRecord& t);
// {"error":{"code":"...","message":"...","details":[...]}}
nlohmann::json ErrorJson(const Status& st);
// HTTP status for a Status code.
int HttpStatusFor(StatusCode code);
std::string IsoTime(int64_t ms);

}  // namespace modelreg::api
