// Register over REST refuses control characters in the lineage record's keys,
// dataset names and URIs, naming the field (the CLI checks the same before
// uploading; this is the server's own check, met by any client).
#include <catch2/catch.hpp>
#include <functional>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;

TEST_CASE("register: a control character in a key, dataset name or URI is 400 naming the field") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "b/m.bin", "model");
  auto client = Client(server, server.admin_token());
  const std::string esc = "\x1b]0;owned\x07\x1b[2J";
  struct Case {
    std::string what, want;
    std::function<void(LineageRecord&)> set;
  };
  const std::vector<Case> cases = {
      {"env key", "lineage.environment: key \"\\u001b]0;owned\\u0007\\u001b[2J\" contains a control character (U+001B)",
       [&](LineageRecord& r) { r.environment[esc] = "x"; }},
      {"dataset uri", "lineage.data[0].uri: ",
       [&](LineageRecord& r) {
         r.data.push_back(DatasetRef{"train", "s3://lake/" + esc, std::nullopt});
       }},
      {"dataset name", "lineage.data[0]: dataset name contains a control character",
       [&](LineageRecord& r) {
         r.data.push_back(DatasetRef{"tr" + esc, "s3://lake/t", std::nullopt});
       }},
      {"code repo", "lineage.code.repo: ",
       [&](LineageRecord& r) {
         r.code = CodeRef{"https://x/" + esc, std::string(40, 'a'), "", false, ""};
       }},
      {"param key C1", "lineage.params: key ", [&](LineageRecord& r) { r.params["a\xc2\x9b"] = int64_t{1}; }},
  };
  for (const auto& c : cases) {
    LineageRecord r = Lineage("churn");
    c.set(r);
    auto out = client->Register("churn", t / "b", r);
    INFO(c.what << ": " << out.status().ToString());
    REQUIRE(!out.ok());
    CHECK(out.status().code() == StatusCode::kInvalidArgument);
    CHECK(out.status().message().find(c.want) != std::string::npos);
    CHECK(out.status().message().find('\x1b') == std::string::npos);
  }
  // Values are free text.
  LineageRecord ok = Lineage("churn");
  ok.environment["python"] = "3.11 " + esc;
  CHECK(client->Register("churn", t / "b", ok).ok());
}
