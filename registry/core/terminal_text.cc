#include "core/terminal_text.h"

#include <cstdint>
#include <cstdio>

#include "core/utf8_text.h"

namespace modelreg {
namespace {

bool IsControl(uint32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

}  // namespace

std::string TerminalSafe(std::string_view s, bool keep_newlines) {
  // Fast path: printable ASCII only (and newlines if kept).
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && !(keep_newlines && c == '\n')) || c >= 0x7f) break;
    ++i;
  }
  if (i == s.size()) return std::string(s);
  std::string out(s.substr(0, i));
  out.reserve(s.size() + 16);
  while (i < s.size()) {
    uint32_t cp;
    const size_t n = Utf8At(s, i, &cp);
    if (n == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
      continue;
    }
    if (IsControl(cp) && !(keep_newlines && cp == '\n')) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.data() + i, n);
    }
    i += n;
  }
  return out;
}

std::string FirstControlChar(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const size_t n = Utf8At(s, i, &cp);
    if (n == 0) {
      ++i;
      continue;
    }
    if (IsControl(cp)) {
      char buf[16];
      snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
      return buf;
    }
    i += n;
  }
  return "";
}

}  // namespace modelreg
