#include "store/blob_reach.h"

#include <map>

#include "store/sql.h"

namespace modelreg::store {

void RecordUploads(Tx& tx, const std::vector<std::string>& digests, const std::string& uploader) {
  Statement q(tx, "INSERT INTO blob_uploaders (digest, uploader) VALUES (?, ?) ON CONFLICT DO NOTHING");
  for (const auto& d : digests) {
    q.reset();
    q.bind(1, d);
    q.bind(2, uploader);
    q.exec();
  }
}

struct BlobReach::Impl {
  Impl(Tx& tx, std::string who, std::function<bool(const std::string&)> see)
      : uploaded(tx, "SELECT 1 FROM blob_uploaders WHERE digest = ? AND uploader = ?"),
        holders(tx,
                "SELECT m.name FROM version_blobs b JOIN versions v ON v.id = b.version_id"
                " JOIN models m ON m.id = v.model_id WHERE b.digest = ?"),
        uploader(std::move(who)),
        can_see(std::move(see)) {}
  Statement uploaded, holders;
  std::string uploader;
  std::function<bool(const std::string&)> can_see;
  std::map<std::string, bool> seen;  // model -> can_see, asked once each
};

BlobReach::BlobReach(Tx& tx, std::string uploader, std::function<bool(const std::string& model)> can_see)
    : impl_(std::make_unique<Impl>(tx, std::move(uploader), std::move(can_see))) {}

BlobReach::~BlobReach() = default;

bool BlobReach::Reaches(const std::string& digest) {
  Impl& i = *impl_;
  i.uploaded.reset();
  i.uploaded.bind(1, digest);
  i.uploaded.bind(2, i.uploader);
  if (i.uploaded.executeStep()) return true;
  i.holders.reset();
  i.holders.bind(1, digest);
  while (i.holders.executeStep()) {
    std::string model = i.holders.getColumn(0).getString();
    auto it = i.seen.find(model);
    if (it == i.seen.end()) it = i.seen.emplace(model, i.can_see(model)).first;
    if (it->second) return true;
  }
  return false;
}

}  // namespace modelreg::store
