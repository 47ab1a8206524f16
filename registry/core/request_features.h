// What a serving agent reads of a model server's traffic (docs/agent.md
// "Monitoring"): the rows of feature values in a request body, in the
// order of the model's input schema, and one output scalar per row in the
// answer. Pure, never throws, thread-safe; the work is linear in the body
// (JSON nested deeper than kMaxBodyDepth is not read).
//
// Requests (the formats model servers take):
//   {"features": [[...], ...]}                      positional rows
//   {"instances": [[...], ...] | [{name: v}, ...]}  TF Serving / KServe v1 (a scalar instance: a row of one)
//   {"inputs": [{"name", "shape", "datatype", "data"}, ...]}
//       Open Inference Protocol v2: one input that is not a schema column
//       (or of shape [n, d], d > 1) is a tensor of positional rows (data
//       flat row-major or nested); otherwise one input per feature name
//   {"inputs": {name: [values], ...}}               TF Serving columnar
//   {"inputs": [[...], ...]}                        MLflow tensor rows
//   {"dataframe_split": {"columns": [...], "data": [[...], ...]}}
//   {"dataframe_records": [{name: v}, ...]}
// Positional rows map to the schema's columns in order; a positional row of
// another width is marked (Rows::bad_width) and its cells left missing.
// Named values map by name; names not in the schema are ignored; a column
// absent from a row is missing. Anything else: kUnreadable.
//
// Responses: {"predictions": [...]}, {"probabilities": [...]}, OIP v2
// {"outputs": [{"data": [...], "shape"?}]} (the first output), {"outputs":
// [...]}, or a bare JSON array. One scalar per row: a number, a string, a
// bool; a row that is an array ([p0, p1] class probabilities) gives its last
// element (the positive class); a flat OIP output of shape [n, k] gives each
// row's last element.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace modelreg {

inline constexpr int kMaxBodyDepth = 64;

enum class BodyFormat {
  kUnreadable,  // not JSON, too deep, or no format the agent reads
  kFeatures,
  kInstances,
  kOipV2,
  kColumnar,  // {"inputs": {name: [values]}}
  kDataframeSplit,
  kDataframeRecords,
  kPredictions,  // responses: {"predictions"|"probabilities"|"outputs": ...} or an array
};
const char* BodyFormatName(BodyFormat f);

// One value as the body gave it (24 bytes: a batch of many rows stays small).
struct Cell {
  enum Kind : uint8_t { kMissing, kNumber, kBool, kString, kOther };  // kOther: an array or object
  Kind kind = kMissing;
  uint32_t text_size = 0;  // kString: its bytes in Rows::text
  uint64_t text_at = 0;
  double number = 0;  // kNumber; kBool: 0 or 1
};

// A positional row of the wrong width: its index, the width it had and
// the width expected (the schema's, or a dataframe_split's "columns").
struct BadWidth {
  uint32_t row = 0, width = 0, expected = 0;
};

// At most this many cells (rows x width) are read from one body: beyond it
// the body is kUnreadable (a body of empty rows must not cost memory).
inline constexpr size_t kMaxCells = size_t{1} << 19;

struct Rows {
  BodyFormat format = BodyFormat::kUnreadable;
  size_t width = 0;                 // cells per row (the schema's columns; 1 for outputs)
  size_t rows = 0;                  // rows read (also when width is 0: counted, not read)
  std::vector<Cell> cells;          // row-major, rows * width (empty when width is 0)
  std::vector<BadWidth> bad_width;  // positional rows of another width (their cells are missing)
  std::string text;                 // the strings of kString cells
  bool readable() const { return format != BodyFormat::kUnreadable; }
  const Cell& at(size_t row, size_t col) const { return cells[row * width + col]; }
  std::string_view Text(const Cell& c) const { return std::string_view(text).substr(c.text_at, c.text_size); }
};

// `columns`: the schema's feature names in order (may be empty: rows are
// then counted, not read).
Rows ParseRequestRows(std::string_view body, const std::vector<std::string>& columns);
Rows ParseResponseOutputs(std::string_view body);

}  // namespace modelreg
