// Unit tests for registry/core/profile.h: the bin rule, the deterministic
// serialization and the strict parser of the reference profile and of a
// --schema file.
#include "core/profile.h"

#include <catch2/catch.hpp>

#include "support/profiles.h"

namespace modelreg {
namespace {

ColumnProfile Numeric() {
  return testing::NumericColumn("age", 10, 18, 90, {30, 45.5, 60}, {0.25, 0.25, 0.375, 0.125}, /*missing=*/2);
}

ColumnProfile Categorical() { return testing::CategoricalColumn("city", 10, {"Paris", "Lyon"}, {0.5, 0.3, 0.2}); }

Profile Sample() {
  Profile p;
  p.dataset = "train";
  p.rows = 10;
  p.columns = {Numeric(), Categorical(), testing::BooleanColumn("vip", 10, {0.6, 0.4}, /*missing=*/1)};
  ColumnProfile out = Numeric();
  out.name = "score";
  out.missing = 0;
  p.output = out;
  p.schema = SchemaFromProfile(p.columns);
  return p;
}

std::string ParseError(const std::string& text) {
  auto p = ParseProfile(text);
  REQUIRE_FALSE(p.ok());
  return p.status().message();
}

// The sample's serialization with `from` replaced by `to`.
std::string Edited(const std::string& from, const std::string& to) {
  std::string s = SerializeProfile(Sample());
  auto at = s.find(from);
  INFO(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

TEST_CASE("profile: numeric bins follow upper_bound over the edges") {
  ColumnProfile c = Numeric();
  CHECK(c.Bins() == 4);
  CHECK(c.NumericBin(-1e9) == 0);
  CHECK(c.NumericBin(29.99) == 0);
  CHECK(c.NumericBin(30) == 1);  // an edge belongs to the bin above it
  CHECK(c.NumericBin(45.5) == 2);
  CHECK(c.NumericBin(59) == 2);
  CHECK(c.NumericBin(60) == 3);
  CHECK(c.NumericBin(1e9) == 3);
  ColumnProfile none;
  CHECK(none.Bins() == 1);
  CHECK(none.NumericBin(5) == 0);
}

TEST_CASE("profile: boolean and categorical bins") {
  ColumnProfile b;
  b.type = ColumnType::kBoolean;
  CHECK(b.Bins() == 2);
  CHECK(b.NumericBin(0) == 0);
  CHECK(b.NumericBin(1) == 1);
  CHECK(b.NumericBin(-3) == 1);
  CHECK(b.CategoryBin("false") == 0);
  CHECK(b.CategoryBin("true") == 1);
  CHECK(b.CategoryBin("yes") == 2);
  ColumnProfile c = Categorical();
  CHECK(c.Bins() == 3);
  CHECK(c.CategoryBin("Paris") == 0);
  CHECK(c.CategoryBin("Lyon") == 1);
  CHECK(c.CategoryBin("Nice") == 2);
  CHECK(c.CategoryBin("paris") == 2);
  CHECK(c.NumericBin(1) == 2);
}

TEST_CASE("profile: column type names round-trip, unknown ones are refused") {
  for (ColumnType t : {ColumnType::kNumeric, ColumnType::kCategorical, ColumnType::kBoolean}) {
    auto p = ParseColumnType(ColumnTypeName(t));
    REQUIRE(p.ok());
    CHECK(*p == t);
  }
  auto bad = ParseColumnType("float");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("'float'") != std::string::npos);
}

TEST_CASE("profile: serialization is deterministic and round-trips") {
  const std::string s = SerializeProfile(Sample());
  CHECK(s == SerializeProfile(Sample()));
  CHECK(s.find(' ') == std::string::npos);
  CHECK(s.rfind("{\"columns\":", 0) == 0);  // sorted keys
  auto p = ParseProfile(s);
  INFO(s);
  REQUIRE(p.ok());
  CHECK(SerializeProfile(*p) == s);
  CHECK(p->dataset == "train");
  CHECK(p->rows == 10);
  REQUIRE(p->columns.size() == 3);
  CHECK(p->columns[0].edges == std::vector<double>{30, 45.5, 60});
  CHECK(p->columns[1].categories == std::vector<std::string>{"Paris", "Lyon"});
  CHECK(p->columns[2].type == ColumnType::kBoolean);
  REQUIRE(p->output.has_value());
  CHECK(p->output->name == "score");
  REQUIRE(p->schema.columns.size() == 3);
  CHECK(p->schema.columns[0].min == 18);
  CHECK(p->schema.columns[0].max == 90);
  CHECK(p->schema.margin == 0.1);
}

TEST_CASE("profile: a schema-only profile (no columns) round-trips") {
  Profile p;
  p.dataset = "";
  p.schema.columns.push_back({"x", ColumnType::kNumeric, 0.0, 1.0, {}, false});
  auto back = ParseProfile(SerializeProfile(p));
  REQUIRE(back.ok());
  CHECK(back->columns.empty());
  REQUIRE(back->schema.columns.size() == 1);
  CHECK_FALSE(back->schema.columns[0].required);
  CHECK_FALSE(back->output.has_value());
}

TEST_CASE("profile: the parser is strict and names the field") {
  CHECK(ParseError("[]") == "profile is not a JSON object");
  CHECK(ParseError("{\"format\":") == "profile is not a JSON object");
  CHECK(ParseError(Edited("modelreg.profile.v1", "modelreg.profile.v9")).find("profile.format") != std::string::npos);
  CHECK(ParseError(Edited("\"dataset\":", "\"datset\":")) == "profile has unknown field 'datset'");
  CHECK(ParseError(Edited("\"rows\":10,", "")) == "profile.rows is required");
  CHECK(ParseError(Edited("\"fractions\":[0.25,0.25,0.375,0.125]", "\"fractions\":[0.25,0.25,0.5]"))
            .find("has 3 entries, want 4") != std::string::npos);
  CHECK(ParseError(Edited("\"fractions\":[0.25,0.25,0.375,0.125]", "\"fractions\":[0.25,0.25,0.375,0.25]"))
            .find("must sum to 1") != std::string::npos);
  CHECK(ParseError(Edited("\"fractions\":[0.25,0.25,0.375,0.125]", "\"fractions\":[1.5,-0.25,0.375,-0.625]"))
            .find("in [0, 1]") != std::string::npos);
  CHECK(ParseError(Edited("[30.0,45.5,60.0]", "[30.0,30.0,60.0]")).find("strictly increasing") != std::string::npos);
  CHECK(ParseError(Edited("[30.0,45.5,60.0]", "[30.0,1e999,60.0]")) == "profile is not a JSON object");  // out of range
  CHECK(ParseError(Edited("\"name\":\"city\"", "\"name\":\"age\"")) == "profile.columns lists \"age\" twice");
  CHECK(ParseError(Edited("\"type\":\"categorical\"", "\"type\":\"text\"")).find("'text'") != std::string::npos);
  CHECK(ParseError(Edited("\"missing\":2", "\"missing\":-2")).find(".missing must be a non-negative integer") !=
        std::string::npos);
  CHECK(ParseError(Edited("\"missing\":2", "\"missing\":11")).find("larger than count") != std::string::npos);
  CHECK(ParseError(Edited("\"count\":10", "\"count\":9")).find("differs from profile.rows") != std::string::npos);
  CHECK(
      ParseError(Edited("\"categories\":[\"Paris\",\"Lyon\"]", "\"categories\":[\"Paris\",\"Paris\"]")).find("twice") !=
      std::string::npos);
  CHECK(ParseError(Edited("\"max\":90.0", "\"max\":9.0")).find("min is larger than max") != std::string::npos);
  CHECK(ParseError(Edited("\"schema\":{", "\"schema\":{\"x\":1,")) == "profile.schema has unknown field 'x'");
}

TEST_CASE("profile: a column with every value missing has all-zero fractions") {
  Profile p = Sample();
  p.columns[0].missing = p.columns[0].count;
  p.columns[0].edges.clear();
  p.columns[0].min = p.columns[0].max = 0;
  p.columns[0].fractions = {0};
  CHECK(ParseProfile(SerializeProfile(p)).ok());
  p.columns[0].fractions = {1};
  CHECK_FALSE(ParseProfile(SerializeProfile(p)).ok());
}

TEST_CASE("profile: SchemaFromProfile keeps ranges and closed category sets") {
  std::vector<ColumnProfile> cols = {Numeric(), Categorical()};
  ColumnProfile closed = Categorical();
  closed.name = "color";
  closed.fractions = {0.5, 0.5, 0};
  cols.push_back(closed);
  InputSchema s = SchemaFromProfile(cols);
  REQUIRE(s.columns.size() == 3);
  CHECK(s.columns[0].name == "age");
  CHECK(s.columns[0].required);
  CHECK(s.columns[0].min == 18);
  CHECK(s.columns[0].max == 90);
  CHECK(s.columns[1].categories.empty());  // "other" had a share: any value goes
  CHECK(s.columns[2].categories == std::vector<std::string>{"Paris", "Lyon"});
}

TEST_CASE("profile: --schema files parse strictly and round-trip") {
  auto s =
      ParseSchemaJson(R"({"columns":[{"name":"age","type":"numeric","min":0,"max":120},)"
                      R"({"name":"city","type":"categorical","categories":["a","b"],"required":false}],"margin":0.2})");
  REQUIRE(s.ok());
  CHECK(s->margin == 0.2);
  REQUIRE(s->columns.size() == 2);
  CHECK(s->columns[0].max == 120);
  CHECK_FALSE(s->columns[1].required);
  auto again = ParseSchemaJson(SerializeSchemaJson(*s));
  REQUIRE(again.ok());
  CHECK(SerializeSchemaJson(*again) == SerializeSchemaJson(*s));
  auto err = [](const std::string& text) {
    auto r = ParseSchemaJson(text);
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  CHECK(err("nope") == "schema is not valid JSON");
  CHECK(err("{}") == "schema.columns is required");
  CHECK(err(R"({"columns":[{"name":"a","type":"numeric","mni":1}]})") == "schema.columns[0] has unknown field 'mni'");
  CHECK(err(R"({"columns":[{"name":"a","type":"boolean","min":1}]})").find("only for numeric") != std::string::npos);
  CHECK(err(R"({"columns":[{"name":"a","type":"numeric"},{"name":"a","type":"numeric"}]})") ==
        "schema.columns lists \"a\" twice");
  CHECK(err(R"({"columns":[],"margin":-1})") == "schema.margin must not be negative");
  CHECK(err(R"({"columns":[{"name":"","type":"numeric"}]})") == "schema.columns[0].name must not be empty");
}

}  // namespace
}  // namespace modelreg
