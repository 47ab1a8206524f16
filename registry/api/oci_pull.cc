// /v2/ reads: the base check, manifests by version number, stage or
// digest, blobs (with Range), tag lists and the catalog (docs/oci.md).
// Manifests and blobs go out exactly as stored: the digest a client
// computes is the one modelreg recorded.
#include <algorithm>
#include <charconv>

#include "api/blob_response.h"
#include "api/json_codec.h"
#include "api/oci_handlers.h"
#include "core/manifest.h"

namespace modelreg::api {
namespace {

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// A manifest reference /v2/ knows: a version number, production, staging,
// latest or a sha256 digest. Anything else names nothing here.
Status CheckReference(const std::string& ref) {
  if (ref.rfind("sha256:", 0) == 0 || ref.find(':') != std::string::npos) {
    if (!Digest::Parse(ref).ok())
      return Status::InvalidArgument("reference '" + ref.substr(0, 100) + "' is not a sha256 digest");
    return Status::OK();
  }
  if ((AllDigits(ref) && ref.size() <= 11) || ref == "production" || ref == "staging" || ref == "latest")
    return Status::OK();
  return Status::NotFound("tag '" + ref.substr(0, 100) +
                          "' is not a tag of this registry: tags are version numbers, production, staging and "
                          "latest (docs/oci.md)");
}

// Headers of a blob or manifest HEAD: the size without opening the bytes.
Status SendHead(Ctx& c, uint64_t size, const std::string& digest, const std::string& content_type) {
  c.res.set_header("Docker-Content-Digest", digest);
  c.res.set_header("ETag", "\"" + digest + "\"");
  c.res.set_header("Accept-Ranges", "bytes");
  c.res.set_content_provider(size, content_type, [](size_t, size_t, DataSink&) { return false; });
  return Status::OK();
}

}  // namespace

Status OciBase(Ctx& c, OciTarget&) {
  c.res.status = 200;
  c.res.set_content("{}", "application/json");
  return Status::OK();
}

Status OciCatalog(Ctx& c, OciTarget&) {
  MR_ASSIGN_OR_RETURN(auto models, c.svc.ListModels(c.principal));
  nlohmann::json names = nlohmann::json::array();
  for (const auto& m : models) names.push_back(m.name);
  SendJson(c, 200, {{"repositories", names}});
  return Status::OK();
}

Status OciGetManifest(Ctx& c, OciTarget& t) {
  if (Status st = CheckReference(t.ref); !st.ok()) {
    if (st.code() == StatusCode::kInvalidArgument) t.info->code = "DIGEST_INVALID";
    return st;
  }
  if (t.modelpack) return Status::NotFound("the ModelPack view is not served yet");
  std::string digest;
  MR_ASSIGN_OR_RETURN(auto reader, c.svc.OpenManifest(c.principal, t.model, t.ref, &digest));
  if (c.req.method == "HEAD") return SendHead(c, reader->size(), digest, kOciManifestMediaType);
  return SendBlob(c, std::move(reader), digest, kOciManifestMediaType);
}

Status OciGetBlob(Ctx& c, OciTarget& t) {
  MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(t.ref));
  const bool head = c.req.method == "HEAD";
  // A blob of the model's versions; else, for a caller that may push here,
  // one it may link (uploaded, or held by a model it can read): a client
  // checks that before it uploads.
  auto sizes = c.svc.ModelBlobSizes(c.principal, t.model, {d});
  if (sizes.ok()) {
    if (head) return SendHead(c, sizes->front(), d.str(), "application/octet-stream");
    MR_ASSIGN_OR_RETURN(auto reader, c.svc.OpenModelBlob(c.principal, t.model, d));
    return SendBlob(c, std::move(reader), d.str(), "application/octet-stream");
  }
  if (sizes.status().code() != StatusCode::kNotFound || !RoleAllows(c.principal.role, Action::kRegister))
    return sizes.status();
  MR_ASSIGN_OR_RETURN(auto size, c.svc.BlobSize(c.principal, d));
  if (!size) return Status::NotFound("blob " + d.str() + " not found in " + t.name);
  if (head) return SendHead(c, *size, d.str(), "application/octet-stream");
  if (c.principal.scoped()) return Status::NotFound("blob " + d.str() + " is not part of a version of " + t.model);
  MR_ASSIGN_OR_RETURN(auto reader, c.svc.OpenBlob(c.principal, d));
  return SendBlob(c, std::move(reader), d.str(), "application/octet-stream");
}

// Lexical order (the spec's), paged with ?n= and ?last= and a Link header.
Status OciListTags(Ctx& c, OciTarget& t) {
  MR_ASSIGN_OR_RETURN(auto versions, c.svc.ListVersions(c.principal, t.model));
  std::vector<std::string> tags;
  for (const auto& v : versions) {
    tags.push_back(std::to_string(v.number));
    if (v.stage == "production" || v.stage == "staging") tags.push_back(v.stage);
  }
  if (!versions.empty()) tags.push_back("latest");
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  if (c.req.has_param("last")) {
    const std::string last = c.req.get_param_value("last");
    tags.erase(tags.begin(), std::upper_bound(tags.begin(), tags.end(), last));
  }
  if (c.req.has_param("n")) {
    const std::string n_text = c.req.get_param_value("n");
    size_t n = 0;
    const auto [end, ec] = std::from_chars(n_text.data(), n_text.data() + n_text.size(), n);
    if (ec != std::errc() || end != n_text.data() + n_text.size())
      return Status::InvalidArgument("?n= must be a non-negative number, not '" + n_text.substr(0, 40) + "'");
    if (n < tags.size()) {
      tags.resize(n);
      if (n > 0)
        c.res.set_header("Link", "</v2/" + t.name + "/tags/list?n=" + std::to_string(n) + "&last=" + tags.back() +
                                     ">; rel=\"next\"");
    }
  }
  SendJson(c, 200, {{"name", t.name}, {"tags", tags}});
  return Status::OK();
}

}  // namespace modelreg::api
