// The listing commands' output (docs/cli.md): a table that fits 100 columns
// (digests shortened to 12 hex, long columns last and cut with "…"), or with
// -o wide every column whole; -o json / --json the registry's answer, -o yaml
// the same as YAML, -o name one name a line.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "args.h"

namespace modelreg::cli {

inline constexpr size_t kTableWidth = 100;

enum class OutputFormat { kTable, kWide, kJson, kYaml, kName };

// -o / --output FORMAT (table is the default; --json is -o json). UsageError
// for another word, or for `name` where the command has no names.
OutputFormat OutputFormatOf(const Args& args, bool has_names);
// Prints `answer` for -o json or yaml; false for the other formats.
bool PrintStructured(OutputFormat f, const nlohmann::json& answer);

// "sha256:<64 hex>" -> its first 12 hex digits (what a VERSION may be given
// as); other text unchanged.
std::string ShortDigest(const std::string& digest);

// Columns are padded to their widest cell, two spaces apart. Cells are
// shown as given: escape registry text first (common.h).
class Table {
 public:
  // `max`: the widest a cell of this column is shown in the table form
  // (0: as wide as its cells). `wide_only`: shown with -o wide only.
  Table& Column(std::string title, size_t max = 0, bool wide_only = false);
  void Row(std::vector<std::string> cells);
  // Table form (wide = false): also the last column is cut so that no line
  // is longer than kTableWidth.
  void Print(std::ostream& out, bool wide) const;

 private:
  struct Col {
    std::string title;
    size_t max;
    bool wide_only;
  };
  std::vector<Col> cols_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of UTF-8 text (code points; the CLI's text is escaped).
size_t TextWidth(const std::string& s);

// YAML for a JSON value (block style; strings double-quoted as in JSON,
// which YAML reads the same).
std::string ToYaml(const nlohmann::json& j);

}  // namespace modelreg::cli
