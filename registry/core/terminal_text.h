// Text from elsewhere (a registry's answer, a stored record) made safe to
// print on a terminal: the one escaping helper, used by everything the CLI
// prints in human form (cli/common.h) and by messages that quote user text.
//
// TerminalSafe(s) returns s with every C0 control (U+0000-U+001F), DEL
// (U+007F) and C1 control (U+0080-U+009F, which some terminals obey as
// ESC-sequences) written as a JSON-style escape, six characters `\u001b`,
// and every byte that is not part of valid UTF-8 replaced by U+FFFD. With
// `keep_newlines`, '\n' stays (for multi-line text such as a PEM key or
// pretty-printed JSON). Nothing else changes: a backslash stays a backslash,
// so the result is for reading, not for reversing.
//
// Because the escapes are JSON's own, the result of TerminalSafe on JSON
// text (nlohmann's dump, which escapes only C0) is still the same JSON
// value, now without raw DEL or C1. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace modelreg {

std::string TerminalSafe(std::string_view s, bool keep_newlines = false);

// The first control character (C0, DEL, C1) in `s`, as "U+001B", or "" when
// there is none. For validators that refuse such text.
std::string FirstControlChar(std::string_view s);

}  // namespace modelreg
