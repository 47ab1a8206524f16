#include "service/version_ref.h"

#include <algorithm>

#include "store/model_store.h"

namespace modelreg::service_internal {

namespace {

constexpr size_t kMinPrefix = 12;  // hex digits, as tables print a digest
constexpr size_t kMaxNumberDigits = 11;

bool AllOf(const std::string& s, bool (*pred)(char)) { return !s.empty() && std::all_of(s.begin(), s.end(), pred); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

Status NotAName(const std::string& ref) {
  return Status::InvalidArgument("version '" + ref.substr(0, 80) +
                                 "' is not a number, a digest (sha256:...), a digest prefix of at least 12 hex "
                                 "digits, production, staging or latest");
}

Status ModelOrVersionMissing(Tx& tx, const std::string& model, const std::string& what) {
  if (!store::FindModel(tx, model)) return Status::NotFound("model '" + model + "' not found");
  return Status::NotFound(what);
}

}  // namespace

Result<VersionRecord> ResolveVersionRef(Tx& tx, const std::string& model, const std::string& ref) {
  if (AllOf(ref, IsDigit) && ref.size() <= kMaxNumberDigits) {
    const int64_t n = std::stoll(ref);
    if (n <= 0) return NotAName(ref);
    if (auto v = store::FindVersionByNumber(tx, model, n)) return *v;
    return ModelOrVersionMissing(tx, model, "version " + ref + " of model '" + model + "' not found");
  }
  std::string hex = ref.rfind("sha256:", 0) == 0 ? ref.substr(7) : ref;
  if (hex.size() == 64 && AllOf(hex, IsLowerHex) && hex.size() != ref.size()) {
    if (auto v = store::FindVersionByDigest(tx, model, ref)) return *v;
    return ModelOrVersionMissing(tx, model, "version " + ref + " of model '" + model + "' not found");
  }
  const bool stage = ref == "production" || ref == "staging";
  const bool prefix = hex.size() >= kMinPrefix && hex.size() <= 64 && AllOf(hex, IsLowerHex);
  if (!stage && ref != "latest" && !prefix) {
    if (ref.rfind("sha256:", 0) == 0 || (AllOf(hex, IsLowerHex) && !AllOf(hex, IsDigit)))
      return Status::InvalidArgument("version '" + ref.substr(0, 80) +
                                     "': a digest prefix needs at least 12 hex digits");
    return NotAName(ref);
  }
  const std::vector<VersionRecord> all = store::ListVersions(tx, model);  // by number
  if (ref == "latest") {
    if (all.empty()) return ModelOrVersionMissing(tx, model, "model '" + model + "' has no versions");
    return all.back();
  }
  if (stage) {
    for (auto it = all.rbegin(); it != all.rend(); ++it)
      if (it->stage == ref) return *it;
    return ModelOrVersionMissing(tx, model, "model '" + model + "' has no version in " + ref);
  }
  std::vector<const VersionRecord*> hits;
  for (const auto& v : all)
    if (v.digest.compare(7, hex.size(), hex) == 0) hits.push_back(&v);
  if (hits.size() == 1) return *hits[0];
  if (hits.empty())
    return ModelOrVersionMissing(tx, model, "no version of model '" + model + "' has a digest starting " + hex);
  std::vector<std::string> candidates;
  for (const auto* v : hits) candidates.push_back("version " + std::to_string(v->number) + ": " + v->digest);
  return Status(StatusCode::kInvalidArgument,
                "version prefix " + hex + " is ambiguous: " + std::to_string(hits.size()) + " versions of model '" +
                    model + "' have digests starting with it; give more digits",
                candidates);
}

}  // namespace modelreg::service_internal
