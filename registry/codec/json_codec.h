// JSON forms of the domain records (core/) on the wire: the one place where
// domain structs meet nlohmann::json. The API encodes with ToJson; a client
// decodes the same shapes with FromJson (docs/api.md). Depends on core only.
//
// Encoders never throw. Decoders never throw either: a missing field, a field
// of the wrong type or a malformed time is InvalidArgument naming the field.
// Decoders accept what the encoders produce (fields they do not know are
// ignored, so a newer server's answers still decode); times are read back
// from their ISO 8601 form with millisecond precision. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/audit_chain.h"
#include "core/audit_queries.h"
#include "core/lineage_record.h"
#include "core/policy.h"
#include "core/records.h"
#include "core/rollout.h"
#include "core/status.h"

namespace modelreg::codec {

// ---- encoders (json_codec.cc, json_codec_lineage.cc) ----
nlohmann::json ToJson(const ModelRecord& m);
nlohmann::json ToJson(const VersionRecord& v);
nlohmann::json ToJson(const VersionDetail& d);
nlohmann::json ToJson(const GcReport& r);
nlohmann::json ToJson(const ApprovalInfo& a);
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
// Rollouts (json_codec_rollout.cc; docs/rollouts.md): the rollout alone,
// and its status (the rollout, per-arm counts and percentiles, shadow
// agreement, the verdict).
nlohmann::json ToJson(const RolloutRecord& r);
nlohmann::json ToJson(const RolloutStatus& s);
// An agent's report's "rollout" object (docs/rollouts.md) into counts;
// InvalidArgument naming the field.
Status FromJson(const nlohmann::json& j, RolloutCounts* out);

// ---- decoders (json_decode.cc) ----
// Each fills `*out` from the shape its ToJson writes. AgentInfo keeps what
// the wire carries (last_seen, heartbeat, spool; not first_seen).
Status FromJson(const nlohmann::json& j, ModelRecord* out);
Status FromJson(const nlohmann::json& j, VersionRecord* out);
Status FromJson(const nlohmann::json& j, VersionDetail* out);
Status FromJson(const nlohmann::json& j, ApprovalInfo* out);
Status FromJson(const nlohmann::json& j, TokenRecord* out);
Status FromJson(const nlohmann::json& j, AuditEvent* out);
Status FromJson(const nlohmann::json& j, AuditVerifyResult* out);
Status FromJson(const nlohmann::json& j, Policy* out);
Status FromJson(const nlohmann::json& j, StageChange* out);
Status FromJson(const nlohmann::json& j, ParamValue* out);
Status FromJson(const nlohmann::json& j, VersionRef* out);
Status FromJson(const nlohmann::json& j, AgentInfo* out);
Status FromJson(const nlohmann::json& j, DecisionRecord* out);
Status FromJson(const nlohmann::json& j, LineageRecord* out);
Status FromJson(const nlohmann::json& j, VersionLineage* out);
Status FromJson(const nlohmann::json& j, AgentStateAt* out);
Status FromJson(const nlohmann::json& j, LiveAt* out);
Status FromJson(const nlohmann::json& j, DownstreamEntry* out);
Status FromJson(const nlohmann::json& j, DownstreamPage* out);
Status FromJson(const nlohmann::json& j, DecisionAudit* out);
Status FromJson(const nlohmann::json& j, VersionDiffResult* out);

// Decodes one record: `Decode<VersionRecord>(j)`.
template <typename T>
Result<T> Decode(const nlohmann::json& j) {
  T out;
  Status st = FromJson(j, &out);
  if (!st.ok()) return st;
  return out;
}
// Decodes a JSON array of records (InvalidArgument naming the index).
template <typename T>
Result<std::vector<T>> DecodeList(const nlohmann::json& j) {
  if (!j.is_array()) return Status::InvalidArgument("expected a JSON array");
  std::vector<T> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    T x;
    Status st = FromJson(j[i], &x);
    if (!st.ok()) return Status::InvalidArgument("[" + std::to_string(i) + "]: " + st.message());
    out.push_back(std::move(x));
  }
  return out;
}

// Parses {"approvals":N,"gates":[...],"require_clean_code":b,"require_data_digests":b}
// strictly (unknown fields refused): the policy a client sends.
Result<Policy> PolicyFromJson(const nlohmann::json& j);
// {"error":{"code":"...","message":"...","details":[...]}}
nlohmann::json ErrorJson(const Status& st);
// `j` as text, with bytes that are not UTF-8 replaced by U+FFFD (request
// paths and headers echoed in messages may hold any byte): never throws.
std::string JsonText(const nlohmann::json& j);
std::string IsoTime(int64_t ms);

}  // namespace modelreg::codec
