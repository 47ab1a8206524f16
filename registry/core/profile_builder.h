// Computes a reference profile (core/profile.h) from a table of training
// data: CSV with a header row (RFC 4180 quoting, "," separated, LF or CRLF)
// or JSON Lines (one flat object per line). `modelreg register
// --profile-data NAME=PATH` runs it on the client (docs/cli.md).
//
// Per column, the type is inferred from the non-missing values: numeric when
// every one parses as a finite number, boolean when every one is true/false
// (True, FALSE too; 0/1 stay numeric), else categorical. Missing: an
// empty field, JSON null, NaN. A column mixing numbers and text is
// categorical; its numbers count by their shortest decimal form ("1.0" and
// "1" are one category), its booleans as true/false. Values are read with
// surrounding spaces and tabs trimmed.
// - numeric: min, max, and `bins` quantile bins: interior edges at the
//   values of rank floor(i*n/bins), i = 1..bins-1, with ties merged (a
//   column with few distinct values has fewer bins);
// - categorical: the `top_k` most frequent values (ties by value), the rest
//   share the "other" bin;
// - boolean: false / true.
// The --target column is left out; the --output-column is profiled as
// Profile::output and left out of the inputs. The schema is
// SchemaFromProfile of the input columns.
//
// Errors (InvalidArgument, naming the file's line): a row with a different
// number of fields than the header, an unterminated quote, bytes that are
// not UTF-8, a JSON line that is not a flat object, a target or output
// column the header does not have, a header naming a column twice, no
// header. Thread-safe (pure apart from reading the file); uses up to
// `threads` threads.
#pragma once

#include <string>
#include <string_view>

#include "core/profile.h"
#include "core/status.h"

namespace modelreg {

enum class TableFormat { kAuto, kCsv, kJsonLines };

struct ProfileOptions {
  std::string dataset;        // Profile::dataset
  std::string target;         // the label column, not profiled; empty: none
  std::string output_column;  // the model's output; empty: none
  int bins = 20;              // numeric quantile bins (2 to 1000)
  int top_k = 20;             // categories kept (1 to 1000)
  int threads = 2;
  TableFormat format = TableFormat::kAuto;  // kAuto: by extension (.csv, .jsonl, .ndjson), else by content
};

// `name` is how errors refer to the text (the file's path).
Result<Profile> BuildProfile(std::string_view text, const std::string& name, const ProfileOptions& opts);
Result<Profile> BuildProfileFromFile(const std::string& path, const ProfileOptions& opts);

}  // namespace modelreg
