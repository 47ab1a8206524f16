// Fuzz target: what the serving agent reads of a model server's traffic
// (core/request_features.h, core/schema_check.h): request bodies into rows
// for a small schema, response bodies into outputs, and the schema check
// of the rows. Invariants: no crash or exception; rows x width cells, each
// string cell inside the text; at most kMaxCells cells; bad-width rows in
// row order and inside the rows; a violation found names a rule.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/request_features.h"
#include "core/schema_check.h"

using namespace modelreg;

namespace {

void CheckRows(const Rows& r) {
  if (r.width > 0 && r.cells.size() != r.rows * r.width) abort();
  if (r.cells.size() > kMaxCells) abort();
  for (const auto& c : r.cells)
    if (c.kind == Cell::kString && c.text_at + c.text_size > r.text.size()) abort();
  for (size_t i = 0; i < r.bad_width.size(); ++i) {
    if (r.bad_width[i].row >= r.rows) abort();
    if (i > 0 && r.bad_width[i].row <= r.bad_width[i - 1].row) abort();
  }
  if (!r.readable() && (r.rows != 0 || !r.cells.empty())) abort();
}

InputSchema Schema() {
  InputSchema s;
  SchemaColumn age{"age", ColumnType::kNumeric, 18.0, 90.0, {}, true};
  SchemaColumn city{"city", ColumnType::kCategorical, std::nullopt, std::nullopt, {"paris", "rome"}, true};
  SchemaColumn member{"member", ColumnType::kBoolean, std::nullopt, std::nullopt, {}, false};
  s.columns = {age, city, member};
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  static const InputSchema schema = Schema();
  static const std::vector<std::string> names = {"age", "city", "member"};
  static const std::vector<std::string> none;
  const Rows rows = ParseRequestRows(in, names);
  CheckRows(rows);
  if (auto v = FirstViolation(schema, rows); v && (v->rule == SchemaRule::kOk || v->message.empty())) abort();
  CheckRows(ParseRequestRows(in, none));
  const Rows out = ParseResponseOutputs(in);
  CheckRows(out);
  if (out.readable() && out.width != 1) abort();
  return 0;
}
