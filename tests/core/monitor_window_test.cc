// Unit tests for registry/core/monitor_window.h: the wire form of an
// agent's monitoring windows round-trips, and the registry's parser refuses
// what a bad or hostile agent could send, naming the field.
#include "core/monitor_window.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace modelreg {
namespace {
using nlohmann::json;

const std::string kDigest = "sha256:" + std::string(64, 'a');

MonitorReport Sample() {
  MonitorReport r;
  r.run = "0123456789abcdef";
  MonitorWindow w;
  w.version = 4;
  w.digest = kDigest;
  w.arm = "candidate";
  w.start_ms = 1'800'000'000'000;
  w.end_ms = w.start_ms + 300'000;
  w.reference = true;
  w.requests = 10;
  w.rows = 12;
  w.unreadable = 1;
  w.violations = 2;
  w.rejected = 0;
  w.features.push_back(FeatureWindow{"age", 11, 1, 1, 0, 0, {1, 5, 5}});
  w.features.push_back(FeatureWindow{"city", 10, 0, 0, 2, 3, {7, 3}});
  w.output = FeatureWindow{"score", 12, 0, 0, 0, 0, {6, 6}};
  r.windows.push_back(w);
  MonitorWindow none;  // a version without a reference profile
  none.version = 3;
  none.digest = "sha256:" + std::string(64, 'b');
  none.start_ms = 0;
  none.end_ms = 1000;
  none.requests = 5;
  none.unreadable = 5;
  r.windows.push_back(none);
  return r;
}

std::string ErrorOf(const json& j) {
  auto r = ParseMonitorReport(j.dump());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST_CASE("monitor window: a report round-trips through its wire form") {
  const MonitorReport r = Sample();
  const std::string text = SerializeMonitorReport(r);
  auto back = ParseMonitorReport(text);
  INFO(text << "\n" << back.status().message());
  REQUIRE(back.ok());
  CHECK(SerializeMonitorReport(*back) == text);
  REQUIRE(back->windows.size() == 2);
  const MonitorWindow& w = back->windows[0];
  CHECK(back->run == "0123456789abcdef");
  CHECK(w.version == 4);
  CHECK(w.arm == "candidate");
  CHECK(w.reference);
  CHECK(w.features[1].name == "city");
  CHECK(w.features[1].unknown_category == 3);
  CHECK(w.features[0].counts == std::vector<int64_t>{1, 5, 5});
  REQUIRE(w.output.has_value());
  CHECK(w.output->name == "score");
  CHECK_FALSE(back->windows[1].reference);
  CHECK_FALSE(back->windows[1].output.has_value());
  CHECK(json::parse(text)["windows"][1].count("output") == 0);
}

TEST_CASE("monitor window: an empty report is fine") {
  MonitorReport r;
  r.run = "00ff";
  CHECK(SerializeMonitorReport(r) == R"({"run":"00ff","windows":[]})");
  auto back = ParseMonitorReport(SerializeMonitorReport(r));
  REQUIRE(back.ok());
  CHECK(back->windows.empty());
  CHECK(back->dropped == 0);
  r.dropped = 3;
  back = ParseMonitorReport(SerializeMonitorReport(r));
  REQUIRE(back.ok());
  CHECK(back->dropped == 3);
  CHECK_FALSE(ParseMonitorReport(R"({"run":"00ff","windows":[],"dropped":-1})").ok());
}

TEST_CASE("monitor window: the parser refuses bad reports, naming the field") {
  const json good = json::parse(SerializeMonitorReport(Sample()));
  auto with = [&](auto&& edit) {
    json j = good;
    edit(j);
    return ErrorOf(j);
  };
  CHECK_FALSE(ParseMonitorReport("{").ok());
  CHECK_FALSE(ParseMonitorReport("[]").ok());
  CHECK(with([](json& j) { j["extra"] = 1; }) == "monitoring has unknown field 'extra'");
  CHECK(with([](json& j) { j["run"] = "XYZ"; }).find("monitoring.run") == 0);
  CHECK(with([](json& j) { j.erase("windows"); }) == "monitoring.windows must be an array");
  CHECK(with([](json& j) { j["windows"][0]["rows"] = -1; }) == "monitoring.windows[0].rows must not be negative");
  CHECK(with([](json& j) { j["windows"][0]["rows"] = 1.5; }) ==
        "monitoring.windows[0].rows must be a non-negative integer");
  CHECK(with([](json& j) { j["windows"][0].erase("requests"); }) == "monitoring.windows[0].requests is required");
  CHECK(with([](json& j) { j["windows"][0]["version"] = 0; }) == "monitoring.windows[0].version must be at least 1");
  CHECK(with([](json& j) { j["windows"][0]["digest"] = "sha256:abc"; }).find("monitoring.windows[0].digest") == 0);
  CHECK(with([](json& j) { j["windows"][0]["arm"] = "other"; }).find("monitoring.windows[0].arm") == 0);
  CHECK(with([](json& j) { j["windows"][0]["end_ms"] = j["windows"][0]["start_ms"]; }) ==
        "monitoring.windows[0].start_ms must be before end_ms");
  CHECK(with([](json& j) { j["windows"][0]["reference"] = 1; }) == "monitoring.windows[0].reference must be a boolean");
  CHECK(with([](json& j) { j["windows"][0]["unreadable"] = 11; }) ==
        "monitoring.windows[0].unreadable is more than its requests");
  CHECK(with([](json& j) { j["windows"][0]["violations"] = 13; }) ==
        "monitoring.windows[0].violations is more than its rows");
  CHECK(with([](json& j) { j["windows"][0]["features"][0]["counts"][0] = -1; }) ==
        "monitoring.windows[0].features[0].counts[0] must not be negative");
  CHECK(with([](json& j) { j["windows"][0]["features"][0]["counts"][0] = 2; }) ==
        "monitoring.windows[0].features[0].counts add up to 12, not n = 11");
  CHECK(with([](json& j) {
          j["windows"][0]["features"][0]["counts"] = {INT64_MAX, INT64_MAX};
        }) == "monitoring.windows[0].features[0].counts add up to more than an int64");
  CHECK(with([](json& j) { j["windows"][0]["features"][1]["name"] = "age"; }) ==
        "monitoring.windows[0].features has \"age\" twice");
  CHECK(with([](json& j) { j["windows"][0]["features"][1]["name"] = ""; }) ==
        "monitoring.windows[0].features[1].name must not be empty");
  CHECK(with([](json& j) { j["windows"][0]["features"][1]["nn"] = 1; }) ==
        "monitoring.windows[0].features[1] has unknown field 'nn'");
  CHECK(with([](json& j) { j["windows"][0]["output"]["missing"] = "x"; }) ==
        "monitoring.windows[0].output.missing must be a non-negative integer");
  CHECK(with([](json& j) {
          j["windows"][1]["features"] = {{{"name", "a"},
                                          {"n", 1},
                                          {"missing", 0},
                                          {"out_of_range", 0},
                                          {"type_errors", 0},
                                          {"unknown_category", 0},
                                          {"counts", {1}}}};
        }) == "monitoring.windows[1].features[0].counts must be empty in a window without a reference");
}

TEST_CASE("monitor window: names must be UTF-8 and the sizes are bounded") {
  // A name that is not UTF-8 (a \xff byte inside a JSON string).
  std::string text = SerializeMonitorReport(Sample());
  const size_t at = text.find("\"age\"");
  REQUIRE(at != std::string::npos);
  text[at + 1] = '\xff';
  CHECK_FALSE(ParseMonitorReport(text).ok());

  json j = json::parse(SerializeMonitorReport(Sample()));
  json w = j["windows"][1];
  j["windows"] = json::array();
  for (size_t i = 0; i <= kMaxWindowsPerReport; ++i) j["windows"].push_back(w);
  CHECK(ErrorOf(j) == "monitoring.windows has more than 64 entries");
  j["windows"].erase(0);
  CHECK(ParseMonitorReport(j.dump()).ok());

  json many = json::array();
  for (size_t i = 0; i <= kMaxFeatures; ++i)
    many.push_back({{"name", "f" + std::to_string(i)},
                    {"n", 0},
                    {"missing", 0},
                    {"out_of_range", 0},
                    {"type_errors", 0},
                    {"unknown_category", 0},
                    {"counts", json::array()}});
  j["windows"] = json::array({w});
  j["windows"][0]["features"] = many;
  CHECK(ErrorOf(j) == "monitoring.windows[0].features has more than 4096 entries");
}

}  // namespace
}  // namespace modelreg
