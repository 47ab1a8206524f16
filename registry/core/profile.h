// The reference profile of a model version (docs/monitoring.md): per input
// column of the data the model was trained on, its type, counts, range and
// reference distribution over fixed bins; optionally the same for the
// model's output; and the input schema the serving agent checks requests
// against. Computed by the CLI at registration (core/profile_builder.h),
// stored as the bundle file kProfilePath (so it is hashed, in the bundle
// digest and signed with the release) and referenced from the lineage
// record. The agent reads it from the pulled version's directory.
//
// Bins, the one rule shared by the builder, the agent and the drift
// statistics (core/drift_stats.h):
// - numeric: `edges` ascending, strictly increasing, interior bin edges; a
//   value x falls in bin upper_bound(edges, x) (so bin 0 is x < edges[0] and
//   the last bin x >= edges.back()); Bins() = edges.size() + 1. Values
//   outside [min, max] still fall in the end bins (out of range is counted
//   apart by the schema check).
// - boolean: bin 0 = false, bin 1 = true.
// - categorical: bin i = categories[i], last bin (categories.size()) =
//   every other value.
// `fractions` has Bins() entries: the share of the reference's non-missing
// values in each bin (they sum to 1 within rounding).
//
// SerializeProfile is deterministic (sorted keys, no whitespace). ParseProfile
// is strict (it runs on the registry's intake and in the agent on bytes from
// the network): unknown format, missing fields, fractions of the wrong size
// or not summing to 1 (±1e-6), edges not strictly increasing, non-finite
// numbers, duplicate column names -> InvalidArgument naming the field. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace modelreg {

// Where the profile lives inside a bundle.
inline constexpr char kProfilePath[] = ".modelreg/profile.json";
inline constexpr char kProfileFormat[] = "modelreg.profile.v1";

enum class ColumnType { kNumeric, kCategorical, kBoolean };
const char* ColumnTypeName(ColumnType t);  // "numeric", "categorical", "boolean"
Result<ColumnType> ParseColumnType(std::string_view s);

struct ColumnProfile {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  int64_t count = 0;                    // rows seen (missing included)
  int64_t missing = 0;                  // empty field, JSON null, NaN
  double min = 0, max = 0;              // numeric only (of non-missing values)
  std::vector<double> edges;            // numeric only
  std::vector<std::string> categories;  // categorical only: the top values, most frequent first
  std::vector<double> fractions;        // Bins() entries

  size_t Bins() const;
  // Bin of a numeric value (numeric: upper_bound over edges; boolean: 0 or
  // 1 for x == 0 / x != 0). Categorical columns: use CategoryBin.
  size_t NumericBin(double x) const;
  // categories.size() when other. Boolean: "false" 0, "true" 1; any other
  // text (and any text for a numeric column) gives Bins(): no bin.
  size_t CategoryBin(std::string_view value) const;
};

// What a request row must satisfy (docs/monitoring.md "Schema checks").
struct SchemaColumn {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  std::optional<double> min, max;       // numeric: the reference range
  std::vector<std::string> categories;  // categorical: allowed values; empty = any
  bool required = true;                 // missing/null is a violation
};

struct InputSchema {
  std::vector<SchemaColumn> columns;  // in the model's feature order
  // A numeric value is out of range when below min - margin*(max-min) or
  // above max + margin*(max-min).
  double margin = 0.1;
};

struct Profile {
  std::string dataset;  // the NAME of --profile-data NAME=PATH
  int64_t rows = 0;
  std::vector<ColumnProfile> columns;   // input columns, in schema order
  std::optional<ColumnProfile> output;  // the model's output on those rows, when given
  InputSchema schema;
};

std::string SerializeProfile(const Profile& p);
Result<Profile> ParseProfile(std::string_view bytes);

// The schema a profile implies: every column required, numeric ranges from
// min/max, categoricals limited to their categories when the reference had
// no "other" share (fewer distinct values than the builder keeps), boolean.
InputSchema SchemaFromProfile(const std::vector<ColumnProfile>& columns);

// A --schema FILE: {"columns": [{"name", "type", "min"?, "max"?,
// "categories"?, "required"?}], "margin"?}. Strict, like ParseProfile.
Result<InputSchema> ParseSchemaJson(std::string_view bytes);
std::string SerializeSchemaJson(const InputSchema& s);

}  // namespace modelreg
