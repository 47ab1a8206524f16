// /v2/ writes: blob uploads (monolithic, chunked, streamed; cross-repository
// mount) and manifest PUT, which registers a version (docs/oci.md "Pushing").
// Every bundle rule and limit of `register` applies: the manifest goes
// through the same RegisterManifest. Stages are never pushed.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/oci_handlers.h"
#include "api/upload_body.h"
#include "core/manifest.h"

namespace modelreg::api {
namespace {

std::string UploadLocation(const OciTarget& t, const std::string& id) {
  return "/v2/" + t.name + "/blobs/uploads/" + id;
}

void BlobCreated(Ctx& c, const OciTarget& t, const Digest& d) {
  c.res.status = 201;
  c.res.set_header("Location", "/v2/" + t.name + "/blobs/" + d.str());
  c.res.set_header("Docker-Content-Digest", d.str());
  c.res.set_content("", "application/octet-stream");
}

// POST ?mount=DIGEST&from=REPO: the blob is already the caller's to link if
// a version of a model it may read holds it (the bearer must grant pull on
// REPO too). Otherwise false: a new session starts (the spec's fallback).
bool Mounted(Ctx& c, OciTarget& t) {
  const std::string from = c.req.get_param_value("from");
  auto d = Digest::Parse(c.req.get_param_value("mount"));
  if (!d.ok() || from.empty() || !t.Grants(from, false)) return false;
  auto sizes = c.svc.ModelBlobSizes(c.principal, ModelOfOciRepository(from), {*d});
  if (!sizes.ok()) return false;
  BlobCreated(c, t, *d);
  return true;
}

bool IsStageName(const std::string& ref) {
  return ref == "production" || ref == "staging" || ref == "archived" || ref == "rejected" || ref == "none";
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() <= 11 &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// What a manifest must be to become a version, said before the strict
// parse does (which names the first rule broken): an OCI image manifest
// whose config is a modelreg lineage record.
Status CheckIsBundle(Ctx& c, OciTarget& t, const std::string& body) {
  const std::string type = c.req.get_header_value("Content-Type");
  const auto semicolon = type.find(';');
  const std::string media = type.substr(0, semicolon);
  if (!media.empty() && media != kOciManifestMediaType) {
    t.info->code = "MANIFEST_INVALID";
    return Status::InvalidArgument("Content-Type " + media.substr(0, 100) +
                                   " is not stored here: modelreg versions are " + kOciManifestMediaType +
                                   " (docs/oci.md \"Pushing\")");
  }
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return Status::InvalidArgument("manifest is not a JSON object");
  const auto config = j.find("config");
  const bool lineage = config != j.end() && config->is_object() && config->contains("mediaType") &&
                       (*config)["mediaType"] == kLineageMediaType;
  if (!lineage)
    return Status::InvalidArgument(
        std::string("the manifest's config is not a modelreg lineage record (") + kLineageMediaType +
        "): a version carries the facts that produced it, so a manifest without them is refused. Build the "
        "bundle with `modelreg register`, or copy one out of modelreg (docs/oci.md \"Pushing\")");
  return Status::OK();
}

// The tag a manifest is pushed to: its digest, latest, or the version
// number it gets; never a stage, nor a free-form tag (modelreg names
// versions itself).
Status CheckPushTag(Ctx& c, OciTarget& t, const Digest& digest) {
  const std::string& ref = t.ref;
  if (ref.find(':') != std::string::npos) {
    auto d = Digest::Parse(ref);
    if (!d.ok() || !(*d == digest)) {
      t.info->code = "DIGEST_INVALID";
      return Status::InvalidArgument("the manifest's digest is " + digest.str() + ", not " + ref.substr(0, 100));
    }
    return Status::OK();
  }
  if (IsStageName(ref))
    return Status::PermissionDenied("'" + ref +
                                    "' is a stage: stages move only through the approval workflow "
                                    "(modelreg promote), never by a push");
  if (ref == "latest") return Status::OK();
  if (AllDigits(ref)) {
    auto existing = c.svc.GetVersion(c.principal, t.model, ref);
    if (existing.ok()) {
      if (existing->version.digest == digest.str()) return Status::OK();
      return Status::PermissionDenied("version " + ref + " of " + t.model + " is another bundle (" +
                                      existing->version.digest + "); versions never change");
    }
    auto model = c.svc.GetModel(c.principal, t.model);
    const int64_t next = model.ok() ? model->version_count + 1 : 1;
    if (ref != std::to_string(next))
      return Status::PermissionDenied("the next version of " + t.model + " is " + std::to_string(next) +
                                      ": push to :" + std::to_string(next) + ", :latest or by digest");
    return Status::OK();
  }
  return Status::PermissionDenied("tag '" + ref.substr(0, 100) +
                                  "' cannot be pushed: modelreg numbers versions itself; push to :latest (or the "
                                  "next version number, or by digest) and read the number from the answer");
}

// A manifest with a subject (a signature, an attestation) about a version:
// stored beside it, by digest only (it is no version), answered with
// OCI-Subject.
Status PutReferrer(Ctx& c, OciTarget& t, const std::string& body) {
  const Digest digest = Digest::Of(body);
  if (t.ref.find(':') == std::string::npos)
    return Status::PermissionDenied("a manifest with a subject is pushed by its digest (" + digest.str() +
                                    "), not to a tag: tags here are versions and stages");
  if (auto d = Digest::Parse(t.ref); !d.ok() || !(*d == digest)) {
    t.info->code = "DIGEST_INVALID";
    return Status::InvalidArgument("the manifest's digest is " + digest.str() + ", not " + t.ref.substr(0, 100));
  }
  const std::string type = c.req.get_header_value("Content-Type");
  if (!type.empty() && type.substr(0, type.find(';')) != kOciManifestMediaType)
    return Status::InvalidArgument("Content-Type " + type.substr(0, 100) + " is not " + kOciManifestMediaType);
  MR_ASSIGN_OR_RETURN(auto r, c.svc.PushReferrer(c.principal, t.model, body));
  c.res.status = 201;
  c.res.set_header("Location", "/v2/" + t.name + "/manifests/" + r.digest);
  c.res.set_header("Docker-Content-Digest", r.digest);
  c.res.set_header("OCI-Subject", r.subject);
  c.res.set_content("", "application/octet-stream");
  return Status::OK();
}

}  // namespace

Status OciStartUpload(Ctx& c, OciTarget& t) {
  if (c.req.has_param("mount") && Mounted(c, t)) return Status::OK();
  MR_ASSIGN_OR_RETURN(auto state, c.svc.StartUpload(c.principal));
  if (c.req.has_param("digest")) {  // monolithic: POST ?digest= with the whole body
    auto fd = FinishUploadBody(c, state.id, UploadLocation(t, state.id), c.req.get_param_value("digest"));
    if (!fd.ok()) {
      (void)c.svc.CancelUpload(c.principal, state.id);
      return fd.status();
    }
    BlobCreated(c, t, fd->digest);
    return Status::OK();
  }
  SetUploadSessionHeaders(c, state.id, UploadLocation(t, state.id), 0);
  c.res.status = 202;
  c.res.set_content("", "application/octet-stream");
  return Status::OK();
}

Status OciGetUpload(Ctx& c, OciTarget& t) {
  MR_ASSIGN_OR_RETURN(auto state, c.svc.GetUpload(c.principal, t.ref));
  SetUploadSessionHeaders(c, state.id, UploadLocation(t, state.id), state.offset);
  c.res.status = 204;
  return Status::OK();
}

Status OciPatchUpload(Ctx& c, OciTarget& t) {
  MR_RETURN_IF_ERROR(AppendUploadBody(c, t.ref, UploadLocation(t, t.ref)).status());
  c.res.status = 202;
  c.res.set_content("", "application/octet-stream");
  return Status::OK();
}

Status OciFinishUpload(Ctx& c, OciTarget& t) {
  if (!c.req.has_param("digest")) return Status::InvalidArgument("finishing an upload needs ?digest=sha256:...");
  MR_ASSIGN_OR_RETURN(FileDigest fd,
                      FinishUploadBody(c, t.ref, UploadLocation(t, t.ref), c.req.get_param_value("digest")));
  BlobCreated(c, t, fd.digest);
  return Status::OK();
}

Status OciCancelUpload(Ctx& c, OciTarget& t) {
  MR_RETURN_IF_ERROR(c.svc.CancelUpload(c.principal, t.ref));
  c.res.status = 204;
  return Status::OK();
}

Status OciPutManifest(Ctx& c, OciTarget& t) {
  const auto& limits = c.svc.options().limits;
  MR_ASSIGN_OR_RETURN(std::string body, ReadBody(c, limits.max_manifest_bytes));
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("subject")) return PutReferrer(c, t, body);
  MR_RETURN_IF_ERROR(CheckIsBundle(c, t, body));
  const Digest digest = Digest::Of(body);
  MR_RETURN_IF_ERROR(CheckPushTag(c, t, digest));
  MR_ASSIGN_OR_RETURN(auto r, c.svc.RegisterManifest(c.principal, t.model, body));
  // The tag must name what was pushed once the push is answered: a bundle
  // registered before keeps its number, and `latest` stays the highest.
  if (t.ref.find(':') == std::string::npos) {
    auto named = c.svc.GetVersion(c.principal, t.model, t.ref);
    if (!named.ok() && named.status().code() != StatusCode::kNotFound) return named.status();
    if (!named.ok() || named->version.digest != r.version.digest)
      return Status::PermissionDenied(
          "this bundle is version " + std::to_string(r.version.number) + " of " + t.model +
          (r.created ? " (registered just now)" : " (registered before)") + ", but :" + t.ref +
          (named.ok() ? " is version " + std::to_string(named->version.number) : std::string(" names no version")) +
          ": push to :" + std::to_string(r.version.number) + " or by digest");
  }
  c.res.status = 201;
  c.res.set_header("Location", "/v2/" + t.name + "/manifests/" + r.version.digest);
  c.res.set_header("Docker-Content-Digest", r.version.digest);
  c.res.set_header("Modelreg-Version", std::to_string(r.version.number));
  c.res.set_content("", "application/octet-stream");
  return Status::OK();
}

Status OciDeleteRefused(Ctx&, OciTarget& t) {
  t.info->code = "UNSUPPORTED";
  t.info->http_status = 405;
  return Status::InvalidArgument(
      "nothing is deleted through /v2/: versions never change; archive one through the workflow (docs/cli.md)");
}

}  // namespace modelreg::api
