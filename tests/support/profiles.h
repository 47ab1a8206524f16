// Reference-profile columns for tests (core/profile.h), one line each
// instead of a field per line in every test file.
#pragma once

#include <string>
#include <vector>

#include "core/profile.h"

namespace modelreg::testing {

inline ColumnProfile NumericColumn(std::string name, int64_t count, double min, double max, std::vector<double> edges,
                                   std::vector<double> fractions, int64_t missing = 0) {
  ColumnProfile c;
  c.name = std::move(name);
  c.type = ColumnType::kNumeric;
  c.count = count;
  c.missing = missing;
  c.min = min;
  c.max = max;
  c.edges = std::move(edges);
  c.fractions = std::move(fractions);
  return c;
}

// `fractions`: one per category, then the share of other values.
inline ColumnProfile CategoricalColumn(std::string name, int64_t count, std::vector<std::string> categories,
                                       std::vector<double> fractions, int64_t missing = 0) {
  ColumnProfile c;
  c.name = std::move(name);
  c.type = ColumnType::kCategorical;
  c.count = count;
  c.missing = missing;
  c.categories = std::move(categories);
  c.fractions = std::move(fractions);
  return c;
}

// `fractions`: {false, true}.
inline ColumnProfile BooleanColumn(std::string name, int64_t count, std::vector<double> fractions,
                                   int64_t missing = 0) {
  ColumnProfile c;
  c.name = std::move(name);
  c.type = ColumnType::kBoolean;
  c.count = count;
  c.missing = missing;
  c.fractions = std::move(fractions);
  return c;
}

}  // namespace modelreg::testing
