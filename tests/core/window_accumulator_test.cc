// Unit tests for registry/core/window_accumulator.h: requests checked and
// binned with the version's profile, per arm, into wall-clock-aligned
// windows that come out once they have ended, with counts that add up the
// way the registry's parser (core/monitor_window.h) insists.
#include "core/window_accumulator.h"

#include <catch2/catch.hpp>
#include <thread>

#include "support/profiles.h"

namespace modelreg {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

std::shared_ptr<const Profile> MakeProfile() {
  using testing::BooleanColumn, testing::CategoricalColumn, testing::NumericColumn;
  auto p = std::make_shared<Profile>();
  p->dataset = "train";
  p->rows = 100;
  p->columns = {NumericColumn("age", 100, 18, 90, {30, 50, 70}, {0.25, 0.25, 0.25, 0.25}),
                CategoricalColumn("city", 100, {"paris", "rome"}, {0.5, 0.5, 0}),
                BooleanColumn("member", 100, {0.5, 0.5})};
  p->output = NumericColumn("score", 100, 0, 1, {0.5}, {0.5, 0.5});
  p->schema.columns = {
      SchemaColumn{"age", ColumnType::kNumeric, 18.0, 90.0, {}, true},
      SchemaColumn{"city", ColumnType::kCategorical, std::nullopt, std::nullopt, {"paris", "rome"}, true},
      SchemaColumn{"member", ColumnType::kBoolean, std::nullopt, std::nullopt, {}, false}};
  return p;
}

// One request, evaluated and added at `now`.
void Send(WindowAccumulator& acc, const std::string& body, int64_t now, const std::string& arm = "", bool check = true,
          std::optional<Violation>* first = nullptr) {
  RequestTally t;
  acc.Evaluate(ParseRequestRows(body, acc.columns()), check, &t);
  if (first) *first = t.first;
  acc.Add(arm, t, false, now);
}

std::vector<MonitorWindow> Roll(WindowAccumulator& acc, int64_t now) {
  std::vector<MonitorWindow> out;
  acc.Roll(now, &out);
  return out;
}

TEST_CASE("window accumulator: values are checked and binned, the window comes out once it ended") {
  WindowAccumulator acc(4, kDigest, MakeProfile(), 60'000);
  CHECK(acc.reference());
  CHECK(acc.columns() == std::vector<std::string>{"age", "city", "member"});
  const int64_t t0 = 1'800'000'030'000;  // 30 s into a minute
  std::optional<Violation> first;
  Send(acc, R"({"features": [[25, "paris", true], [55, "oslo", false], [99, "rome", null]]})", t0, "", true, &first);
  REQUIRE(first);
  CHECK(first->feature == "city");
  CHECK(first->rule == SchemaRule::kCategory);
  Send(acc, R"({"instances": [{"age": "x", "city": "rome"}, {"city": 3}]})", t0 + 1000);
  Send(acc, "not json", t0 + 2000);
  Send(acc, R"({"features": [[1, 2]]})", t0 + 3000);  // width
  RequestTally unread;
  WindowAccumulator::Unreadable(&unread);
  acc.Add("", unread, false, t0 + 4000);
  acc.AddOutputs("", ParseResponseOutputs(R"({"predictions": [[0.9, 0.1], 0.7, "x", null]})"), t0 + 5000);

  CHECK(Roll(acc, t0 + 29'999).empty());  // the window ends at t0 + 30 s
  CHECK(acc.open());
  auto ws = Roll(acc, t0 + 30'000);
  CHECK_FALSE(acc.open());
  REQUIRE(ws.size() == 1);
  const MonitorWindow& w = ws[0];
  CHECK(w.version == 4);
  CHECK(w.digest == kDigest);
  CHECK(w.arm == "");
  CHECK(w.start_ms == 1'800'000'000'000);
  CHECK(w.end_ms == 1'800'000'060'000);
  CHECK(w.reference);
  CHECK(w.requests == 5);
  CHECK(w.unreadable == 2);
  CHECK(w.rows == 6);
  // Row 2 (99 > 90 + 7.2: range), row 1 (oslo), both instances (age
  // type, age missing), the width row: 5 rows broke a rule.
  CHECK(w.violations == 5);
  CHECK(w.rejected == 0);
  REQUIRE(w.features.size() == 3);
  const FeatureWindow& age = w.features[0];
  CHECK(age.name == "age");
  CHECK(age.n == 3);
  CHECK(age.missing == 1);
  CHECK(age.type_errors == 1);
  CHECK(age.out_of_range == 1);
  CHECK(age.counts == std::vector<int64_t>{1, 0, 1, 1});
  const FeatureWindow& city = w.features[1];
  CHECK(city.n == 5);  // 3 is taken as the category "3": other
  CHECK(city.unknown_category == 2);
  CHECK(city.counts == std::vector<int64_t>{1, 2, 2});
  const FeatureWindow& member = w.features[2];
  CHECK(member.n == 2);
  CHECK(member.missing == 3);  // optional: missing is counted, not a violation
  CHECK(member.counts == std::vector<int64_t>{1, 1});
  REQUIRE(w.output);
  CHECK(w.output->name == "score");
  CHECK(w.output->n == 2);
  CHECK(w.output->type_errors == 1);
  CHECK(w.output->missing == 1);
  CHECK(w.output->counts == std::vector<int64_t>{1, 1});
  // What the registry parses: the counts add up.
  MonitorReport r{"0123456789abcdef", ws, 0};
  auto parsed = ParseMonitorReport(SerializeMonitorReport(r));
  INFO(parsed.status().message());
  CHECK(parsed.ok());
}

TEST_CASE("window accumulator: --validate off counts no violations, and arms have windows of their own") {
  WindowAccumulator acc(4, kDigest, MakeProfile(), 1000);
  std::optional<Violation> first;
  Send(acc, R"({"features": [[500, "oslo", 7]]})", 10'500, "baseline", false, &first);
  CHECK_FALSE(first);
  Send(acc, R"({"features": [[20, "rome", true]]})", 10'600, "candidate");
  auto ws = Roll(acc, 11'000);
  REQUIRE(ws.size() == 2);
  CHECK(ws[0].arm == "baseline");
  CHECK(ws[0].violations == 0);
  CHECK(ws[0].features[0].out_of_range == 1);  // still counted for drift
  CHECK(ws[1].arm == "candidate");
  CHECK(ws[1].start_ms == 10'000);
  CHECK(ws[1].end_ms == 11'000);
  CHECK_FALSE(ws[1].output);  // no answers read
}

TEST_CASE("window accumulator: a request after the window ended starts the next, nothing seen is not sent") {
  WindowAccumulator acc(4, kDigest, MakeProfile(), 1000);
  Send(acc, R"({"features": [[20, "rome", true]]})", 1500);
  Send(acc, R"({"features": [[20, "rome", true]]})", 3200);  // no Roll in between
  auto ws = Roll(acc, 3500);
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].start_ms == 1000);
  ws = Roll(acc, 4000);
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].start_ms == 3000);
  CHECK(Roll(acc, 10'000).empty());
}

TEST_CASE("window accumulator: a version without a profile counts requests and rows only") {
  WindowAccumulator acc(3, kDigest, nullptr, 1000);
  CHECK_FALSE(acc.reference());
  CHECK(acc.columns().empty());
  Send(acc, R"({"instances": [[1, 2], [3, 4]]})", 100);
  Send(acc, "{}", 200);
  acc.AddOutputs("", ParseResponseOutputs("[1, 2]"), 300);
  auto ws = Roll(acc, 1000);
  REQUIRE(ws.size() == 1);
  CHECK_FALSE(ws[0].reference);
  CHECK(ws[0].requests == 2);
  CHECK(ws[0].rows == 2);
  CHECK(ws[0].unreadable == 1);
  CHECK(ws[0].features.empty());
  CHECK_FALSE(ws[0].output);
  CHECK(ParseMonitorReport(SerializeMonitorReport(MonitorReport{"ab", ws, 0})).ok());
}

TEST_CASE("window accumulator: a profile with a schema only checks, with no reference counts") {
  auto p = std::make_shared<Profile>();
  p->schema.columns = {SchemaColumn{"x", ColumnType::kNumeric, 0.0, 1.0, {}, true}};
  WindowAccumulator acc(3, kDigest, p, 1000);
  CHECK_FALSE(acc.reference());
  std::optional<Violation> first;
  Send(acc, R"({"features": [[5]]})", 100, "", true, &first);
  REQUIRE(first);
  CHECK(first->rule == SchemaRule::kRange);
  auto ws = Roll(acc, 1000);
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].violations == 1);
  REQUIRE(ws[0].features.size() == 1);
  CHECK(ws[0].features[0].n == 1);
  CHECK(ws[0].features[0].counts.empty());
  CHECK(ParseMonitorReport(SerializeMonitorReport(MonitorReport{"ab", ws, 0})).ok());
}

TEST_CASE("window accumulator: threads adding at once lose nothing") {
  WindowAccumulator acc(4, kDigest, MakeProfile(), 60'000);
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      RequestTally t;
      const Rows rows = ParseRequestRows(R"({"features": [[20, "rome", true], [40, "paris", false]]})", acc.columns());
      for (int k = 0; k < 1000; ++k) {
        acc.Evaluate(rows, true, &t);
        acc.Add("", t, false, 30'000);
      }
    });
  for (auto& t : ts) t.join();
  auto ws = Roll(acc, 60'000);
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].requests == 4000);
  CHECK(ws[0].rows == 8000);
  CHECK(ws[0].features[0].counts == std::vector<int64_t>{4000, 4000, 0, 0});
}

}  // namespace
}  // namespace modelreg
