// Unit tests for registry/core/request_features.h and schema_check.h: each
// request format model servers take is read into rows in the schema's
// order, answers into one output per row, and the schema check names the
// first value that breaks a rule the way the agent's 400 answer says it.
#include "core/request_features.h"

#include <catch2/catch.hpp>

#include "core/schema_check.h"

namespace modelreg {
namespace {

const std::vector<std::string> kNames = {"age", "city", "member"};

InputSchema Schema() {
  InputSchema s;
  s.columns = {SchemaColumn{"age", ColumnType::kNumeric, 18.0, 90.0, {}, true},
               SchemaColumn{"city", ColumnType::kCategorical, std::nullopt, std::nullopt, {"paris", "rome"}, true},
               SchemaColumn{"member", ColumnType::kBoolean, std::nullopt, std::nullopt, {}, false}};
  return s;
}

// A row as text: numbers, "s" for strings, - for missing, ? for other.
std::string Show(const Rows& r, size_t row) {
  std::string s;
  for (size_t i = 0; i < r.width; ++i) {
    const Cell& c = r.at(row, i);
    if (i) s += ",";
    switch (c.kind) {
      case Cell::kMissing:
        s += "-";
        break;
      case Cell::kNumber:
        s += CategoryText(c.number);
        break;
      case Cell::kBool:
        s += c.number != 0 ? "T" : "F";
        break;
      case Cell::kString:
        s += std::string(r.Text(c));
        break;
      case Cell::kOther:
        s += "?";
        break;
    }
  }
  return s;
}

Rows Read(const std::string& body, BodyFormat want, size_t rows) {
  Rows r = ParseRequestRows(body, kNames);
  INFO(body);
  REQUIRE(r.format == want);
  REQUIRE(r.rows == rows);
  REQUIRE(r.cells.size() == rows * 3);
  return r;
}

TEST_CASE("request features: every request format is read in the schema's order") {
  Rows r = Read(R"({"features": [[30, "paris", true], [41.5, "rome", null]]})", BodyFormat::kFeatures, 2);
  CHECK(Show(r, 0) == "30,paris,T");
  CHECK(Show(r, 1) == "41.5,rome,-");
  r = Read(R"({"features": [30, "paris", false]})", BodyFormat::kFeatures, 1);  // one flat row
  CHECK(Show(r, 0) == "30,paris,F");
  r = Read(R"({"instances": [{"city": "rome", "age": 20, "zip": 1}, [1, 2, 3]]})", BodyFormat::kInstances, 2);
  CHECK(Show(r, 0) == "20,rome,-");
  CHECK(Show(r, 1) == "1,2,3");
  r = Read(R"({"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}]})",
           BodyFormat::kOipV2, 2);
  CHECK(Show(r, 1) == "4,5,6");
  r = Read(R"({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [[7, 8, 9]]}]})",
           BodyFormat::kOipV2, 1);
  CHECK(Show(r, 0) == "7,8,9");
  r = Read(R"({"inputs": [{"name": "city", "shape": [2], "datatype": "BYTES", "data": ["paris", "rome"]},
                          {"name": "age", "shape": [2, 1], "datatype": "INT64", "data": [[20], [30]]}]})",
           BodyFormat::kOipV2, 2);
  CHECK(Show(r, 0) == "20,paris,-");
  CHECK(Show(r, 1) == "30,rome,-");
  r = Read(R"({"inputs": {"age": [20, 21, 22], "member": [true]}})", BodyFormat::kColumnar, 3);
  CHECK(Show(r, 0) == "20,-,T");
  CHECK(Show(r, 2) == "22,-,-");
  r = Read(R"({"inputs": [[1, "a", true]]})", BodyFormat::kInstances, 1);  // MLflow tensor rows
  CHECK(Show(r, 0) == "1,a,T");
  r = Read(R"({"dataframe_split": {"columns": ["member", "age", "other"], "data": [[true, 33, 0], [false, 1]]}})",
           BodyFormat::kDataframeSplit, 2);
  CHECK(Show(r, 0) == "33,-,T");
  REQUIRE(r.bad_width.size() == 1);
  CHECK(r.bad_width[0].row == 1);
  CHECK(r.bad_width[0].width == 2);
  CHECK(r.bad_width[0].expected == 3);
  r = Read(R"({"dataframe_records": [{"age": 50, "city": {"a": 1}}]})", BodyFormat::kDataframeRecords, 1);
  CHECK(Show(r, 0) == "50,?,-");
}

TEST_CASE("request features: rows of the wrong width are marked, not placed") {
  Rows r = Read(R"({"features": [[1, 2], [1, 2, 3], [1, 2, 3, 4]]})", BodyFormat::kFeatures, 3);
  REQUIRE(r.bad_width.size() == 2);
  CHECK(r.bad_width[0].row == 0);
  CHECK(r.bad_width[0].width == 2);
  CHECK(r.bad_width[1].row == 2);
  CHECK(Show(r, 0) == "-,-,-");
  CHECK(Show(r, 1) == "1,2,3");
}

TEST_CASE("request features: what is not read is unreadable, never an exception") {
  for (const std::string body : {"", "not json", "[1, 2]", "42", R"({"feature": [[1, 2, 3]]})", R"({"features": 3})",
                                 R"({"dataframe_records": [1]})", R"({"inputs": [{"name": "age", "data": 3}]})",
                                 "{\"features\": [[1,2,3]]", "{\"features\": [\"\xff\xfe\", 1, 2]}"}) {
    INFO(body);
    const Rows r = ParseRequestRows(body, kNames);
    CHECK_FALSE(r.readable());
    CHECK(r.rows == 0);
    CHECK(r.cells.empty());
  }
  // Nested deeper than kMaxBodyDepth: not parsed.
  std::string deep = "{\"features\": " + std::string(70, '[') + std::string(70, ']') + "}";
  CHECK_FALSE(ParseRequestRows(deep, kNames).readable());
  // A body of many empty rows does not cost rows x width cells past the bound.
  std::string many = "{\"dataframe_records\": [";
  for (size_t i = 0; i < kMaxCells / 3 + 10; ++i) many += i ? ",{}" : "{}";
  many += "]}";
  CHECK_FALSE(ParseRequestRows(many, kNames).readable());
}

TEST_CASE("request features: without a schema, rows are counted") {
  const Rows r = ParseRequestRows(R"({"instances": [[1, 2], [3], 4]})", {});
  CHECK(r.readable());
  CHECK(r.rows == 3);
  CHECK(r.cells.empty());
  CHECK(r.bad_width.empty());
}

TEST_CASE("response outputs: one scalar per row, the positive class of a pair") {
  auto outs = [](const std::string& body) {
    const Rows r = ParseResponseOutputs(body);
    std::vector<std::string> v;
    for (size_t i = 0; i < r.rows; ++i) v.push_back(Show(r, i));
    return v;
  };
  using V = std::vector<std::string>;
  CHECK(outs(R"({"predictions": [0.25, [0.1, 0.9], "yes", null, true]})") == V{"0.25", "0.9", "yes", "-", "T"});
  CHECK(outs(R"({"probabilities": [[0.7, 0.3]]})") == V{"0.3"});
  CHECK(outs(R"([1, 0, 1])") == V{"1", "0", "1"});
  CHECK(outs(R"({"outputs": [{"name": "p", "shape": [2, 2], "datatype": "FP32", "data": [0.1, 0.9, 0.6, 0.4]}]})") ==
        V{"0.9", "0.4"});
  CHECK(outs(R"({"outputs": [{"name": "p", "shape": [3], "datatype": "INT64", "data": [1, 2, 3]}]})") ==
        V{"1", "2", "3"});
  CHECK(outs(R"({"outputs": [0.5]})") == V{"0.5"});
  CHECK(outs(R"({"predictions": [{"label": 1}, []]})") == V{"?", "?"});
  CHECK_FALSE(ParseResponseOutputs("the tag").readable());
  CHECK_FALSE(ParseResponseOutputs(R"({"result": [1]})").readable());
}

TEST_CASE("schema check: the first violation names the feature, the rule and the row") {
  const InputSchema s = Schema();
  auto first = [&](const std::string& body) {
    const Rows r = ParseRequestRows(body, kNames);
    REQUIRE(r.readable());
    return FirstViolation(s, r);
  };
  CHECK_FALSE(first(R"({"features": [[30, "paris", true], [90, "rome", null], [97, "rome", 1]]})").has_value());
  auto v = first(R"({"features": [[30, "paris", true], [250, "rome", false]]})");
  REQUIRE(v);
  CHECK(v->feature == "age");
  CHECK(v->rule == SchemaRule::kRange);
  CHECK(SchemaRuleName(v->rule) == std::string("range"));
  CHECK(v->row == 1);
  CHECK(v->message == "feature \"age\" (row 1): 250 is above the reference range [18, 90] by more than the 10% margin");
  v = first(R"({"features": [[10, "paris", true]]})");
  REQUIRE(v);
  CHECK(v->message == "feature \"age\" (row 0): 10 is below the reference range [18, 90] by more than the 10% margin");
  v = first(R"({"instances": [{"city": "paris"}]})");
  REQUIRE(v);
  CHECK(v->rule == SchemaRule::kMissing);
  CHECK(v->message == "feature \"age\" (row 0) is missing");
  v = first(R"({"features": [["30", "paris", true]]})");
  REQUIRE(v);
  CHECK(v->rule == SchemaRule::kType);
  CHECK(v->message == "feature \"age\" (row 0): \"30\" is a string, not a number");
  v = first(R"({"features": [[30, "oslo", true]]})");
  REQUIRE(v);
  CHECK(v->feature == "city");
  CHECK(v->rule == SchemaRule::kCategory);
  CHECK(v->message == "feature \"city\" (row 0): \"oslo\" is not one of the reference categories");
  v = first(R"({"features": [[30, "rome", 2]]})");
  REQUIRE(v);
  CHECK(v->feature == "member");
  CHECK(v->rule == SchemaRule::kType);
  v = first(R"({"features": [[30, "rome"]]})");
  REQUIRE(v);
  CHECK(v->feature == "");
  CHECK(v->rule == SchemaRule::kWidth);
  CHECK(v->message == "row 0 has 2 values, not 3");
}

TEST_CASE("schema check: open bounds and categories, an optional column, integers as categories") {
  InputSchema s;
  s.margin = 0;
  s.columns = {SchemaColumn{"x", ColumnType::kNumeric, std::nullopt, 1.0, {}, true},
               SchemaColumn{"zip", ColumnType::kCategorical, std::nullopt, std::nullopt, {"10001"}, false},
               SchemaColumn{"any", ColumnType::kCategorical, std::nullopt, std::nullopt, {}, true}};
  const std::vector<std::string> names = {"x", "zip", "any"};
  auto first = [&](const std::string& body) { return FirstViolation(s, ParseRequestRows(body, names)); };
  CHECK_FALSE(first(R"({"features": [[-1e300, 10001, "whatever"], [1, null, 3]]})").has_value());
  auto v = first(R"({"features": [[1.5, "10001", "a"]]})");
  REQUIRE(v);
  CHECK(v->message == "feature \"x\" (row 0): 1.5 is above the reference range [-inf, 1] by more than the 0% margin");
  v = first(R"({"features": [[0, 10002.5, "a"]]})");
  REQUIRE(v);
  CHECK(v->rule == SchemaRule::kCategory);
  v = first(R"({"features": [[0, null, [1]]]})");
  REQUIRE(v);
  CHECK(v->message == "feature \"any\" (row 0): an array or object, not a category (a string)");
}

}  // namespace
}  // namespace modelreg
