#include "core/request_id.h"

#include <cctype>

#include "core/file_util.h"

namespace modelreg {

bool IsValidRequestId(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string RequestIdOrNew(const std::string& given) { return IsValidRequestId(given) ? given : RandomHex(8); }

}  // namespace modelreg
