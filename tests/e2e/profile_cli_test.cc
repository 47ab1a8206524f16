// End to end: `modelreg register --profile-data` computes the reference
// profile, `show` prints it, and bad data is refused naming the line
// (docs/cli.md).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/digest.h"
#include "support/process.h"
#include "support/server_process.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

TEST_CASE("register --profile-data: the profile in the bundle, the lineage and show") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.CreateToken("trainer-ci", "trainer"));
  WriteFile(t / "model/weights.bin", "weights");
  const std::string csv =
      "age,city,vip,label,score\n"
      "30,Paris,true,1,0.91\n"
      "45,Lyon,false,0,0.12\n"
      ",Paris,true,1,0.77\n"
      "61,Nice,false,0,0.30\n";
  WriteFile(t / "data/train.csv", csv);
  auto r = Modelreg({"register", "churn", t / "model", "--profile-data", "train=" + (t / "data/train.csv"), "--target",
                     "label", "--output-column", "score"},
                    env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("profiled " + (t / "data/train.csv") + ": 4 rows, 3 input columns and the output") !=
        std::string::npos);

  auto show = Modelreg({"show", "churn", "1"}, env);
  INFO(show.err);
  REQUIRE(show.exit_code == 0);
  CHECK(show.out.find("files:    2 (") != std::string::npos);  // weights + .modelreg/profile.json
  CHECK(show.out.find("profile:  train, 4 rows, 3 input columns, output score\n") != std::string::npos);
  CHECK(show.out.find("  column: age  numeric  missing 25%  [30, 61]") != std::string::npos);
  CHECK(show.out.find("  column: city  categorical  missing 0%  Paris 50%, Lyon 25%, Nice 25%; other 0%\n") !=
        std::string::npos);
  CHECK(show.out.find("  column: vip  boolean  missing 0%  true 50%\n") != std::string::npos);
  CHECK(show.out.find("  output: score  numeric  missing 0%  [0.12, 0.91]") != std::string::npos);
  CHECK(show.out.find("label") == std::string::npos);

  auto j = json::parse(Modelreg({"show", "churn", "1", "--json"}, env).out);
  REQUIRE(j["profile"].is_object());
  CHECK(j["profile"]["digest"].get<std::string>().rfind("sha256:", 0) == 0);
  // The profiled file is a dataset of the lineage, by digest.
  CHECK(j["data"][0]["name"] == "train");
  CHECK(j["data"][0]["digest"] == Digest::Of(csv).str());

  // A version without a profile says so.
  WriteFile(t / "model2/weights.bin", "other weights");
  REQUIRE(Modelreg({"register", "churn", t / "model2"}, env).exit_code == 0);
  auto plain = Modelreg({"show", "churn", "2"}, env);
  CHECK(plain.out.find("profile:  none\n") != std::string::npos);
  CHECK(json::parse(Modelreg({"show", "churn", "2", "--json"}, env).out)["profile"].is_null());
}

TEST_CASE("register --profile-data refuses bad data before uploading, naming the line") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.CreateToken("trainer-ci", "trainer"));
  WriteFile(t / "model/weights.bin", "weights");
  WriteFile(t / "ragged.csv", "a,b\n1,2\n3\n");
  auto ragged = Modelreg({"register", "churn", t / "model", "--profile-data", "train=" + (t / "ragged.csv")}, env);
  CHECK(ragged.exit_code != 0);
  CHECK(ragged.err.find("ragged.csv:3: 1 field, the header has 2") != std::string::npos);
  WriteFile(t / "ok.csv", "a,b\n1,2\n");
  auto target = Modelreg(
      {"register", "churn", t / "model", "--profile-data", "train=" + (t / "ok.csv"), "--target", "label"}, env);
  CHECK(target.exit_code != 0);
  CHECK(target.err.find("--target \"label\"") != std::string::npos);
  auto alone = Modelreg({"register", "churn", t / "model", "--target", "label"}, env);
  CHECK(alone.exit_code != 0);
  CHECK(alone.err.find("--target and --output-column go with --profile-data") != std::string::npos);
  // Nothing was registered.
  CHECK(Modelreg({"show", "churn", "1"}, env).exit_code != 0);

  // --schema alone: a profile holding only the schema.
  WriteFile(t / "schema.json", R"({"columns":[{"name":"a","type":"numeric","min":0,"max":10}]})");
  auto schema = Modelreg({"register", "churn", t / "model", "--schema", t / "schema.json"}, env);
  INFO(schema.err);
  REQUIRE(schema.exit_code == 0);
  CHECK(Modelreg({"show", "churn", "1"}, env).out.find("profile:  (schema only), 0 rows, 0 input columns\n") !=
        std::string::npos);
}
