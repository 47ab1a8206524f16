#include "core/man_page.h"

#include <algorithm>
#include <sstream>

namespace modelreg {

std::string RoffEscape(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
    line_start = c == '\n';
  }
  return out;
}

namespace {

// Preformatted lines, kept as they are (no filling, no adjusting).
void Preformatted(std::ostringstream& o, const std::string& text) {
  o << ".nf\n" << RoffEscape(text);
  if (!text.empty() && text.back() != '\n') o << "\n";
  o << ".fi\n";
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

}  // namespace

std::string RenderManPage(const std::string& name, const std::string& summary, const std::string& version,
                          const std::vector<ManSection>& sections) {
  std::ostringstream o;
  o << ".\\\" Generated from " << name << "'s help text; do not edit.\n";
  o << ".TH " << Upper(name) << " 1 \"\" \"" << name << " " << version << "\" \"User Commands\"\n";
  o << ".SH NAME\n" << RoffEscape(name) << " \\- " << RoffEscape(summary) << "\n";
  for (const auto& s : sections) {
    o << ".SH " << RoffEscape(Upper(s.title)) << "\n";
    if (!s.text.empty()) Preformatted(o, s.text);
    for (const auto& [head, body] : s.entries) {
      o << ".SS \"" << RoffEscape(head) << "\"\n";
      Preformatted(o, body);
    }
  }
  return o.str();
}

}  // namespace modelreg
