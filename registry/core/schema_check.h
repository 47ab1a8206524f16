// The input schema check of a serving agent (docs/agent.md "Monitoring"):
// each value of a request row (core/request_features.h) against its column
// of the version's InputSchema (core/profile.h). Rules:
//   missing   a required column is absent or null
//   type      numeric wants a number, boolean a bool (or 0/1), categorical
//             a string (an integer is taken as its decimal text)
//   range     a number below min - margin*(max-min) or above
//             max + margin*(max-min)
//   category  a categorical value outside a closed category list
//   width     a positional row with another number of values
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/profile.h"
#include "core/request_features.h"

namespace modelreg {

enum class SchemaRule : uint8_t { kOk, kMissing, kType, kRange, kCategory, kWidth };
const char* SchemaRuleName(SchemaRule r);  // "missing", "type", "range", "category", "width" ("" for kOk)

// A column with its range limits (margin applied) worked out once.
struct CheckedColumn {
  const SchemaColumn* column = nullptr;
  double low = 0, high = 0;  // -inf / +inf when the schema has no bound
};
CheckedColumn PrepareColumn(const SchemaColumn& c, double margin);

// The rule `cell` breaks, kOk if none. A categorical value's text (or an
// integer's decimal text) goes to *category when not null, for binning.
SchemaRule CheckCell(const CheckedColumn& c, const Rows& rows, const Cell& cell, std::string* category = nullptr);

struct Violation {
  std::string feature;  // "" for a width violation
  SchemaRule rule = SchemaRule::kOk;
  int64_t row = 0;
  std::string
      message;  // e.g. feature "age" (row 0): 250 is above the reference range [18, 90] by more than the 10% margin
};

// The first violation of `rows` (in row order, then schema order), if any.
std::optional<Violation> FirstViolation(const InputSchema& schema, const Rows& rows);

// The message of a violation of `rule` by `cell` in `row` (for rules other
// than width).
std::string ViolationMessage(const SchemaColumn& c, double margin, SchemaRule rule, int64_t row, const Rows& rows,
                             const Cell& cell);
std::string WidthMessage(const BadWidth& b);

// The decimal text of a categorical number (integers without a fraction).
std::string CategoryText(double x);

}  // namespace modelreg
