// Unit tests for registry/core/lineage_record.h: the lineage record is hashed
// into the bundle digest, so its serialization must be deterministic and its
// parser strict.
#include "core/lineage_record.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace modelreg {
namespace {

using nlohmann::json;

constexpr char kCommit[] = "0123456789abcdef0123456789abcdef01234567";

LineageRecord Sample() {
  LineageRecord r;
  r.model = "churn";
  r.data = {DatasetRef{"valid", "s3://lake/churn/valid", std::nullopt},
            DatasetRef{"train", "s3://lake/churn/train", Digest::Of("train")}};
  r.code = CodeRef{"https://git.example.com/ds/churn.git", kCommit, "main", false, "train.py"};
  r.params = {{"max_depth", int64_t{6}},
              {"learning_rate", 0.1},
              {"early_stop", true},
              {"seed", std::monostate{}},
              {"optimizer", std::string("adam")}};
  r.metrics = {{"auc", 0.912}, {"logloss", 0.231}};
  r.environment = {{"python", "3.11"}, {"sklearn", "1.2.1"}};
  r.parent = Digest::Of("parent");
  return r;
}

json SampleJson() { return json::parse(SerializeLineage(Sample())); }

StatusCode ParseCode(const json& j) { return ParseLineage(j.dump()).status().code(); }

TEST_CASE("SerializeLineage writes sorted keys, sorted datasets, no whitespace", "[core][lineage]") {
  const std::string expected =
      std::string(R"({"code":{"branch":"main","commit":")") + kCommit +
      R"(","dirty":false,"entrypoint":"train.py","repo":"https://git.example.com/ds/churn.git"},)" +
      R"("data":[{"digest":")" + Digest::Of("train").str() + R"(","name":"train","uri":"s3://lake/churn/train"},)" +
      R"({"name":"valid","uri":"s3://lake/churn/valid"}],)" + R"("environment":{"python":"3.11","sklearn":"1.2.1"},)" +
      R"("metrics":{"auc":0.912,"logloss":0.231},"model":"churn",)" +
      R"("params":{"early_stop":true,"learning_rate":0.1,"max_depth":6,"optimizer":"adam","seed":null},)" +
      R"("parent":")" + Digest::Of("parent").str() + R"("})";
  CHECK(SerializeLineage(Sample()) == expected);
}

TEST_CASE("SerializeLineage is deterministic and omits absent parts", "[core][lineage]") {
  LineageRecord a = Sample();
  LineageRecord b = Sample();
  std::swap(b.data[0], b.data[1]);
  CHECK(SerializeLineage(a) == SerializeLineage(b));

  LineageRecord minimal;
  minimal.model = "m";
  CHECK(SerializeLineage(minimal) == R"({"data":[],"environment":{},"metrics":{},"model":"m","params":{}})");

  LineageRecord detached = Sample();
  detached.code->branch.clear();
  detached.code->entrypoint.clear();
  detached.code->dirty = true;
  const std::string s = SerializeLineage(detached);
  CHECK(s.find("\"branch\"") == std::string::npos);
  CHECK(s.find("\"entrypoint\"") == std::string::npos);
  CHECK(s.find("\"dirty\":true") != std::string::npos);
}

TEST_CASE("SerializeLineage never throws on invalid UTF-8 text", "[core][lineage]") {
  // Values come from the command line and git (--param, --env, branch names).
  LineageRecord r = Sample();
  r.params["latin1"] = std::string("caf\xe9");
  r.environment["host"] = "\xff";
  r.code->branch = "feature/\xc0\xaf";
  std::string bytes;
  REQUIRE_NOTHROW(bytes = SerializeLineage(r));
  CHECK(bytes == SerializeLineage(r));
  CHECK(bytes.find("caf\xef\xbf\xbd") != std::string::npos);  // U+FFFD
  auto parsed = ParseLineage(bytes);
  REQUIRE(parsed.ok());
  CHECK(parsed->environment.at("host") == "\xef\xbf\xbd");
}

TEST_CASE("ParseLineage round trip", "[core][lineage]") {
  const std::string bytes = SerializeLineage(Sample());
  auto r = ParseLineage(bytes);
  REQUIRE(r.ok());
  CHECK(r->model == "churn");
  REQUIRE(r->data.size() == 2);
  CHECK(r->data[0].name == "train");
  CHECK(r->data[0].uri == "s3://lake/churn/train");
  REQUIRE(r->data[0].digest.has_value());
  CHECK(*r->data[0].digest == Digest::Of("train"));
  CHECK(r->data[1].name == "valid");
  CHECK_FALSE(r->data[1].digest.has_value());
  REQUIRE(r->code.has_value());
  CHECK(r->code->repo == "https://git.example.com/ds/churn.git");
  CHECK(r->code->commit == kCommit);
  CHECK(r->code->branch == "main");
  CHECK(r->code->entrypoint == "train.py");
  CHECK_FALSE(r->code->dirty);
  CHECK(r->params == Sample().params);
  CHECK(std::holds_alternative<int64_t>(r->params.at("max_depth")));
  CHECK(std::holds_alternative<double>(r->params.at("learning_rate")));
  CHECK(r->metrics == Sample().metrics);
  CHECK(r->environment == Sample().environment);
  REQUIRE(r->parent.has_value());
  CHECK(*r->parent == Digest::Of("parent"));
  CHECK(SerializeLineage(*r) == bytes);

  // Only "model" is required; "code": null means no code.
  auto minimal = ParseLineage(R"({"model":"m","code":null})");
  REQUIRE(minimal.ok());
  CHECK_FALSE(minimal->code.has_value());
  CHECK(minimal->data.empty());
}

TEST_CASE("ParseLineage keeps integers beyond int64 as numbers, not wrapped", "[core][lineage]") {
  json j = SampleJson();
  j["params"]["max"] = std::numeric_limits<int64_t>::max();
  j["params"]["min"] = std::numeric_limits<int64_t>::min();
  j["params"]["huge"] = std::numeric_limits<uint64_t>::max();
  auto r = ParseLineage(j.dump());
  REQUIRE(r.ok());
  CHECK(r->params.at("max") == ParamValue{std::numeric_limits<int64_t>::max()});
  CHECK(r->params.at("min") == ParamValue{std::numeric_limits<int64_t>::min()});
  const ParamValue& huge = r->params.at("huge");
  REQUIRE(std::holds_alternative<double>(huge));
  CHECK(std::get<double>(huge) == Approx(1.8446744073709552e19));
  // Stable on a second round trip.
  auto again = ParseLineage(SerializeLineage(*r));
  REQUIRE(again.ok());
  CHECK(SerializeLineage(*again) == SerializeLineage(*r));
}

TEST_CASE("ParseLineage rejects unknown fields at every level", "[core][lineage]") {
  json top = SampleJson();
  top["extra"] = 1;
  Status st = ParseLineage(top.dump()).status();
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("extra"));

  // A misspelled field must not silently drop a fact (here: the digest).
  json data = SampleJson();
  data["data"][1]["digset"] = Digest::Of("x").str();
  CHECK(ParseCode(data) == StatusCode::kInvalidArgument);
  json code = SampleJson();
  code["code"]["dirtyy"] = true;
  CHECK(ParseCode(code) == StatusCode::kInvalidArgument);
}

TEST_CASE("ParseLineage rejects bad metrics and params", "[core][lineage]") {
  for (json bad : {json("0.9"), json(true), json(nullptr), json::array({1}), json::object()}) {
    json j = SampleJson();
    j["metrics"]["auc"] = bad;
    INFO(bad.dump());
    Status st = ParseLineage(j.dump()).status();
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains("auc"));
  }
  for (json bad : {json::object({{"a", 1}}), json::array({1, 2}), json::array()}) {
    json j = SampleJson();
    j["params"]["nested"] = bad;
    INFO(bad.dump());
    CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  }
  json j = SampleJson();
  j["metrics"] = json::array();
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  j = SampleJson();
  j["params"] = "max_depth=6";
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  j = SampleJson();
  j["params"][std::string("bad\nkey")] = 1;
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  j = SampleJson();
  j["metrics"][""] = 1;
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  j = SampleJson();
  j["environment"]["python"] = 3.11;
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
}

TEST_CASE("ParseLineage rejects bad code, digests and names", "[core][lineage]") {
  const std::string c = kCommit;
  for (const std::string& commit :
       std::vector<std::string>{c.substr(0, 39), c + "0", "0123456789ABCDEF0123456789ABCDEF01234567",
                                c.substr(0, 39) + "g", std::string(""), "HEAD", "main"}) {
    json j = SampleJson();
    j["code"]["commit"] = commit;
    INFO(commit);
    CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  }
  json j = SampleJson();
  j["code"].erase("commit");
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  j = SampleJson();
  j["code"]["dirty"] = "false";
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  j = SampleJson();
  j["code"] = "https://git.example.com/x.git";
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);

  for (const std::string& d : std::vector<std::string>{"sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e",
                                                       "sha256:" + std::string(64, 'A')}) {
    INFO(d);
    json dj = SampleJson();
    dj["data"][0]["digest"] = d;
    CHECK(ParseCode(dj) == StatusCode::kInvalidArgument);
    json pj = SampleJson();
    pj["parent"] = d;
    CHECK(ParseCode(pj) == StatusCode::kInvalidArgument);
  }
  j = SampleJson();
  j["data"][1]["name"] = "train";  // listed twice
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  j = SampleJson();
  j["data"][0].erase("name");
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  j = SampleJson();
  j["data"] = json::object();
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);
  j = SampleJson();
  j["data"][0] = "train";
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);

  for (json name : {json("Churn"), json(""), json("a/b"), json("-x"), json(7), json(nullptr)}) {
    json nj = SampleJson();
    nj["model"] = name;
    INFO(name.dump());
    CHECK(ParseCode(nj) == StatusCode::kInvalidArgument);
  }
  j = SampleJson();
  j.erase("model");
  CHECK(ParseCode(j) == StatusCode::kInvalidArgument);

  for (const std::string text : {"", "null", "[]", "\"churn\"", "{", "{\"model\":\"m\",}"}) {
    INFO(text);
    CHECK(ParseLineage(text).status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("CheckLineageText refuses control characters in every key, name and URI", "[core][lineage]") {
  CHECK(CheckLineageText(Sample()).ok());
  const std::string esc = "\u001b]0;owned\u0007\u001b[2J";
  const std::string csi = "a\u009b2J";  // C1 CSI, as UTF-8
  struct Case {
    std::function<void(LineageRecord&)> set;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[&](LineageRecord& r) { r.environment[esc] = "x"; }, "lineage.environment: key \"\\u001b]0;owned"},
      {[&](LineageRecord& r) { r.environment[csi] = "x"; }, "lineage.environment: key \"a\\u009b2J\""},
      {[&](LineageRecord& r) { r.environment["del\x7f"] = "x"; }, "lineage.environment: key"},
      {[&](LineageRecord& r) { r.data[1].uri = "s3://lake/" + esc; }, "lineage.data[1].uri: "},
      {[&](LineageRecord& r) { r.data[0].name = "va\tlid"; }, "lineage.data[0].name: "},
      {[&](LineageRecord& r) { r.code->repo = "https://x/" + esc; }, "lineage.code.repo: "},
      {[&](LineageRecord& r) { r.code->branch = "main\n"; }, "lineage.code.branch: "},
      {[&](LineageRecord& r) { r.code->entrypoint = "train.py\r"; }, "lineage.code.entrypoint: "},
      {[&](LineageRecord& r) { r.params[csi] = int64_t{1}; }, "lineage.params: key "},
      {[&](LineageRecord& r) { r.metrics[csi] = 1.0; }, "lineage.metrics: key "},
  };
  for (const auto& c : cases) {
    LineageRecord r = Sample();
    c.set(r);
    Status st = CheckLineageText(r);
    INFO(c.field << " / " << st.message());
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK(st.message().rfind(c.field, 0) == 0);
    CHECK(st.message().find("contains a control character (U+") != std::string::npos);
    CHECK(st.message().find('\x1b') == std::string::npos);  // quoted escaped
  }
  // Values stay free text; a record stored before the check is still read.
  LineageRecord v = Sample();
  v.environment["python"] = "3.11\n" + esc;
  v.params["prompt"] = std::string("line 1\nline 2");
  v.data[0].uri = "s3://lake/caf\u00e9";  // non-ASCII is no control
  CHECK(CheckLineageText(v).ok());
  LineageRecord old = Sample();
  old.environment[esc] = "x";
  auto parsed = ParseLineage(SerializeLineage(old));
  REQUIRE(parsed.ok());
  CHECK(parsed->environment.count(esc) == 1);
}

TEST_CASE("ParseParamText infers JSON scalar types", "[core][lineage]") {
  CHECK(ParseParamText("6") == ParamValue{int64_t{6}});
  CHECK(ParseParamText("-3") == ParamValue{int64_t{-3}});
  CHECK(ParseParamText("0") == ParamValue{int64_t{0}});
  CHECK(ParseParamText("0.1") == ParamValue{0.1});
  CHECK(ParseParamText("1e3") == ParamValue{1000.0});
  CHECK(ParseParamText("true") == ParamValue{true});
  CHECK(ParseParamText("false") == ParamValue{false});
  CHECK(ParseParamText("null") == ParamValue{std::monostate{}});
  CHECK(ParseParamText("9223372036854775807") == ParamValue{std::numeric_limits<int64_t>::max()});
  // Beyond int64: a number (double), never a wrapped negative integer.
  ParamValue big = ParseParamText("18446744073709551615");
  REQUIRE(std::holds_alternative<double>(big));
  CHECK(std::get<double>(big) > 1e19);
  for (const std::string s : {"abc", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "", "True", "0x10", "1.2.3",
                              "6abc", "adam", "[1]", "{}"}) {
    INFO(s);
    CHECK(ParseParamText(s) == ParamValue{s});
  }
}

TEST_CASE("ParamToString renders JSON", "[core][lineage]") {
  CHECK(ParamToString(int64_t{6}) == "6");
  CHECK(ParamToString(0.1) == "0.1");
  CHECK(ParamToString(true) == "true");
  CHECK(ParamToString(std::monostate{}) == "null");
  CHECK(ParamToString(std::string("a\"b")) == "\"a\\\"b\"");
}

TEST_CASE("ParseMetricText accepts finite numbers only", "[core][lineage]") {
  auto ok = [](const char* text) {
    auto r = ParseMetricText("auc", text);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(ok("0.93") == 0.93);
  CHECK(ok("-1") == -1.0);
  CHECK(ok("1e-3") == 0.001);
  CHECK(ok("42") == 42.0);
  CHECK(ok(".5") == 0.5);
  // strtod also took hex, a leading '+' and leading spaces.
  for (const std::string s : {"abc", "inf", "-inf", "INF", "infinity", "nan", "NaN", "", "1e999", "-1e999", "0.5x",
                              "1,5", "0.5 ", "0x10", "+1", " 0.5"}) {
    INFO(Catch::Detail::stringify(s));
    auto r = ParseMetricText("auc", s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains("auc"));
  }
}

TEST_CASE("ParseParamsJson and ParseMetricsJson", "[core][lineage]") {
  auto p = ParseParamsJson(R"({"depth":6,"lr":0.5,"name":"x","flag":false,"none":null})");
  REQUIRE(p.ok());
  CHECK(p->size() == 5);
  CHECK(p->at("depth") == ParamValue{int64_t{6}});
  CHECK(p->at("name") == ParamValue{std::string("x")});
  CHECK(ParseParamsJson(R"({"nested":{"a":1}})").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseParamsJson("[1,2]").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseParamsJson("depth=6").status().code() == StatusCode::kInvalidArgument);

  auto m = ParseMetricsJson(R"({"auc":0.9,"n":100})");
  REQUIRE(m.ok());
  CHECK(m->at("auc") == 0.9);
  CHECK(m->at("n") == 100.0);
  CHECK(ParseMetricsJson(R"({"auc":"0.9"})").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseMetricsJson(R"({"auc":null})").status().code() == StatusCode::kInvalidArgument);
  CHECK(ParseMetricsJson("0.9").status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace modelreg

namespace modelreg {
namespace {

TEST_CASE("lineage: the profile reference round-trips and is checked strictly", "[core][lineage]") {
  LineageRecord r;
  r.model = "churn";
  CHECK(SerializeLineage(r).find("profile") == std::string::npos);  // absent when none
  r.profile = ProfileRef{Digest::Of("p"), 1234};
  const std::string s = SerializeLineage(r);
  CHECK(s.find(R"("profile":{"digest":")" + Digest::Of("p").str() + R"(","size":1234})") != std::string::npos);
  auto back = ParseLineage(s);
  REQUIRE(back.ok());
  REQUIRE(back->profile.has_value());
  CHECK(back->profile->digest == Digest::Of("p"));
  CHECK(back->profile->size == 1234);
  CHECK(SerializeLineage(*back) == s);
  auto err = [](const std::string& profile) {
    auto p = ParseLineage(R"({"model":"churn","profile":)" + profile + "}");
    REQUIRE_FALSE(p.ok());
    return p.status().message();
  };
  CHECK(err("[]") == "lineage.profile must be an object");
  CHECK(err(R"({"size":1})") == "lineage.profile.digest is required");
  CHECK(err(R"({"digest":")" + Digest::Of("p").str() + R"(","size":-1})") ==
        "lineage.profile.size must be a non-negative integer");
  CHECK(err(R"({"digest":")" + Digest::Of("p").str() + R"(","size":1,"x":2})") ==
        "lineage.profile has unknown field 'x'");
  CHECK(err(R"({"digest":"sha256:zz","size":1})").rfind("lineage.profile.digest", 0) == 0);
}

}  // namespace
}  // namespace modelreg
