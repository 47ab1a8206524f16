// /v2/ reads: the base check, manifests by version number, stage or
// digest, blobs (with Range), tag lists and the catalog (docs/oci.md).
// Manifests and blobs go out exactly as stored: the digest a client
// computes is the one modelreg recorded.
#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "api/blob_response.h"
#include "api/json_codec.h"
#include "api/oci_handlers.h"
#include "core/manifest.h"
#include "core/modelpack.h"
#include "core/oci_referrer.h"

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

bool AgentLimited(const Ctx& c) { return c.principal.role == Role::kAgent && c.svc.options().oci_agent_stages_only; }

// Under --oci-agent-stages-only an agent pulls what a stage holds, or held:
// stage tags, and digests of versions that were ever in staging or
// production (a client resolves a tag, then fetches by digest).
Status AgentMayPull(Ctx& c, const OciTarget& t, const std::string& digest) {
  if (!AgentLimited(c)) return Status::OK();
  MR_ASSIGN_OR_RETURN(auto approved, c.svc.ApprovedDigests(c.principal, t.model));
  if (approved.count(digest)) return Status::OK();
  return Status::PermissionDenied(
      "agent tokens pull only versions that were approved into staging or production "
      "(this server runs with --oci-agent-stages-only): " +
      digest + " is not one");
}

Status AgentMayResolve(Ctx& c, const std::string& ref) {
  if (!AgentLimited(c) || ref == "production" || ref == "staging" || ref.find(':') != std::string::npos)
    return Status::OK();
  return Status::PermissionDenied(
      "agent tokens resolve only the stage tags production and staging (this server runs "
      "with --oci-agent-stages-only), not '" +
      ref.substr(0, 100) + "'");
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
  MR_RETURN_IF_ERROR(AgentMayResolve(c, t.ref));
  if (t.modelpack) {
    MR_ASSIGN_OR_RETURN(auto a, c.svc.ModelPackOf(c.principal, t.model, t.ref));
    if (AgentLimited(c)) {
      const auto j = nlohmann::json::parse(a.manifest, nullptr, false);
      const auto bundle = j.is_object() ? j["annotations"].value(kModelPackBundleDigestAnnotation, "") : "";
      MR_RETURN_IF_ERROR(AgentMayPull(c, t, bundle));
    }
    c.res.set_header("Docker-Content-Digest", a.manifest_digest.str());
    c.res.set_header("ETag", "\"" + a.manifest_digest.str() + "\"");
    c.res.set_content(std::move(a.manifest), kOciManifestMediaType);
    return Status::OK();
  }
  std::string digest;
  auto bytes = c.svc.ManifestBytes(c.principal, t.model, t.ref, &digest);
  if (bytes.status().code() == StatusCode::kNotFound && t.ref.find(':') != std::string::npos) {
    // A referrer's manifest (OciListReferrers listed it): pushed, or made here.
    const Digest d = Digest::Parse(t.ref).value();
    auto referrer = c.svc.PushedReferrerManifest(c.principal, t.model, d);
    if (!referrer.ok()) referrer = c.svc.ReferrerBytes(c.principal, t.model, d, true);
    if (referrer.ok()) {
      c.res.set_header("Docker-Content-Digest", t.ref);
      c.res.set_content(std::move(*referrer), kOciManifestMediaType);
      return Status::OK();
    }
  }
  MR_RETURN_IF_ERROR(bytes.status());
  MR_RETURN_IF_ERROR(AgentMayPull(c, t, digest));
  c.res.set_header("Docker-Content-Digest", digest);
  c.res.set_header("ETag", "\"" + digest + "\"");
  c.res.set_content(**bytes, kOciManifestMediaType);
  return Status::OK();
}

Status OciGetBlob(Ctx& c, OciTarget& t) {
  MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(t.ref));
  const bool head = c.req.method == "HEAD";
  // A blob of the model's versions; else, for a caller that may push here,
  // one it may link (uploaded, or held by a model it can read): a client
  // checks that before it uploads.
  auto blobs = c.svc.ModelBlobs(c.principal, t.model, {d});  // checked once, opened below
  const Status& sizes = blobs.status();
  if (sizes.ok()) MR_RETURN_IF_ERROR(AgentMayPull(c, t, d.str()));
  if (t.modelpack && sizes.code() == StatusCode::kNotFound) {
    // The view's own blob: its ModelPack config, built, not stored.
    MR_ASSIGN_OR_RETURN(std::string config, c.svc.ModelPackConfig(c.principal, t.model, d));
    c.res.set_header("Docker-Content-Digest", d.str());
    c.res.set_content(std::move(config), kModelPackConfigMediaType);
    return Status::OK();
  }
  if (sizes.ok()) {
    if (head) return SendHead(c, blobs->sizes().front(), d.str(), "application/octet-stream");
    MR_ASSIGN_OR_RETURN(auto reader, blobs->Open(0));
    return SendBlob(c, std::move(reader), d.str(), "application/octet-stream");
  }
  if (sizes.code() == StatusCode::kNotFound) {
    // A referrer's config (the empty one) or document.
    std::string bytes;
    if (d == EmptyConfigDescriptor().digest) {
      bytes = "{}";
    } else if (auto doc = c.svc.ReferrerBytes(c.principal, t.model, d, false); doc.ok()) {
      bytes = std::move(*doc);
    }
    if (!bytes.empty()) {
      c.res.set_header("Docker-Content-Digest", d.str());
      c.res.set_content(std::move(bytes), "application/octet-stream");
      return Status::OK();
    }
    // A blob of a referrer pushed here.
    if (auto reader = c.svc.OpenReferrerBlob(c.principal, t.model, d); reader.ok()) {
      if (head) return SendHead(c, (*reader)->size(), d.str(), "application/octet-stream");
      return SendBlob(c, std::move(*reader), d.str(), "application/octet-stream");
    }
  }
  if (sizes.code() != StatusCode::kNotFound || !RoleAllows(c.principal.role, Action::kRegister)) return sizes;
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
  const bool limited = AgentLimited(c);
  for (const auto& v : versions) {
    if (!limited) tags.push_back(std::to_string(v.number));
    if (v.stage == "production" || v.stage == "staging") tags.push_back(v.stage);
  }
  if (!versions.empty() && !limited) tags.push_back("latest");
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

// The spec's referrers answer: an image index of the artifacts whose
// subject is DIGEST, filtered by ?artifactType=; an unknown digest has none.
Status OciListReferrers(Ctx& c, OciTarget& t) {
  if (t.modelpack) return Status::NotFound("the ModelPack view has no referrers: ask " + t.model);
  MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(t.ref));
  MR_ASSIGN_OR_RETURN(auto artifacts, c.svc.Referrers(c.principal, t.model, d));
  std::vector<ReferrerDescriptor> list;
  for (const auto& a : artifacts) list.push_back(DescriptorOf(a));
  MR_ASSIGN_OR_RETURN(auto pushed, c.svc.PushedReferrers(c.principal, t.model, d));
  list.insert(list.end(), pushed.begin(), pushed.end());
  if (c.req.has_param("artifactType")) {
    const std::string want = c.req.get_param_value("artifactType");
    std::erase_if(list, [&](const ReferrerDescriptor& r) { return r.artifact_type != want; });
    c.res.set_header("OCI-Filters-Applied", "artifactType");
  }
  c.res.set_content(ReferrersIndex(list), kOciIndexMediaType);
  return Status::OK();
}

}  // namespace modelreg::api
