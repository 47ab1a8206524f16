#include "client/api_path.h"

#include <cctype>

namespace modelreg {

std::string UrlComponent(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ApiPath(std::initializer_list<std::string_view> segments) {
  std::string out = "/api/v1";
  for (auto s : segments) out += "/" + UrlComponent(s);
  return out;
}

std::string WithQuery(std::string path, const std::vector<std::pair<std::string, std::string>>& query) {
  char sep = path.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : query) {
    if (v.empty()) continue;
    path += sep + k + "=" + UrlComponent(v);
    sep = '&';
  }
  return path;
}

}  // namespace modelreg
