// Token use cases: authenticate, create, list, revoke, bootstrap the admin.
#include <sys/stat.h>

#include "auth/token.h"
#include "core/bundle_path.h"
#include "core/clock.h"
#include "core/file_util.h"
#include "service/audit.h"
#include "service/channels.h"
#include "service/registry_service.h"
#include "service/release_internal.h"
#include "store/token_store.h"

namespace modelreg {

void RegistryService::TokensChanged() {
  std::lock_guard<std::mutex> l(tokens_->mu);
  ++tokens_->generation;
  tokens_->by_hash.clear();
}

Principal RegistryService::LocalOperator() { return Principal{"local-operator", Role::kAdmin, {}}; }

Result<Principal> RegistryService::Authenticate(const std::string& token) const {
  if (token.empty()) return Status::Unauthenticated("missing bearer token");
  if (!LooksLikeToken(token)) return Status::Unauthenticated("malformed token");
  return AuthenticateHash(TokenHash(token));
}

Result<Principal> RegistryService::AuthenticateHash(const std::string& hash) const {
  const int64_t now = NowMs();
  {
    std::lock_guard<std::mutex> l(tokens_->mu);
    auto it = tokens_->by_hash.find(hash);
    if (it != tokens_->by_hash.end() && it->second.generation == tokens_->generation &&
        now - it->second.at_ms < TokenCache::kFreshMs && HashesEqual(it->first, hash) &&
        (!it->second.expires_at_ms || now < *it->second.expires_at_ms))
      return it->second.principal;
  }
  std::optional<TokenRecord> rec;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    rec = store::FindTokenByHash(tx, hash);
    return Status::OK();
  }));
  if (!rec) return Status::Unauthenticated("unknown token");
  if (rec->revoked_at_ms) return Status::Unauthenticated("token '" + rec->name + "' was revoked");
  if (rec->expires_at_ms && now >= *rec->expires_at_ms)
    return Status::Unauthenticated("token '" + rec->name + "' expired at " + FormatIsoTime(*rec->expires_at_ms));
  Principal p{rec->name, rec->role, rec->model_globs};
  std::lock_guard<std::mutex> l(tokens_->mu);
  if (tokens_->by_hash.size() > 10000) tokens_->by_hash.clear();
  tokens_->by_hash[hash] = TokenCache::Entry{p, tokens_->generation, now, rec->expires_at_ms};
  return p;
}

Result<TokenCreated> RegistryService::CreateToken(const Principal& actor, const std::string& name, Role role,
                                                  const std::vector<std::string>& model_globs,
                                                  std::optional<int64_t> expires_at_ms) {
  MR_RETURN_IF_ERROR(Authorize(actor, Action::kManageTokens));
  MR_RETURN_IF_ERROR(ValidateTokenName(name));
  for (const auto& g : model_globs) MR_RETURN_IF_ERROR(ValidateGlob(g));
  TokenCreated out;
  out.token = GenerateToken();
  const int64_t now = NowMs();
  if (expires_at_ms && *expires_at_ms <= now)
    return Status::InvalidArgument("the expiry time " + FormatIsoTime(*expires_at_ms) + " is not in the future");
  out.record = TokenRecord{0, name, role, model_globs, now, actor.name, std::nullopt, expires_at_ms};
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    if (store::FindTokenByName(tx, name)) return Status::AlreadyExists("a token named '" + name + "' already exists");
    store::InsertToken(tx, &out.record, TokenHash(out.token));
    nlohmann::json details = {{"name", name}, {"role", RoleName(role)}, {"models", model_globs}};
    if (expires_at_ms) details["expires_at"] = FormatIsoTime(*expires_at_ms);
    service_internal::Audit(tx, actor.name, "token.create", "", std::nullopt, details);
    return Status::OK();
  }));
  return out;
}

Result<std::vector<TokenRecord>> RegistryService::ListTokens(const Principal& actor) const {
  MR_RETURN_IF_ERROR(Authorize(actor, Action::kManageTokens));
  std::vector<TokenRecord> out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    out = store::ListTokens(tx);
    return Status::OK();
  }));
  return out;
}

Status RegistryService::RevokeToken(const Principal& actor, const std::string& name) {
  MR_RETURN_IF_ERROR(Authorize(actor, Action::kManageTokens));
  Status st = db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    auto t = store::FindTokenByName(tx, name);
    if (!t) return Status::NotFound("no token named '" + name + "'");
    if (t->revoked_at_ms) return Status::FailedPrecondition("token '" + name + "' is already revoked");
    if (t->role == Role::kAdmin && store::CountActiveAdminTokens(tx, NowMs()) <= 1)
      return Status::FailedPrecondition("refusing to revoke the last admin token; create another admin first");
    store::RevokeToken(tx, name, NowMs());
    service_internal::Audit(tx, actor.name, "token.revoke", "", std::nullopt, {{"name", name}});
    tx.Notify(service_internal::kTokensChannel, name);
    return Status::OK();
  });
  TokensChanged();
  return st;
}

Result<bool> RegistryService::BootstrapAdmin() {
  std::string token;
  Status st = db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    if (!store::ListTokens(tx).empty()) return Status::OK();
    token = GenerateToken();
    TokenRecord rec{0, "admin", Role::kAdmin, {}, NowMs(), "bootstrap", std::nullopt, std::nullopt};
    store::InsertToken(tx, &rec, TokenHash(token));
    service_internal::Audit(tx, "bootstrap", "token.create", "", std::nullopt,
                            {{"name", "admin"}, {"role", "admin"}, {"models", nlohmann::json::array()}});
    // Write the file inside the transaction: if it cannot be written, no
    // token exists that nobody knows.
    return WriteFileAtomic(data_dir_ + "/admin.token", token + "\n", 0600);
  });
  if (!st.ok()) return st;
  if (!token.empty()) ::chmod((data_dir_ + "/admin.token").c_str(), 0600);
  return !token.empty();
}

}  // namespace modelreg
