#include "core/oci_json.h"

namespace modelreg {

using nlohmann::json;

Result<Descriptor> ParseDescriptor(const json& j, const std::string& where) {
  if (!j.is_object()) return Status::InvalidArgument(where + " is not an object");
  auto str = [&](const char* k) -> Result<std::string> {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string()) return Status::InvalidArgument(where + "." + k + " missing or not a string");
    return it->get<std::string>();
  };
  MR_ASSIGN_OR_RETURN(std::string mt, str("mediaType"));
  MR_ASSIGN_OR_RETURN(std::string ds, str("digest"));
  auto dg = Digest::Parse(ds);
  if (!dg.ok()) return dg.status().WithContext(where);
  auto sz = j.find("size");
  if (sz == j.end() || !sz->is_number_unsigned())
    return Status::InvalidArgument(where + ".size missing or not a non-negative integer");
  Descriptor d{mt, *dg, sz->get<uint64_t>(), ""};
  auto an = j.find("annotations");
  if (an != j.end()) {
    if (!an->is_object()) return Status::InvalidArgument(where + ".annotations is not an object");
    auto t = an->find(kOciTitleAnnotation);
    if (t != an->end()) {
      if (!t->is_string()) return Status::InvalidArgument(where + " title is not a string");
      d.title = t->get<std::string>();
    }
  }
  return d;
}

Status CheckImageManifestHeader(const json& j) {
  auto sv = j.find("schemaVersion");
  if (sv == j.end() || !sv->is_number_integer() || sv->get<int64_t>() != 2)
    return Status::InvalidArgument("manifest schemaVersion must be 2");
  auto mt = j.find("mediaType");
  if (mt == j.end() || *mt != kOciManifestMediaType)
    return Status::InvalidArgument(std::string("manifest mediaType must be ") + kOciManifestMediaType);
  return Status::OK();
}

}  // namespace modelreg
