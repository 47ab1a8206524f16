// Provenance of a model version as an in-toto Statement v1 with an SLSA
// provenance v1 predicate (docs/api.md): subject = the bundle digest; the code
// commit, the datasets and the parent model are resolvedDependencies; params
// are externalParameters; metrics are byproducts. The registry signs the
// statement's bytes in a DSSE envelope with its release key; anyone holding
// the public key can check it (`modelreg provenance verify`, or openssl).
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/lineage_record.h"
#include "core/status.h"

namespace modelreg {

inline constexpr char kSlsaProvenanceV1[] = "https://slsa.dev/provenance/v1";
inline constexpr char kModelregBuildType[] = "https://modelreg.dev/training/v1";

struct ProvenanceInput {
  std::string model;
  int64_t version = 0;
  std::string digest;  // bundle digest, sha256:...
  int64_t registered_at_ms = 0;
  std::string registered_by;
  std::string builder_id;  // who vouches: the registry, named by its release key id
  LineageRecord lineage;
};

// The statement's JSON bytes (compact, keys sorted).
std::string ProvenanceStatement(const ProvenanceInput& in);

// What a verified statement says, checked for shape.
struct ProvenanceSubject {
  std::string name;
  std::string digest;  // sha256:...
  int64_t version = 0;
};
// Parses a statement (already signature-checked) and returns its subject.
// InvalidArgument if it is not an in-toto v1 statement with an SLSA v1
// predicate and exactly one sha256 subject.
Result<ProvenanceSubject> ParseProvenanceStatement(std::string_view statement);

}  // namespace modelreg
