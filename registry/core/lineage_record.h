// The lineage record (docs/api.md): the facts that produced a model version,
// stored as the manifest's config blob and immutable once registered.
//
// SerializeLineage is deterministic (sorted keys, datasets sorted by name, no
// whitespace). ParseLineage is strict and is run by the server on every config
// it accepts. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/digest.h"
#include "core/status.h"

namespace modelreg {

// A hyperparameter: a JSON scalar.
using ParamValue = std::variant<std::monostate, bool, int64_t, double, std::string>;

struct DatasetRef {
  std::string name;
  std::string uri;
  std::optional<Digest> digest;
};

struct CodeRef {
  std::string repo;
  std::string commit;  // 40 lowercase hex
  std::string branch;  // empty when detached
  bool dirty = false;
  std::string entrypoint;
};

// The version's reference profile (core/profile.h): the bundle file
// kProfilePath, by digest and size. The registry checks, on register, that
// the manifest has that layer and that its bytes pass ParseProfile.
struct ProfileRef {
  Digest digest;
  uint64_t size = 0;
};

struct LineageRecord {
  std::string model;
  std::vector<DatasetRef> data;
  std::optional<CodeRef> code;
  std::map<std::string, ParamValue> params;
  std::map<std::string, double> metrics;
  std::map<std::string, std::string> environment;
  std::optional<Digest> parent;
  std::optional<ProfileRef> profile;  // JSON "profile": {"digest", "size"}; absent when none
};

std::string SerializeLineage(const LineageRecord& r);
Result<LineageRecord> ParseLineage(std::string_view bytes);

// What a record must also pass to be registered (checked by the server's
// register and by the CLI before it uploads): no control character (C0, DEL,
// C1; core/terminal_text.h) in any param, metric or environment key, dataset
// name or URI, or the code's repo, branch or entrypoint. InvalidArgument
// naming the field, e.g. `lineage.environment: key "\u001b]0;x" contains a
// control character (U+001B)`. Values (a param's string, an environment
// value) may hold any text; what prints them escapes it. ParseLineage does
// not apply this check, so records stored before it existed are still read.
Status CheckLineageText(const LineageRecord& r);

// "0.1" -> double, "6" -> int, "true" -> bool, "null" -> null, else string.
ParamValue ParseParamText(std::string_view text);
// JSON text of a parameter value, for display.
std::string ParamToString(const ParamValue& v);
// Parses a JSON object of scalars (a --params-file) into params.
Result<std::map<std::string, ParamValue>> ParseParamsJson(std::string_view text);
// Parses a JSON object of numbers (a --metrics-file).
Result<std::map<std::string, double>> ParseMetricsJson(std::string_view text);
// Parses "0.93" as a finite number.
Result<double> ParseMetricText(std::string_view key, std::string_view text);

}  // namespace modelreg
