#include "lineage/provenance.h"

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/param_json.h"

namespace modelreg {
namespace {

using nlohmann::json;

// A git dependency in SPDX download-location form: git+URL@refs/heads/BRANCH.
std::string GitUri(const CodeRef& c) {
  std::string uri = c.repo.empty() ? "" : (c.repo.rfind("git+", 0) == 0 ? c.repo : "git+" + c.repo);
  if (!uri.empty() && !c.branch.empty()) uri += "@refs/heads/" + c.branch;
  return uri;
}

}  // namespace

std::string ProvenanceStatement(const ProvenanceInput& in) {
  json params = json::object();
  for (const auto& [k, v] : in.lineage.params) params[k] = ParamJson(v);
  json external = {{"model", in.model}, {"params", params}};
  if (in.lineage.code && !in.lineage.code->entrypoint.empty()) external["entrypoint"] = in.lineage.code->entrypoint;

  json deps = json::array();
  if (const auto& c = in.lineage.code) {
    json d = {{"name", "code"}, {"digest", {{"gitCommit", c->commit}}}, {"annotations", {{"dirty", c->dirty}}}};
    if (!GitUri(*c).empty()) d["uri"] = GitUri(*c);
    deps.push_back(d);
  }
  for (const auto& ds : in.lineage.data) {
    json d = {{"name", "data/" + ds.name}, {"uri", ds.uri}};
    if (ds.digest) d["digest"] = {{"sha256", ds.digest->hex()}};
    deps.push_back(d);
  }
  if (in.lineage.parent) deps.push_back({{"name", "parent"}, {"digest", {{"sha256", in.lineage.parent->hex()}}}});

  json byproducts = json::array();
  for (const auto& [k, v] : in.lineage.metrics)
    byproducts.push_back({{"name", "metrics/" + k}, {"annotations", {{"value", v}}}});

  json environment = json::object();
  for (const auto& [k, v] : in.lineage.environment) environment[k] = v;

  json statement = {{"_type", "https://in-toto.io/Statement/v1"},
                    {"subject",
                     {{{"name", in.model},
                       {"digest", {{"sha256", in.digest.substr(7)}}},
                       {"annotations", {{"version", in.version}}}}}},
                    {"predicateType", kSlsaProvenanceV1},
                    {"predicate",
                     {{"buildDefinition",
                       {{"buildType", kModelregBuildType},
                        {"externalParameters", external},
                        {"internalParameters", {{"environment", environment}, {"registeredBy", in.registered_by}}},
                        {"resolvedDependencies", deps}}},
                      {"runDetails",
                       {{"builder", {{"id", in.builder_id}}},
                        {"metadata",
                         {{"invocationId", in.model + "/" + std::to_string(in.version)},
                          {"finishedOn", FormatIsoTime(in.registered_at_ms)}}},
                        {"byproducts", byproducts}}}}}};
  return statement.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ProvenanceSubject> ParseProvenanceStatement(std::string_view statement) {
  auto j = json::parse(statement, nullptr, false);
  auto bad = [](const std::string& why) {
    return Status::InvalidArgument("not a modelreg provenance statement: " + why);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not JSON");
  if (j.value("_type", "") != "https://in-toto.io/Statement/v1") return bad("_type is not in-toto Statement v1");
  if (j.value("predicateType", "") != kSlsaProvenanceV1) return bad("predicateType is not SLSA provenance v1");
  if (!j.contains("subject") || !j["subject"].is_array() || j["subject"].size() != 1) return bad("want one subject");
  const json& s = j["subject"][0];
  if (!s.is_object() || !s.contains("digest") || !s["digest"].is_object() || !s["digest"].contains("sha256") ||
      !s["digest"]["sha256"].is_string())
    return bad("subject has no sha256 digest");
  auto d = Digest::Parse("sha256:" + s["digest"]["sha256"].get<std::string>());
  if (!d.ok()) return bad("subject digest: " + d.status().message());
  ProvenanceSubject out;
  out.name = s.value("name", "");
  out.digest = d->str();
  if (s.contains("annotations") && s["annotations"].is_object() && s["annotations"].contains("version") &&
      s["annotations"]["version"].is_number_integer())
    out.version = s["annotations"]["version"].get<int64_t>();
  return out;
}

}  // namespace modelreg
