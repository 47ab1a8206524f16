// Shell-style globs over names ('*', '?', '[...]', '[!...]'; a backslash
// is an ordinary character): the model globs of scoped tokens
// (auth/permissions.h) and of webhooks (core/events.h). Which characters a
// glob may hold is checked where it is stored (auth ValidateGlob). Pure,
// thread-safe.
#pragma once

#include <string_view>

namespace modelreg {

// Whether `glob` matches the whole of `name`. A NUL byte in either ends it
// there (neither a model name nor a stored glob holds one).
bool GlobMatch(std::string_view glob, std::string_view name);

}  // namespace modelreg
