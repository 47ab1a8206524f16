// Helpers for integration tests: raw HTTP against a real server, and the
// real RegistryClient.
#pragma once

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "client/registry_client.h"
#include "core/digest.h"
#include "core/manifest.h"
#include "support/server_process.h"

namespace modelreg::testing {

class Http {
 public:
  Http(const std::string& url, std::string token) : cli_(url), token_(std::move(token)) {
    cli_.set_read_timeout(120, 0);
  }
  httplib::Headers H(httplib::Headers extra = {}) const {
    if (!token_.empty()) extra.emplace("Authorization", "Bearer " + token_);
    return extra;
  }
  httplib::Result Get(const std::string& p, httplib::Headers h = {}) { return cli_.Get(p, H(h)); }
  httplib::Result Head(const std::string& p) { return cli_.Head(p, H()); }
  httplib::Result Delete(const std::string& p) { return cli_.Delete(p, H()); }
  httplib::Result Post(const std::string& p, const std::string& body, const std::string& ct = "application/json",
                       httplib::Headers h = {}) {
    return cli_.Post(p, H(h), body, ct);
  }
  httplib::Result Put(const std::string& p, const std::string& body, const std::string& ct = "application/octet-stream",
                      httplib::Headers h = {}) {
    return cli_.Put(p, H(h), body, ct);
  }
  httplib::Result Patch(const std::string& p, const std::string& body, httplib::Headers h = {}) {
    return cli_.Patch(p, H(h), body, "application/octet-stream");
  }
  void set_token(std::string t) { token_ = std::move(t); }

 private:
  httplib::Client cli_;
  std::string token_;
};

// `retries`: per blob on connection loss (ClientOptions; 1 fails fast).
inline std::unique_ptr<RegistryClient> Client(const ServerProcess& s, const std::string& token,
                                              int retries = ClientOptions().retries) {
  ClientOptions o;
  o.url = s.url();
  o.token = token;
  o.retries = retries;
  auto c = RegistryClient::Create(o);
  if (!c.ok()) throw std::runtime_error(c.status().ToString());
  return std::move(c).value();
}

inline LineageRecord Lineage(const std::string& model) {
  LineageRecord r;
  r.model = model;
  r.metrics["auc"] = 0.9;
  r.params["max_depth"] = int64_t{6};
  return r;
}

// A bundle manifest for `config` (the lineage record's bytes) and `files`
// (path, bytes), as the server takes it at register.
inline std::string ManifestJson(const std::string& config,
                                const std::vector<std::pair<std::string, std::string>>& files) {
  using nlohmann::json;
  json layers = json::array();
  for (const auto& [path, bytes] : files)
    layers.push_back({{"mediaType", kFileMediaType},
                      {"digest", Digest::Of(bytes).str()},
                      {"size", bytes.size()},
                      {"annotations", {{kOciTitleAnnotation, path}}}});
  return json{
      {"schemaVersion", 2},
      {"mediaType", kOciManifestMediaType},
      {"artifactType", kModelArtifactType},
      {"config", {{"mediaType", kLineageMediaType}, {"digest", Digest::Of(config).str()}, {"size", config.size()}}},
      {"layers", layers}}
      .dump();
}

inline std::string ErrorCode(const httplib::Result& r) {
  if (!r) return "NO_RESPONSE";
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "NOT_AN_ERROR_BODY";
  return j["error"]["code"].get<std::string>();
}

inline std::string ErrorMessage(const httplib::Result& r) {
  if (!r) return "";
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "";
  return j["error"]["message"].get<std::string>();
}

// The value of an unlabelled counter in /metrics (e.g.
// "modelreg_blob_bytes_sent_total"); throws (a test failure) when there is
// no answer or no such line.
inline uint64_t MetricValue(Http& h, const std::string& name) {
  auto r = h.Get("/metrics");
  if (!r) throw std::runtime_error("GET /metrics: no answer");
  const std::string key = "\n" + name + " ";
  auto pos = r->body.find(key);
  if (pos == std::string::npos) throw std::runtime_error("/metrics has no " + name);
  return std::stoull(r->body.substr(pos + key.size()));
}

// POSTs `bytes` as one monolithic upload (?digest=) and returns their
// digest; throws (a test failure) unless the answer is 201. The answer is
// copied to *answer when given.
Digest UploadWhole(Http& h, const std::string& bytes, httplib::Response* answer = nullptr);

// Number of committed blob files under DATA/blobs.
size_t CountBlobFiles(const std::string& data_dir);
// True if files in both trees have identical paths and bytes.
bool SameTree(const std::string& a, const std::string& b, std::string* why);
// A free loopback TCP port (bind to 0, read, close).
int FreePort();

// Moves version `v` of "churn" to staging and then to production through
// `h`, over and over, until `rounds` promotions succeeded (a concurrent
// promoter may take it out of staging meanwhile: 422), at most 20 tries a
// round. For a forked child's exit code: 0 done, 1 too few promotions, 2 a
// request failed, 3 an answer other than 200 or 422.
int PromoteRepeatedly(Http& h, int64_t v, int rounds);

}  // namespace modelreg::testing
