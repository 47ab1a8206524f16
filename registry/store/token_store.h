// Data access for access tokens and upload sessions. Call only inside
// Database::Transact. Tokens are stored by the sha256 of their text only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/records.h"
#include "store/database.h"

namespace modelreg::store {

// Looks a token up by the sha256 of its text (32 raw bytes); revoked tokens
// are returned too, with revoked_at_ms set.
std::optional<TokenRecord> FindTokenByHash(Tx& tx, const std::string& hash32);
std::optional<TokenRecord> FindTokenByName(Tx& tx, const std::string& name);
// AlreadyExists (as an exception caught by Transact) if the name is taken.
void InsertToken(Tx& tx, TokenRecord* t, const std::string& hash32);
std::vector<TokenRecord> ListTokens(Tx& tx);
// Returns false if no active token has that name.
bool RevokeToken(Tx& tx, const std::string& name, int64_t now_ms);
// Admin tokens neither revoked nor expired at `now_ms`.
int64_t CountActiveAdminTokens(Tx& tx, int64_t now_ms);

void InsertUpload(Tx& tx, const UploadRecord& u);
std::optional<UploadRecord> FindUpload(Tx& tx, const std::string& id);
void TouchUpload(Tx& tx, const std::string& id, int64_t now_ms);
void DeleteUpload(Tx& tx, const std::string& id);
std::vector<std::string> ListUploadsIdleSince(Tx& tx, int64_t before_ms);
std::vector<std::string> ListAllUploads(Tx& tx);

}  // namespace modelreg::store
