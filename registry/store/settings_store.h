// Registry-wide settings (name -> value), shared by every replica of one
// database. Call only inside Database::Transact.
#pragma once

#include <optional>
#include <string>

#include "store/database.h"

namespace modelreg::store {

std::optional<std::string> GetSetting(Tx& tx, const std::string& name);
// Stores `value` unless `name` is set; returns the value now stored.
std::string SetSettingIfAbsent(Tx& tx, const std::string& name, const std::string& value);

}  // namespace modelreg::store
