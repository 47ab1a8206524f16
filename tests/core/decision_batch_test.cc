// Unit tests for registry/core/decision_batch.h: the bounded SAX parse of a
// decision batch.
#include "core/decision_batch.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

namespace modelreg {
namespace {

using nlohmann::json;

json Agentish(int i) {
  // What agent/proxy_connection.cc spools for one answered request.
  return {{"request_id", "req-" + std::to_string(i)},   {"model", "churn"},    {"version", 3},
          {"digest", "sha256:" + std::string(64, 'a')}, {"agent_id", "web-1"}, {"at_ms", 1790000000000 + i},
          {"input_sha256", std::string(64, 'b')}};
}

std::string Message(const Result<std::vector<DecisionRecord>>& r) { return r.ok() ? "" : r.status().message(); }

}  // namespace

TEST_CASE("ParseDecisionBatch reads what the agent sends", "[core][decisions]") {
  json body = {{"decisions", json::array()}};
  for (int i = 0; i < 3; ++i) body["decisions"].push_back(Agentish(i));
  body["decisions"][2]["output"] = "{\"y\":[1,2]}\n\u001b";
  auto r = ParseDecisionBatch(body.dump(), 10);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  const DecisionRecord& d = (*r)[2];
  CHECK(d.request_id == "req-2");
  CHECK(d.model == "churn");
  CHECK(d.version == 3);
  CHECK(d.digest == "sha256:" + std::string(64, 'a'));
  CHECK(d.agent_id == "web-1");
  CHECK(d.at_ms == 1790000000002);
  CHECK(d.input_sha256 == std::string(64, 'b'));
  CHECK(d.output == std::string("{\"y\":[1,2]}\n\u001b"));
  CHECK(!(*r)[0].output);
  CHECK(ParseDecisionBatch(R"({"decisions":[]})", 10)->empty());
}

TEST_CASE("ParseDecisionBatch: null is absent for optional fields, unknown members are skipped", "[core][decisions]") {
  json e = Agentish(1);
  e["version"] = nullptr;
  e["output"] = nullptr;
  e["future"] = {{"a", {1, {{"b", nullptr}}, "x"}}};
  e["flag"] = true;
  json body = {{"agent", {{"id", "web-1"}}}, {"decisions", {e}}, {"n", 1}};
  auto r = ParseDecisionBatch(body.dump(), 10);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK(!(*r)[0].version);
  CHECK(!(*r)[0].output);
  CHECK((*r)[0].request_id == "req-1");
}

TEST_CASE("ParseDecisionBatch refuses a wrong type naming the field and index", "[core][decisions]") {
  const std::vector<std::pair<std::string, json>> cases = {{"request_id", 5},
                                                           {"model", true},
                                                           {"version", "1"},
                                                           {"version", 1.5},
                                                           {"version", {1}},
                                                           {"digest", nullptr},
                                                           {"agent_id", json::array()},
                                                           {"at_ms", "1790000000000"},
                                                           {"at_ms", nullptr},
                                                           {"input_sha256", json::object()},
                                                           {"output", {{"x", 1}}},
                                                           {"output", 7},
                                                           {"version", 18446744073709551615u}};
  for (const auto& [field, value] : cases) {
    json bad = Agentish(3);
    bad[field] = value;
    auto r = ParseDecisionBatch(json({{"decisions", {Agentish(0), Agentish(1), Agentish(2), bad}}}).dump(), 10);
    INFO(field << " = " << value.dump() << ": " << Message(r));
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(Message(r).rfind("decisions[3]." + field + ": want ", 0) == 0);
  }
  auto r = ParseDecisionBatch(R"({"decisions":[{"version":"1"}]})", 10);
  CHECK(Message(r) == "decisions[0].version: want an integer or null, got string");
}

TEST_CASE("ParseDecisionBatch reads the arm, rollout and fallback that answered", "[core][decisions]") {
  json body = {{"decisions", json::array()}};
  for (int i = 0; i < 4; ++i) body["decisions"].push_back(Agentish(i));
  body["decisions"][0]["arm"] = "candidate";
  body["decisions"][0]["rollout_id"] = 7;
  body["decisions"][0]["fallback"] = "previous";
  body["decisions"][1]["arm"] = "baseline";
  body["decisions"][1]["rollout_id"] = 9223372036854775807u;
  body["decisions"][1]["fallback"] = "static";
  body["decisions"][2]["arm"] = nullptr;  // null and "" are absent
  body["decisions"][2]["rollout_id"] = nullptr;
  body["decisions"][2]["fallback"] = "";
  auto r = ParseDecisionBatch(body.dump(), 10);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].arm == "candidate");
  CHECK((*r)[0].rollout_id == 7);
  CHECK((*r)[0].fallback == "previous");
  CHECK((*r)[1].arm == "baseline");
  CHECK((*r)[1].rollout_id == 9223372036854775807);
  CHECK((*r)[1].fallback == "static");
  for (int i : {2, 3}) {  // an old-style decision has none of them
    CHECK((*r)[i].arm.empty());
    CHECK(!(*r)[i].rollout_id);
    CHECK((*r)[i].fallback.empty());
  }
}

TEST_CASE("ParseDecisionBatch refuses an unknown arm or fallback and a rollout id that is no positive integer",
          "[core][decisions]") {
  const std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"arm", "canary", R"(decisions[3].arm: want "baseline" or "candidate", got "canary")"},
      {"arm", "Baseline", R"(decisions[3].arm: want "baseline" or "candidate", got "Baseline")"},
      {"arm", "\u001b[2J", R"(decisions[3].arm: want "baseline" or "candidate", got "\u001b[2J")"},
      {"arm", std::string(200, 'x'), R"(decisions[3].arm: want "baseline" or "candidate", got a string of 200 bytes)"},
      {"arm", 1, R"(decisions[3].arm: want "baseline", "candidate" or null, got integer)"},
      {"arm", json::array({"baseline"}), R"(decisions[3].arm: want "baseline", "candidate" or null, got array)"},
      {"fallback", "none", R"(decisions[3].fallback: want "previous" or "static", got "none")"},
      {"fallback", true, R"(decisions[3].fallback: want "previous", "static" or null, got boolean)"},
      {"rollout_id", 0, "decisions[3].rollout_id: want a positive integer, got 0"},
      {"rollout_id", -7, "decisions[3].rollout_id: want a positive integer, got -7"},
      {"rollout_id", "7", "decisions[3].rollout_id: want a positive integer or null, got string"},
      {"rollout_id", 7.5, "decisions[3].rollout_id: want a positive integer or null, got number"},
      {"rollout_id", json::object(), "decisions[3].rollout_id: want a positive integer or null, got object"},
      {"rollout_id", 18446744073709551615u,
       "decisions[3].rollout_id: want an integer up to 2^63-1, got 18446744073709551615"}};
  for (const auto& [field, value, message] : cases) {
    json bad = Agentish(3);
    bad[field] = value;
    auto r = ParseDecisionBatch(json({{"decisions", {Agentish(0), Agentish(1), Agentish(2), bad}}}).dump(), 10);
    INFO(field << " = " << value.dump());
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(Message(r) == message);
  }
}

TEST_CASE("ParseDecisionBatch refuses the wrong shape", "[core][decisions]") {
  CHECK(Message(ParseDecisionBatch(R"({"decisions":5})", 10)) == "decisions: want an array, got integer");
  CHECK(Message(ParseDecisionBatch(R"({"decisions":{}})", 10)) == "decisions: want an array, got object");
  CHECK(Message(ParseDecisionBatch(R"({"decisions":[{},"x"]})", 10)) == "decisions[1]: want an object, got string");
  CHECK(Message(ParseDecisionBatch(R"({"decisions":[[]]})", 10)) == "decisions[0]: want an object, got array");
  CHECK(Message(ParseDecisionBatch(R"({"decisions":[],"decisions":[]})", 10)) == "decisions: given twice");
  CHECK(Message(ParseDecisionBatch(R"([])", 10)).find("want {\"decisions\"") == 0);
  CHECK(Message(ParseDecisionBatch(R"({})", 10)).find("want {\"decisions\"") == 0);
  CHECK(Message(ParseDecisionBatch(R"({"decisions":[{}]} x)", 10)).find("not valid JSON") != std::string::npos);
  CHECK(Message(ParseDecisionBatch("{\"decisions\":[{\"model\":\"\xff\"}]}", 10)).find("not valid JSON") !=
        std::string::npos);
  CHECK(Message(ParseDecisionBatch("", 10)).find("not valid JSON") != std::string::npos);
}

TEST_CASE("ParseDecisionBatch stops at the cap, at a too long field, at deep nesting", "[core][decisions]") {
  std::string many = "{\"decisions\":[{}";
  for (int i = 0; i < 10; ++i) many += ",{}";
  // Garbage after the cap is never read: the parse stops at decision 11.
  many += ",{} nonsense";
  auto r = ParseDecisionBatch(many, 10);
  CHECK(r.status().code() == StatusCode::kResourceExhausted);
  CHECK(Message(r) == "at most 10 decisions per batch");
  CHECK(ParseDecisionBatch("{\"decisions\":[{},{}]}", 2).ok());

  json longid = Agentish(0);
  longid["agent_id"] = std::string(kMaxDecisionFieldBytes + 1, 'x');
  CHECK(Message(ParseDecisionBatch(json({{"decisions", {longid}}}).dump(), 10)) ==
        "decisions[0].agent_id: longer than 256 bytes");
  json bigout = Agentish(0);
  bigout["output"] = std::string(kMaxDecisionOutputBytes + 1, 'x');
  CHECK(Message(ParseDecisionBatch(json({{"decisions", {bigout}}}).dump(), 10)) ==
        "decisions[0].output: longer than 65536 bytes");
  bigout["output"] = std::string(kMaxDecisionOutputBytes, 'x');
  CHECK(ParseDecisionBatch(json({{"decisions", {bigout}}}).dump(), 10).ok());

  std::string deep = "{\"decisions\":[{\"x\":" + std::string(100000, '[');
  CHECK(Message(ParseDecisionBatch(deep, 10)) == "request body nests deeper than 16 levels");
  std::string ok_depth = "{\"decisions\":[{\"x\":" + std::string(13, '[') + std::string(13, ']') + "}]}";
  CHECK(ParseDecisionBatch(ok_depth, 10).ok());
}

TEST_CASE("ParseDecisionBatchFast reads the agent's batch in one pass, the same records as the SAX parse",
          "[core][decisions]") {
  json body = {{"decisions", json::array()}};
  for (int i = 0; i < 5; ++i) body["decisions"].push_back(Agentish(i));
  body["decisions"][1]["output"] = "{\"y\":\"h\u00e9 \u2713 \U0001F600\"}\n\t\\/";  // raw UTF-8, short escapes
  body["decisions"][2]["arm"] = "candidate";
  body["decisions"][2]["rollout_id"] = 7;
  body["decisions"][2]["fallback"] = "static";
  body["decisions"][3]["version"] = nullptr;
  body["decisions"][3]["arm"] = "";
  body["decisions"][4]["output"] = std::string(kMaxDecisionOutputBytes, 'x');
  for (const std::string& text : {body.dump(), body.dump(1, '\t', false)}) {
    auto fast = ParseDecisionBatchFast(text, 10);
    REQUIRE(fast);
    auto sax = ParseDecisionBatchSax(text, 10);
    REQUIRE(sax.ok());
    REQUIRE(fast->size() == sax->size());
    for (size_t i = 0; i < fast->size(); ++i) {
      const DecisionRecord &a = (*fast)[i], &b = (*sax)[i];
      CHECK(a.request_id == b.request_id);
      CHECK(a.model == b.model);
      CHECK(a.version == b.version);
      CHECK(a.digest == b.digest);
      CHECK(a.agent_id == b.agent_id);
      CHECK(a.at_ms == b.at_ms);
      CHECK(a.input_sha256 == b.input_sha256);
      CHECK(a.output == b.output);
      CHECK(a.arm == b.arm);
      CHECK(a.rollout_id == b.rollout_id);
      CHECK(a.fallback == b.fallback);
    }
  }
  CHECK((*ParseDecisionBatchFast(body.dump(), 10))[1].output == "{\"y\":\"h\u00e9 \u2713 \U0001F600\"}\n\t\\/");
}

TEST_CASE("ParseDecisionBatchFast leaves to the SAX parse what it is not sure of", "[core][decisions]") {
  const std::string d = json(Agentish(0)).dump();
  const std::string cut = d.substr(0, d.size() - 1);  // the item without its closing brace
  for (const std::string& text : {
           "{\"decisions\":[" + cut + ",\"future\":1}]}",                    // an unknown member
           "{\"decisions\":[" + cut + ",\"output\":\"\\u001b\"}]}",          // a \u escape
           "{\"decisions\":[" + cut + ",\"output\":\"\xff\"}]}",             // not UTF-8
           "{\"decisions\":[" + cut + ",\"output\":\"\xed\xa0\x80\"}]}",     // a surrogate in UTF-8
           "{\"decisions\":[" + cut + ",\"version\":1.0}]}",                 // a float
           "{\"decisions\":[" + cut + ",\"version\":-1}]}",                  // negative
           "{\"decisions\":[" + cut + ",\"version\":01}]}",                  // not JSON
           "{\"decisions\":[" + cut + ",\"at_ms\":17900011111111111112}]}",  // 20 digits (over int64)
           "{\"decisions\":[" + cut + ",\"at_ms\":1790001111111111111}]}",   // 19 digits
           "{\"decisions\":[" + cut + ",\"arm\":\"canary\"}]}",              // breaks a rule
           "{\"decisions\":[" + cut + ",\"rollout_id\":0}]}",                // breaks a rule
           "{\"decisions\":[" + cut + ",\"digest\":null}]}",                 // wrong type
           "{\"decisions\":[" + d + "," + d + "]}",                          // over the cap of 1
           "{\"decisions\":[" + d + "]} x",                                  // trailing bytes
           "{\"agent\":1,\"decisions\":[" + d + "]}",                        // another top-level member
       }) {
    INFO(text);
    CHECK(!ParseDecisionBatchFast(text, 1));
    auto slow = ParseDecisionBatchSax(text, 1);
    auto whole = ParseDecisionBatch(text, 1);
    CHECK(slow.ok() == whole.ok());
    CHECK(Message(slow) == Message(whole));
  }
  CHECK(ParseDecisionBatchFast("{\"decisions\":[" + d + "]}", 1));
  CHECK(ParseDecisionBatchFast(" {\"decisions\" : [ ] } ", 1)->empty());
}

}  // namespace modelreg
