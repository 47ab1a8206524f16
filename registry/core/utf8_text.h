// UTF-8 at the byte level: one decoder of a sequence, shared by the
// terminal escaping (core/terminal_text.h) and by whatever must cut text to
// a byte budget without producing invalid UTF-8. Pure, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace modelreg {

// Length of the valid UTF-8 sequence at s[i] (1-4), or 0 if there is none
// (a stray continuation byte, an overlong form, a surrogate, > U+10FFFF, a
// cut sequence). *cp receives the code point.
size_t Utf8At(std::string_view s, size_t i, uint32_t* cp);

// Whether all of `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);

// The longest prefix of `s`, with each byte that is not part of valid UTF-8
// replaced by U+FFFD (3 bytes), that fits in `max_bytes`: valid UTF-8, never
// a character cut in two. (The agent's recorded model output: JSON replaces
// such bytes the same way, and the registry refuses an output over its
// limit, so the cut must be made after the replacement.)
std::string Utf8Prefix(std::string_view s, size_t max_bytes);

}  // namespace modelreg
