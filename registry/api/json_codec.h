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
nlohmann::json ToJson(const AuditEvent& e);
nlohmann::json ToJson(const AuditVerifyResult& r);
nlohmann::json ToJson(const Policy& p);
nlohmann::json ToJson(const StageChange& c);
// Audit and lineage queries (json_codec_lineage.cc). `now_ms` dates
// heartbeat ages.
nlohmann::json ToJson(const ParamValue& v);
nlohmann::json ToJson(const VersionRef& r);
nlohmann::json ToJson(const AgentInfo& a, int64_t now_ms);
nlohmann::json ToJson(const DecisionRecord& d);
nlohmann::json ToJson(const LineageRecord& r);
nlohmann::json ToJson(const VersionLineage& l, int64_t now_ms);
nlohmann::json ToJson(const DownstreamPage& page, int64_t now_ms);
nlohmann::json ToJson(const AgentStateAt& s);
nlohmann::json ToJson(const LiveAt& l);
nlohmann::json ToJson(const DecisionAudit& a, int64_t now_ms);
nlohmann::json ToJson(const VersionDiffResult& r);
// Parses {"approvals":N,"gates":[...],"require_clean_code":b,"require_data_digests":b}.
Result<Policy> PolicyFromJson(const nlohmann::json& j);
// {"error":{"code":"...","message":"...","details":[...]}}
nlohmann::json ErrorJson(const Status& st);
// `j` as text, with bytes that are not UTF-8 replaced by U+FFFD (request
// paths and headers echoed in messages may hold any byte): never throws.
std::string JsonText(const nlohmann::json& j);
// HTTP status for a Status code.
int HttpStatusFor(StatusCode code);
std::string IsoTime(int64_t ms);

}  // namespace modelreg::api
