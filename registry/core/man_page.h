// A man page (roff, man(7) macros) from the plain help text a program prints
// for --help: the same words, so the two cannot drift. modelreg and
// modelreg-agent print theirs with `modelreg help --man` and
// `modelreg-agent --man`; the build writes them to share/man/man1
// (cli/CMakeLists.txt). Pure.
#pragma once

#include <string>
#include <vector>

namespace modelreg {

struct ManSection {
  std::string title;  // "COMMANDS"
  // Either preformatted text, kept line for line...
  std::string text;
  // ...or entries: a heading (a synopsis) and its preformatted body.
  std::vector<std::pair<std::string, std::string>> entries;
};

// `name` (lowercase program name), `summary` (for NAME), `version` (footer).
std::string RenderManPage(const std::string& name, const std::string& summary, const std::string& version,
                          const std::vector<ManSection>& sections);

// Text escaped for roff: backslashes, a leading '.' or '\'', and '-' as \-.
std::string RoffEscape(const std::string& text);

}  // namespace modelreg
