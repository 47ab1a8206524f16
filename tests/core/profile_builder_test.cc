// Unit tests for registry/core/profile_builder.h: type inference, quantile
// bins, top-K categories, CSV quoting, JSON Lines, and errors naming lines.
#include "core/profile_builder.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>

namespace modelreg {
namespace {

Profile Build(const std::string& text, ProfileOptions o = {}, const std::string& name = "t.csv") {
  auto p = BuildProfile(text, name, o);
  INFO(p.status().message());
  REQUIRE(p.ok());
  // Whatever the builder makes, the strict parser takes, unchanged.
  const std::string s = SerializeProfile(*p);
  auto back = ParseProfile(s);
  INFO(back.status().message());
  REQUIRE(back.ok());
  CHECK(SerializeProfile(*back) == s);
  return *p;
}

std::string Error(const std::string& text, ProfileOptions o = {}, const std::string& name = "t.csv") {
  auto p = BuildProfile(text, name, o);
  REQUIRE_FALSE(p.ok());
  return p.status().message();
}

const ColumnProfile& Col(const Profile& p, const std::string& name) {
  for (const auto& c : p.columns)
    if (c.name == name) return c;
  FAIL("no column " << name);
  return p.columns.front();
}

TEST_CASE("profile builder: types are inferred per column") {
  Profile p = Build(
      "n,b,c,mixed,empty,zo\n"
      "1.5,true,a,1,,0\n"
      "-2,False,b,x,,1\n"
      "NaN,TRUE,a,1.0,NaN,1\n"
      "3e2,,c,2,,0\n");
  CHECK(p.rows == 4);
  REQUIRE(p.columns.size() == 6);
  CHECK(Col(p, "n").type == ColumnType::kNumeric);
  CHECK(Col(p, "n").missing == 1);
  CHECK(Col(p, "n").min == -2);
  CHECK(Col(p, "n").max == 300);
  CHECK(Col(p, "b").type == ColumnType::kBoolean);
  CHECK(Col(p, "b").missing == 1);
  CHECK(Col(p, "b").fractions == std::vector<double>{1.0 / 3, 2.0 / 3});
  CHECK(Col(p, "c").type == ColumnType::kCategorical);
  CHECK(Col(p, "c").categories == std::vector<std::string>{"a", "b", "c"});
  // Numbers in a text column count by their shortest form: "1" and "1.0" are one.
  const ColumnProfile& mixed = Col(p, "mixed");
  CHECK(mixed.type == ColumnType::kCategorical);
  CHECK(mixed.categories == std::vector<std::string>{"1", "2", "x"});
  CHECK(mixed.fractions[0] == 0.5);
  // Every value missing: numeric without bins.
  CHECK(Col(p, "empty").type == ColumnType::kNumeric);
  CHECK(Col(p, "empty").missing == 4);
  CHECK(Col(p, "empty").fractions == std::vector<double>{0});
  CHECK(Col(p, "zo").type == ColumnType::kNumeric);  // 0/1 stay numeric
  // The schema follows the columns.
  REQUIRE(p.schema.columns.size() == 6);
  CHECK(p.schema.columns[0].name == "n");
  CHECK(p.schema.columns[0].max == 300);
  CHECK(p.schema.columns[2].categories == std::vector<std::string>{"a", "b", "c"});  // no "other" share
}

TEST_CASE("profile builder: 20 quantile bins of equal share, ties merged") {
  std::string csv = "x,const,skew\n";
  for (int i = 0; i < 1000; ++i)
    csv += std::to_string((i * 7919) % 1000) + ",5," + std::to_string(i < 700 ? 0 : i) + "\n";
  Profile p = Build(csv);
  const ColumnProfile& x = Col(p, "x");
  REQUIRE(x.edges.size() == 19);
  CHECK(x.edges.front() == 50);
  CHECK(x.edges.back() == 950);
  for (double f : x.fractions) CHECK(f == Approx(0.05));
  CHECK(std::is_sorted(x.edges.begin(), x.edges.end()));
  const ColumnProfile& c = Col(p, "const");
  CHECK(c.edges == std::vector<double>{5});
  CHECK(c.fractions == std::vector<double>{0, 1});
  const ColumnProfile& s = Col(p, "skew");
  CHECK(s.edges.front() == 0);
  CHECK(s.edges.size() == 7);  // ranks 50..650 are all 0: one edge; then 700, 750, ... 950
  CHECK(s.fractions[1] == Approx(0.7));
  ProfileOptions five;
  five.bins = 5;
  CHECK(Col(Build(csv, five), "x").edges == std::vector<double>{200, 400, 600, 800});
}

TEST_CASE("profile builder: top-K categories, ties by value, the rest in other") {
  std::string csv = "city\n";
  for (const char* c : {"b", "a", "c", "a", "b", "d", "a", "e"}) csv += std::string(c) + "\n";
  ProfileOptions o;
  o.top_k = 2;
  const Profile p = Build(csv, o);
  const ColumnProfile& c = Col(p, "city");
  CHECK(c.categories == std::vector<std::string>{"a", "b"});
  CHECK(c.fractions == std::vector<double>{3.0 / 8, 2.0 / 8, 3.0 / 8});
  // With an "other" share the schema accepts any value.
  CHECK(Build(csv, o).schema.columns[0].categories.empty());
}

TEST_CASE("profile builder: RFC 4180 quoting and CRLF") {
  Profile p = Build(
      "\"a\",\"b, with comma\"\r\n"
      "\"x \"\"quoted\"\"\",1\r\n"
      "\"two\nlines\",2\r\n"
      "plain,\"3\"\r\n");
  CHECK(p.rows == 3);
  CHECK(p.columns[1].name == "b, with comma");
  CHECK(p.columns[1].type == ColumnType::kNumeric);
  CHECK(p.columns[1].max == 3);
  const auto& a = p.columns[0].categories;
  CHECK(std::find(a.begin(), a.end(), "x \"quoted\"") != a.end());
  CHECK(std::find(a.begin(), a.end(), "two\nlines") != a.end());
}

TEST_CASE("profile builder: target and output columns") {
  const std::string csv = "age,label,score\n30,1,0.9\n40,0,0.2\n50,1,0.7\n";
  ProfileOptions o;
  o.dataset = "train";
  o.target = "label";
  o.output_column = "score";
  Profile p = Build(csv, o);
  CHECK(p.dataset == "train");
  REQUIRE(p.columns.size() == 1);
  CHECK(p.columns[0].name == "age");
  REQUIRE(p.output.has_value());
  CHECK(p.output->name == "score");
  CHECK(p.output->max == 0.9);
  REQUIRE(p.schema.columns.size() == 1);
  o.target = "lable";
  CHECK(Error(csv, o) == "--target \"lable\": t.csv has no such column (it has age, label, score)");
  o.target = "label";
  o.output_column = "label";
  CHECK(Error(csv, o) == "--target and --output-column name the same column \"label\"");
}

TEST_CASE("profile builder: JSON Lines") {
  const std::string jsonl =
      "{\"age\": 30, \"city\": \"Paris\", \"vip\": true}\n"
      "\n"
      "{\"age\": null, \"city\": \"Lyon\", \"vip\": false}\n"
      "{\"city\": \"Paris\", \"age\": 41.5}\n";
  Profile p = Build(jsonl, {}, "t.jsonl");
  CHECK(p.rows == 3);
  REQUIRE(p.columns.size() == 3);
  CHECK(p.columns[0].name == "age");  // the first line's key order
  CHECK(p.columns[0].missing == 1);
  CHECK(p.columns[0].max == 41.5);
  CHECK(p.columns[1].type == ColumnType::kCategorical);
  CHECK(p.columns[2].type == ColumnType::kBoolean);
  CHECK(p.columns[2].missing == 1);
  // Detected by content when the name says nothing.
  CHECK(Build(jsonl, {}, "data.txt").columns.size() == 3);
  CHECK(Error("{\"a\":1}\n{\"a\":[1]}\n", {}, "t.jsonl") == "t.jsonl:2: \"a\" is an array: want a flat object");
  CHECK(Error("{\"a\":1}\n{\"b\":1}\n", {}, "t.jsonl") == "t.jsonl:2: key \"b\" is not among the first line's keys");
  CHECK(Error("{\"a\":1}\n[1]\n", {}, "t.jsonl") == "t.jsonl:2: not a JSON object");
}

TEST_CASE("profile builder: errors name the file and line") {
  CHECK(Error("a,b\n1,2\n3\n") == "t.csv:3: 1 field, the header has 2");
  CHECK(Error("a,b\n1,2\n\n3,4,5\n") == "t.csv:4: 3 fields, the header has 2");
  CHECK(Error("a,b\n1,\"2\n") == "t.csv:2: a quoted field is not closed");
  CHECK(Error("a,b\n1,\"2\"x\n").rfind("t.csv:2: a character follows a closing quote", 0) == 0);
  CHECK(Error("a,b\n1,2\nx\xff,3\n") == "t.csv:3: bytes that are not UTF-8");
  CHECK(Error("a,a\n1,2\n") == "t.csv:1: the header names column \"a\" twice");
  CHECK(Error("a,,c\n1,2,3\n") == "t.csv:1: column 2 of the header has no name");
  CHECK(Error("") == "t.csv is empty: want a header row of column names");
  ProfileOptions o;
  o.bins = 1;
  CHECK(Error("a\n1\n", o) == "bins must be 2 to 1000");
}

TEST_CASE("profile builder: two threads give the profile one thread gives") {
  std::string csv = "x,y,c\n";
  for (int i = 0; i < 200000; ++i)
    csv += std::to_string((i * 7919) % 100003) + "," + std::to_string(i % 17 == 0 ? -1.5 : i * 0.25) + "," +
           (i < 150000 ? "1" : "word") + "\n";
  ProfileOptions one, two;
  one.threads = 1;
  two.threads = 2;
  Profile a = Build(csv, one), b = Build(csv, two);
  CHECK(SerializeProfile(a) == SerializeProfile(b));
  CHECK(a.rows == 200000);
  // "c" is numeric in the first half and text in the second: the halves merge as text.
  CHECK(Col(b, "c").type == ColumnType::kCategorical);
  CHECK(Col(b, "c").categories == std::vector<std::string>{"1", "word"});
}

}  // namespace
}  // namespace modelreg

namespace modelreg {
namespace {

TEST_CASE("profile builder: on a large column the edges are exactly the values of rank i*n/bins") {
  // Large enough for the sampled brackets (ValuesOfRank), with ties.
  std::vector<double> values;
  std::string csv = "x,t\n";
  for (int i = 0; i < 300000; ++i) {
    const double x = ((i * 7919LL) % 300007) * 0.5 - 1000;
    values.push_back(x);
    csv += std::to_string(x) + "," + std::to_string(i % 3 == 0 ? 0 : i % 1000) + "\n";
  }
  std::sort(values.begin(), values.end());
  std::vector<double> want;
  for (int i = 1; i < 20; ++i) want.push_back(values[static_cast<size_t>(300000LL * i / 20)]);
  ProfileOptions one;
  one.threads = 1;
  Profile p = Build(csv, one);
  CHECK(p.columns[0].edges == want);
  for (double f : p.columns[0].fractions) CHECK(f == Approx(0.05));
  CHECK(p.columns[1].edges.front() == 0);
  CHECK(p.columns[1].fractions[1] == Approx(1.0 / 3 + 0.05 / 3).epsilon(0.01));
}

}  // namespace
}  // namespace modelreg
