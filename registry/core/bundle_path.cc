#include "core/bundle_path.h"

#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace modelreg {
namespace {

// Decodes one UTF-8 code point at s[i]; returns its length or 0 if invalid
// (overlong forms, surrogates and values above U+10FFFF are invalid).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t len;
  uint32_t v;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    v = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    v = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    v = c & 0x07;
  } else return 0;
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i + k) & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

std::string Quote(std::string_view p) {
  std::string out = "'";
  for (unsigned char c : p) {
    if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// " (written cafe\u0301.bin and caf\u00E9.bin)" for two colliding names that
// may print alike (the same accent combined or precomposed); "" for ASCII.
std::string Escaped(std::string_view a, std::string_view b) {
  auto escape = [](std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size() && out.size() < 300;) {
      uint32_t cp;
      size_t n = DecodeUtf8(s, i, &cp);
      if (n == 0) break;
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else {
        char buf[16];
        snprintf(buf, sizeof buf, cp > 0xFFFF ? "\\U%08X" : "\\u%04X", cp);
        out += buf;
      }
      i += n;
    }
    return out;
  };
  if (IsAscii(a) && IsAscii(b)) return "";
  return " (written " + escape(a) + " and " + escape(b) + ")";
}

Status Bad(std::string_view path, const char* why) {
  return Status::InvalidArgument("bad bundle path " + Quote(path.substr(0, 200)) + ": " + why);
}

}  // namespace

std::string CaseFold(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  const bool ascii = IsAscii(s);
  // ASCII is its own NFD and its case folding is lowercasing: the common
  // case never reaches libunistring. Invalid UTF-8 keeps the ASCII-folded
  // bytes (validation rejects it anyway).
  if (ascii || u8_check(reinterpret_cast<const uint8_t*>(s.data()), s.size()) != nullptr) return out;
  // Canonical caseless matching (Unicode D145): NFD(casefold(NFD(s))).
  // No language tailoring, so the result does not depend on the locale.
  size_t nfd_len = 0;
  std::unique_ptr<uint8_t, decltype(&free)> nfd(
      u8_normalize(UNINORM_NFD, reinterpret_cast<const uint8_t*>(s.data()), s.size(), nullptr, &nfd_len), &free);
  if (!nfd) return out;  // out of memory: the ASCII fold, stricter checks lost
  size_t folded_len = 0;
  std::unique_ptr<uint8_t, decltype(&free)> folded(
      u8_casefold(nfd.get(), nfd_len, nullptr, UNINORM_NFD, nullptr, &folded_len), &free);
  if (!folded) return out;
  return std::string(reinterpret_cast<const char*>(folded.get()), folded_len);
}

Status ValidateBundlePath(std::string_view path, const BundleLimits& limits) {
  if (path.empty()) return Bad(path, "empty path");
  if (path.size() > limits.max_path_bytes) return Bad(path, "path too long");
  if (path.front() == '/') return Bad(path, "absolute paths are not allowed");
  for (size_t i = 0; i < path.size();) {
    uint32_t cp;
    size_t n = DecodeUtf8(path, i, &cp);
    if (n == 0) return Bad(path, "not valid UTF-8");
    if (cp == 0) return Bad(path, "contains NUL");
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) return Bad(path, "contains a control character");
    if (cp == '\\') return Bad(path, "contains a backslash");
    i += n;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (comp.empty()) return Bad(path, "empty path component");
    if (comp == "." || comp == "..") return Bad(path, "'.' and '..' components are not allowed");
    start = end + 1;
  }
  return Status::OK();
}

Status ValidateBundlePathSet(const std::vector<std::string>& paths, const BundleLimits& limits) {
  if (paths.size() > limits.max_files)
    return Status::ResourceExhausted("bundle has " + std::to_string(paths.size()) + " files, limit is " +
                                     std::to_string(limits.max_files));
  std::unordered_map<std::string, const std::string*> folded;
  folded.reserve(paths.size() * 2);
  for (const auto& p : paths) {
    MR_RETURN_IF_ERROR(ValidateBundlePath(p, limits));
    auto [it, inserted] = folded.emplace(CaseFold(p), &p);
    if (!inserted) {
      if (*it->second == p) return Bad(p, "listed twice");
      return Bad(p, ("collides with " + Quote(*it->second) + Escaped(p, *it->second) +
                     " after case-folding and Unicode normalization (a case-insensitive or "
                     "normalizing filesystem, as on macOS or Windows, would store them as one file)")
                        .c_str());
    }
  }
  // A file may not also be a directory prefix of another file.
  for (const auto& [f, orig] : folded) {
    for (size_t pos = f.find('/'); pos != std::string::npos; pos = f.find('/', pos + 1)) {
      auto hit = folded.find(f.substr(0, pos));
      if (hit != folded.end()) return Bad(*hit->second, ("is a file but also a directory of " + Quote(*orig)).c_str());
    }
  }
  return Status::OK();
}

static Status ValidateName(std::string_view name, bool allow_upper, const char* what) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument(std::string("invalid ") + what + " " + Quote(name.substr(0, 200)) + ": " + why);
  };
  if (name.empty() || name.size() > 128) return bad("must be 1 to 128 characters");
  auto alnum = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (allow_upper && c >= 'A' && c <= 'Z');
  };
  if (!allow_upper && std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    std::string lower(name);
    for (char& c : lower)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return bad(("is not lowercase (model names are lowercase letters, digits, '.', '_', '-': did you mean " +
                Quote(lower) + "?)")
                   .c_str());
  }
  if (!alnum(name[0]))
    return bad(allow_upper ? "must start with a letter or digit" : "must start with a lowercase letter or digit");
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '_' && c != '-')
      return bad(allow_upper ? "allowed: letters, digits, '.', '_', '-'"
                             : "allowed: lowercase letters, digits, '.', '_', '-'");
  return Status::OK();
}

Status ValidateModelName(std::string_view name) { return ValidateName(name, false, "model name"); }
Status ValidateTokenName(std::string_view name) { return ValidateName(name, true, "token name"); }

}  // namespace modelreg
