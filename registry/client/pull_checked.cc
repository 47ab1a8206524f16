// RegistryClient::PullChecked and ManifestOf (contracts in registry_client.h).
#include <filesystem>

#include "client/api_path.h"
#include "client/client_impl.h"
#include "client/pull_dest.h"
#include "client/registry_client.h"
#include "core/file_util.h"

namespace modelreg {

namespace fs = std::filesystem;

Result<Manifest> RegistryClient::ManifestOf(const std::string& model, const std::string& version, std::string* digest) {
  MR_ASSIGN_OR_RETURN(VersionView v, Version(model, version));
  MR_ASSIGN_OR_RETURN(Digest want, Digest::Parse(v.record.digest));
  const std::string path = ApiPath({"models", model, "versions", want.str(), "manifest"});
  auto r = impl_->Once([&] { return impl_->http->Get(path, impl_->Auth()); });
  MR_RETURN_IF_ERROR(impl_->FromResult(r, "manifest of " + model + " " + version));
  if (Digest::Of(r->body) != want)
    return Status::DataLoss("manifest of " + model + " " + version + " does not hash to " + want.str());
  if (digest) *digest = want.str();
  return ParseManifest(r->body);
}

Result<PullOutcome> RegistryClient::PullChecked(const std::string& model, const std::string& ref,
                                                const std::string& dest_in, bool replace) {
  fs::path dest = fs::absolute(dest_in).lexically_normal();
  if (dest.filename().empty()) dest = dest.parent_path();
  std::string digest;
  MR_ASSIGN_OR_RETURN(Manifest m, ManifestOf(model, ref, &digest));
  MR_ASSIGN_OR_RETURN(DestContent held, CompareDest(dest.string(), m));
  if (held == DestContent::kNothing) return Pull(model, digest, dest.string());
  if (held == DestContent::kSameBundle) {
    MR_ASSIGN_OR_RETURN(VersionView v, Version(model, digest));
    PullOutcome out;
    out.digest = digest;
    out.version = v.record.number;
    out.unchanged = true;
    out.stats.files = m.layers.size();
    out.stats.bytes_total = m.TotalLayerBytes();
    return out;
  }
  if (!replace)
    return Status::AlreadyExists(dest.string() + " holds something else than " + model + " " + ref +
                                 "; pass --force to replace it");
  // A fresh directory beside DEST (same file system), pulled whole, then swapped in.
  const fs::path fresh = dest.parent_path() / ("." + dest.filename().string() + ".modelreg-replace-" + RandomHex(4));
  MR_ASSIGN_OR_RETURN(PullOutcome out, Pull(model, digest, fresh.string()));
  Status swapped = ExchangePaths(fresh.string(), dest.string());
  std::error_code ec;
  if (!swapped.ok()) {
    fs::remove_all(fresh, ec);
    return swapped;
  }
  MR_RETURN_IF_ERROR(FsyncDir(dest.parent_path().string()));
  fs::remove_all(fresh, ec);  // the old contents, now under the fresh name
  if (ec)
    return Status::FromErrno("remove the replaced " + dest.string() + " (now " + fresh.string() + ")", ec.value());
  out.replaced = true;
  return out;
}

}  // namespace modelreg
