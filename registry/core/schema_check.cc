#include "core/schema_check.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/utf8_text.h"

namespace modelreg {
namespace {

std::string Num(double x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("?");
}

// A value as the message shows it: numbers shortest, strings quoted and cut.
std::string Shown(const Rows& rows, const Cell& c) {
  switch (c.kind) {
    case Cell::kNumber:
      return Num(c.number);
    case Cell::kBool:
      return c.number != 0 ? "true" : "false";
    case Cell::kString: {
      const std::string_view t = rows.Text(c);
      std::string s = Utf8Prefix(t, 64);
      return "\"" + s + (s.size() < t.size() ? "...\"" : "\"");
    }
    case Cell::kOther:
      return "an array or object";
    case Cell::kMissing:
      return "null";
  }
  return "?";
}

const char* KindName(Cell::Kind k) {
  switch (k) {
    case Cell::kNumber:
      return "a number";
    case Cell::kBool:
      return "a boolean";
    case Cell::kString:
      return "a string";
    case Cell::kOther:
      return "an array or object";
    case Cell::kMissing:
      return "missing";
  }
  return "?";
}

const char* Wanted(ColumnType t) {
  switch (t) {
    case ColumnType::kNumeric:
      return "a number";
    case ColumnType::kBoolean:
      return "a boolean";
    case ColumnType::kCategorical:
      return "a category (a string)";
  }
  return "?";
}

}  // namespace

const char* SchemaRuleName(SchemaRule r) {
  switch (r) {
    case SchemaRule::kOk:
      return "";
    case SchemaRule::kMissing:
      return "missing";
    case SchemaRule::kType:
      return "type";
    case SchemaRule::kRange:
      return "range";
    case SchemaRule::kCategory:
      return "category";
    case SchemaRule::kWidth:
      return "width";
  }
  return "";
}

std::string CategoryText(double x) {
  if (std::isfinite(x) && x == std::trunc(x) && std::fabs(x) < 1e15) return std::to_string(static_cast<int64_t>(x));
  return Num(x);
}

CheckedColumn PrepareColumn(const SchemaColumn& c, double margin) {
  CheckedColumn k;
  k.column = &c;
  const double inf = std::numeric_limits<double>::infinity();
  const double span = c.min && c.max ? std::max(0.0, *c.max - *c.min) : 0.0;
  k.low = c.min ? *c.min - margin * span : -inf;
  k.high = c.max ? *c.max + margin * span : inf;
  return k;
}

SchemaRule CheckCell(const CheckedColumn& k, const Rows& rows, const Cell& cell, std::string* category) {
  const SchemaColumn& c = *k.column;
  if (cell.kind == Cell::kMissing) return c.required ? SchemaRule::kMissing : SchemaRule::kOk;
  switch (c.type) {
    case ColumnType::kNumeric:
      if (cell.kind != Cell::kNumber) return SchemaRule::kType;
      return cell.number < k.low || cell.number > k.high ? SchemaRule::kRange : SchemaRule::kOk;
    case ColumnType::kBoolean:
      if (cell.kind == Cell::kBool) return SchemaRule::kOk;
      return cell.kind == Cell::kNumber && (cell.number == 0 || cell.number == 1) ? SchemaRule::kOk : SchemaRule::kType;
    case ColumnType::kCategorical: {
      std::string_view text;
      std::string number_text;
      if (cell.kind == Cell::kString) {
        text = rows.Text(cell);
      } else if (cell.kind == Cell::kNumber) {
        number_text = CategoryText(cell.number);
        text = number_text;
      } else {
        return SchemaRule::kType;
      }
      if (category) category->assign(text);
      if (c.categories.empty()) return SchemaRule::kOk;
      return std::find(c.categories.begin(), c.categories.end(), text) == c.categories.end() ? SchemaRule::kCategory
                                                                                             : SchemaRule::kOk;
    }
  }
  return SchemaRule::kOk;
}

std::string ViolationMessage(const SchemaColumn& c, double margin, SchemaRule rule, int64_t row, const Rows& rows,
                             const Cell& cell) {
  std::string m = "feature \"" + Utf8Prefix(c.name, 256) + "\" (row " + std::to_string(row) + ")";
  switch (rule) {
    case SchemaRule::kMissing:
      return m + " is missing";
    case SchemaRule::kType:
      if (cell.kind == Cell::kOther) return m + ": an array or object, not " + Wanted(c.type);
      return m + ": " + Shown(rows, cell) + " is " + KindName(cell.kind) + ", not " + Wanted(c.type);
    case SchemaRule::kRange: {
      const bool above = c.max && cell.number > *c.max;
      std::string range =
          "[" + (c.min ? Num(*c.min) : std::string("-inf")) + ", " + (c.max ? Num(*c.max) : std::string("inf")) + "]";
      return m + ": " + Shown(rows, cell) + " is " + (above ? "above" : "below") + " the reference range " + range +
             " by more than the " + Num(margin * 100) + "% margin";
    }
    case SchemaRule::kCategory:
      return m + ": " + Shown(rows, cell) + " is not one of the reference categories";
    default:
      return m;
  }
}

std::string WidthMessage(const BadWidth& b) {
  return "row " + std::to_string(b.row) + " has " + std::to_string(b.width) + " values, not " +
         std::to_string(b.expected);
}

std::optional<Violation> FirstViolation(const InputSchema& schema, const Rows& rows) {
  if (!rows.readable() || schema.columns.empty() || rows.width != schema.columns.size()) return std::nullopt;
  std::vector<CheckedColumn> cols;
  cols.reserve(schema.columns.size());
  for (const auto& c : schema.columns) cols.push_back(PrepareColumn(c, schema.margin));
  size_t next_bad = 0;  // bad_width is in row order
  for (size_t r = 0; r < rows.rows; ++r) {
    if (next_bad < rows.bad_width.size() && rows.bad_width[next_bad].row == r)
      return Violation{"", SchemaRule::kWidth, static_cast<int64_t>(r), WidthMessage(rows.bad_width[next_bad])};
    for (size_t i = 0; i < cols.size(); ++i) {
      const Cell& cell = rows.at(r, i);
      const SchemaRule rule = CheckCell(cols[i], rows, cell);
      if (rule != SchemaRule::kOk)
        return Violation{schema.columns[i].name, rule, static_cast<int64_t>(r),
                         ViolationMessage(schema.columns[i], schema.margin, rule, static_cast<int64_t>(r), rows, cell)};
    }
  }
  return std::nullopt;
}

}  // namespace modelreg
