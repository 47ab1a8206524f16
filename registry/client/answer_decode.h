// The registry's JSON answers (docs/api.md) read into core records and the
// client's views (client/client_views.h), on the shared codec
// (codec/json_codec.h, which names the bad field). An answer of the wrong
// shape (another server at the URL, a proxy's JSON, a registry of another
// version) is an Internal Status saying so; nothing here throws. Used by
// RegistryClient's typed calls only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/client_views.h"
#include "codec/json_codec.h"
#include "core/status.h"

namespace modelreg::client_internal {

// Internal: "the registry's answer is not what this client reads (WHAT: WHY); ...".
Status WrongShape(const std::string& what, const std::string& why);

// The record in `answer`, or WrongShape.
template <typename T>
Result<T> DecodeAnswer(const nlohmann::json& answer, const std::string& what) {
  auto r = codec::Decode<T>(answer);
  if (!r.ok()) return WrongShape(what, r.status().message());
  return r;
}

// The records of the array member `key` of `answer` ({"models": [...]}), or WrongShape.
template <typename T>
Result<std::vector<T>> DecodeListAnswer(const nlohmann::json& answer, const char* key, const std::string& what) {
  if (!answer.is_object() || !answer.contains(key)) return WrongShape(what, std::string("no member \"") + key + "\"");
  auto r = codec::DecodeList<T>(answer[key]);
  if (!r.ok()) return WrongShape(what, std::string(key) + r.status().message());
  return r;
}

// A version (row, metrics, and data and approvals where present).
Result<VersionView> DecodeVersionView(const nlohmann::json& j, const std::string& what);
Result<std::vector<VersionView>> DecodeVersionViews(const nlohmann::json& answer, const std::string& what);
// {"agents": [...]} with each agent's heartbeat age and silence.
Result<std::vector<AgentView>> DecodeAgents(const nlohmann::json& answer, const std::string& what);
// A stage change's answer: the version, the production version it replaced, overridden gates.
Result<StageOutcome> DecodeStageOutcome(const nlohmann::json& j, const std::string& what);
// The string array member `key` (absent: empty), or WrongShape.
Result<std::vector<std::string>> DecodeStrings(const nlohmann::json& j, const char* key, const std::string& what);

}  // namespace modelreg::client_internal
