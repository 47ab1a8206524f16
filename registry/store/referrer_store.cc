#include "store/referrer_store.h"

namespace modelreg::store {
namespace {

constexpr char kColumns[] = "subject, digest, size, artifact_type, created_at_ms, created_by";

ReferrerRow RowOf(Statement& q) {
  return ReferrerRow{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt64(),
                     q.getColumn(3).getString(), q.getColumn(4).getInt64(),  q.getColumn(5).getString()};
}

}  // namespace

bool InsertReferrer(Tx& tx, int64_t model_id, const ReferrerRow& r, const std::vector<BlobRef>& blobs) {
  Statement ins(tx, std::string("INSERT INTO oci_referrers (model_id, ") + kColumns +
                        ") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id");
  ins.bind(1, model_id);
  ins.bind(2, r.subject);
  ins.bind(3, r.digest);
  ins.bind(4, r.size);
  ins.bind(5, r.artifact_type);
  ins.bind(6, r.created_at_ms);
  ins.bind(7, r.created_by);
  if (!ins.executeStep()) return false;
  const int64_t id = ins.getColumn(0).getInt64();
  Statement blob(tx,
                 "INSERT INTO oci_referrer_blobs (referrer_id, digest, size) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  for (const auto& b : blobs) {
    blob.bind(1, id);
    blob.bind(2, b.digest);
    blob.bind(3, b.size);
    blob.exec();
    blob.reset();
  }
  return true;
}

std::vector<ReferrerRow> ListReferrers(Tx& tx, int64_t model_id, const std::string& subject) {
  Statement q(tx,
              std::string("SELECT ") + kColumns + " FROM oci_referrers WHERE model_id = ? AND subject = ? ORDER BY id");
  q.bind(1, model_id);
  q.bind(2, subject);
  std::vector<ReferrerRow> out;
  while (q.executeStep()) out.push_back(RowOf(q));
  return out;
}

std::optional<ReferrerRow> FindReferrer(Tx& tx, int64_t model_id, const std::string& digest) {
  Statement q(tx, std::string("SELECT ") + kColumns + " FROM oci_referrers WHERE model_id = ? AND digest = ?");
  q.bind(1, model_id);
  q.bind(2, digest);
  if (!q.executeStep()) return std::nullopt;
  return RowOf(q);
}

std::optional<int64_t> ReferrerBlobSize(Tx& tx, int64_t model_id, const std::string& digest) {
  Statement q(tx,
              "SELECT b.size FROM oci_referrer_blobs b JOIN oci_referrers r ON r.id = b.referrer_id"
              " WHERE r.model_id = ? AND b.digest = ? LIMIT 1");
  q.bind(1, model_id);
  q.bind(2, digest);
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getInt64();
}

}  // namespace modelreg::store
