// The body of POST /api/v1/decisions, {"decisions": [{...}, ...]}, parsed
// with bounded memory: nlohmann's SAX interface, no JSON tree. Limits and
// types are checked as the bytes are read, so a hostile body costs at most
// the records the cap allows (plus the body itself), never a tree of
// everything it holds (1 000 001 `{}` once cost 300 MB before the cap).
//
// Contract of ParseDecisionBatch(body, max_items):
// - the top level is an object; its "decisions" member (required) is an
//   array of objects; other top-level members are skipped;
// - the (max_items+1)-th decision: ResourceExhausted (413) at once, without
//   reading further;
// - per decision: request_id, model, digest, agent_id, input_sha256 must be
//   strings of at most kMaxDecisionFieldBytes; at_ms an integer; version an
//   integer or null (absent); output a string of at most
//   kMaxDecisionOutputBytes or null (absent); which arm and fallback
//   answered (docs/api.md): arm "baseline" or "candidate", rollout_id a positive
//   integer, fallback "previous" or "static", each also null or (arm,
//   fallback) "" for absent. Anything else is InvalidArgument naming the
//   field and index: "decisions[3].version: want an integer, got string",
//   "decisions[0].arm: want \"baseline\" or \"candidate\", got \"canary\"";
// - members it does not know are skipped (a newer agent may send more), but
//   no value may nest deeper than kMaxDecisionNesting levels in all;
// - not JSON: InvalidArgument "request body is not valid JSON (at byte N)".
// What a field must look like beyond its type and size (the request id's
// alphabet, the digest's form, ...) is the service's check (IngestDecisions).
// Pure, thread-safe.
//
// Speed (bench/README.md, decision ingest): the batch agents send is read
// in one pass straight into the records; anything else (unknown members,
// \u escapes, floats, a value that breaks a rule, bad JSON) goes through
// nlohmann's SAX parser, which alone decides what is refused and how.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "core/records.h"
#include "core/status.h"

namespace modelreg {

inline constexpr size_t kMaxDecisionFieldBytes = 256;
inline constexpr size_t kMaxDecisionNesting = 16;

Result<std::vector<DecisionRecord>> ParseDecisionBatch(std::string_view body, size_t max_items);

// The two halves of ParseDecisionBatch, for the tests and the fuzz target:
// the one-pass reader of the common shape (nullopt: not sure, ask SAX) and
// the SAX parse that decides everything else. Where the fast one answers,
// both give the same records.
std::optional<std::vector<DecisionRecord>> ParseDecisionBatchFast(std::string_view body, size_t max_items);
Result<std::vector<DecisionRecord>> ParseDecisionBatchSax(std::string_view body, size_t max_items);

}  // namespace modelreg
