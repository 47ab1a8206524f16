#include "store/settings_store.h"

namespace modelreg::store {

std::optional<std::string> GetSetting(Tx& tx, const std::string& name) {
  Statement q(tx, "SELECT value FROM settings WHERE name = ?");
  q.bind(1, name);
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getString();
}

std::string SetSettingIfAbsent(Tx& tx, const std::string& name, const std::string& value) {
  Statement ins(tx, "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING");
  ins.bind(1, name);
  ins.bind(2, value);
  ins.exec();
  return GetSetting(tx, name).value_or(value);
}

}  // namespace modelreg::store
