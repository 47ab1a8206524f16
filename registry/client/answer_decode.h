// The registry's JSON answers (docs/api.md) read into core records and the
// client's views (client/client_views.h). An answer of the wrong shape
// (another server at the URL, a proxy's JSON, a registry of another version)
// is an Internal Status saying so, never an exception: a decoder may use
// nlohmann's checked accessors (and throw std::invalid_argument for a value
// no record takes); DecodeAnswer turns what they throw into that Status. Used by RegistryClient's typed calls only.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/client_views.h"
#include "core/status.h"

namespace modelreg::client_internal {

ModelRecord DecodeModel(const nlohmann::json& j);
VersionRecord DecodeVersionRecord(const nlohmann::json& j);
// The record, and metrics, data and approvals where present.
VersionView DecodeVersionView(const nlohmann::json& j);
LineageRecord DecodeLineageRecord(const nlohmann::json& j);
StageChange DecodeStageChange(const nlohmann::json& j);
Policy DecodePolicy(const nlohmann::json& j);
AgentView DecodeAgent(const nlohmann::json& j);
TokenRecord DecodeToken(const nlohmann::json& j);
// The elements of the array member `key` of `j`, each decoded by `one`.
template <typename T, typename F>
std::vector<T> DecodeList(const nlohmann::json& j, const char* key, F one) {
  std::vector<T> out;
  for (const auto& e : j.at(key)) out.push_back(one(e));
  return out;
}

Status WrongShape(const std::string& what, const std::string& why);

// `decode(answer)`, or the Status of WrongShape when the answer is not of
// the shape it reads.
template <typename F>
auto DecodeAnswer(const nlohmann::json& answer, const std::string& what, F decode)
    -> Result<decltype(decode(answer))> {
  try {
    return decode(answer);
  } catch (const nlohmann::json::exception& e) {
    return WrongShape(what, e.what());
  } catch (const std::invalid_argument& e) {  // a value no record takes (an unknown role)
    return WrongShape(what, e.what());
  }
}

}  // namespace modelreg::client_internal
