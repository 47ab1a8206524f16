#include "store/token_store.h"

#include <sstream>

#include "store/sql.h"

namespace modelreg::store {
namespace {

constexpr char kTokenSelect[] =
    "SELECT id, name, role, model_globs, created_at_ms, created_by, revoked_at_ms, expires_at_ms FROM tokens";

TokenRecord ReadToken(Statement& q) {
  TokenRecord t;
  t.id = q.getColumn(0).getInt64();
  t.name = q.getColumn(1).getString();
  auto role = ParseRole(q.getColumn(2).getString());
  t.role = role.ok() ? *role : Role::kAuditor;  // CHECK constraint makes this unreachable
  std::istringstream globs(q.getColumn(3).getString());
  for (std::string g; std::getline(globs, g);)
    if (!g.empty()) t.model_globs.push_back(g);
  t.created_at_ms = q.getColumn(4).getInt64();
  t.created_by = q.getColumn(5).getString();
  if (!q.getColumn(6).isNull()) t.revoked_at_ms = q.getColumn(6).getInt64();
  if (!q.getColumn(7).isNull()) t.expires_at_ms = q.getColumn(7).getInt64();
  return t;
}

}  // namespace

std::optional<TokenRecord> FindTokenByHash(Tx& tx, const std::string& hash32) {
  Statement q(tx, std::string(kTokenSelect) + " WHERE hash = ?");
  q.bind(1, hash32.data(), static_cast<int>(hash32.size()));
  if (q.executeStep()) return ReadToken(q);
  return std::nullopt;
}

std::optional<TokenRecord> FindTokenByName(Tx& tx, const std::string& name) {
  Statement q(tx, std::string(kTokenSelect) + " WHERE name = ?");
  q.bind(1, name);
  if (q.executeStep()) return ReadToken(q);
  return std::nullopt;
}

void InsertToken(Tx& tx, TokenRecord* t, const std::string& hash32) {
  std::string globs;
  for (const auto& g : t->model_globs) globs += g + "\n";
  Statement ins(tx,
                "INSERT INTO tokens (name, hash, role, model_globs, created_at_ms, created_by, expires_at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
  ins.bind(1, t->name);
  ins.bind(2, hash32.data(), static_cast<int>(hash32.size()));
  ins.bind(3, RoleName(t->role));
  ins.bind(4, globs);
  ins.bind(5, t->created_at_ms);
  ins.bind(6, t->created_by);
  if (t->expires_at_ms) ins.bind(7, *t->expires_at_ms);
  else ins.bind(7);
  ins.executeStep();
  t->id = ins.getColumn(0).getInt64();
}

std::vector<TokenRecord> ListTokens(Tx& tx) {
  Statement q(tx, std::string(kTokenSelect) + " ORDER BY name");
  std::vector<TokenRecord> out;
  while (q.executeStep()) out.push_back(ReadToken(q));
  return out;
}

bool RevokeToken(Tx& tx, const std::string& name, int64_t now_ms) {
  Statement q(tx, "UPDATE tokens SET revoked_at_ms = ? WHERE name = ? AND revoked_at_ms IS NULL");
  q.bind(1, now_ms);
  q.bind(2, name);
  return q.exec() > 0;
}

int64_t CountActiveAdminTokens(Tx& tx, int64_t now_ms) {
  Statement q(tx,
              "SELECT COUNT(*) FROM tokens WHERE role = 'admin' AND revoked_at_ms IS NULL"
              " AND (expires_at_ms IS NULL OR expires_at_ms > ?)");
  q.bind(1, now_ms);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

void InsertUpload(Tx& tx, const UploadRecord& u) {
  Statement q(tx, "INSERT INTO uploads (id, created_by, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?)");
  q.bind(1, u.id);
  q.bind(2, u.created_by);
  q.bind(3, u.created_at_ms);
  q.bind(4, u.updated_at_ms);
  q.exec();
}

std::optional<UploadRecord> FindUpload(Tx& tx, const std::string& id) {
  Statement q(tx, "SELECT id, created_by, created_at_ms, updated_at_ms FROM uploads WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return UploadRecord{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt64(),
                      q.getColumn(3).getInt64()};
}

void TouchUpload(Tx& tx, const std::string& id, int64_t now_ms) {
  Statement q(tx, "UPDATE uploads SET updated_at_ms = ? WHERE id = ?");
  q.bind(1, now_ms);
  q.bind(2, id);
  q.exec();
}

void DeleteUpload(Tx& tx, const std::string& id) {
  Statement q(tx, "DELETE FROM uploads WHERE id = ?");
  q.bind(1, id);
  q.exec();
}

std::vector<std::string> ListUploadsIdleSince(Tx& tx, int64_t before_ms) {
  Statement q(tx, "SELECT id FROM uploads WHERE updated_at_ms < ?");
  q.bind(1, before_ms);
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

std::vector<std::string> ListAllUploads(Tx& tx) {
  Statement q(tx, "SELECT id FROM uploads");
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

}  // namespace modelreg::store
