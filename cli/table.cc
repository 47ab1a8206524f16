#include "table.h"

#include <algorithm>
#include <iostream>

#include "common.h"

namespace modelreg::cli {

namespace {

// The first `width` display columns of `s`, ending in "…" when cut.
std::string Cut(const std::string& s, size_t width) {
  if (TextWidth(s) <= width) return s;
  if (width == 0) return "";
  std::string out;
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool starts = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
    if (starts && ++w > width - 1) break;
    out += s[i];
  }
  return out + "…";
}

std::string Pad(const std::string& s, size_t width) {
  const size_t w = TextWidth(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

bool PlainKey(const std::string& k) {
  if (k.empty()) return false;
  for (unsigned char c : k)
    if (!isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

std::string Scalar(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

void Yaml(const nlohmann::json& j, int indent, std::string* out) {
  const std::string pad(indent, ' ');
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      *out += pad + (PlainKey(k) ? k : Scalar(nlohmann::json(k))) + ":";
      if ((v.is_object() || v.is_array()) && !v.empty()) {
        *out += "\n";
        Yaml(v, indent + 2, out);
      } else {
        *out += " " + Scalar(v) + "\n";
      }
    }
  } else if (j.is_array()) {
    for (const auto& v : j) {
      if ((v.is_object() || v.is_array()) && !v.empty()) {
        // "- " then the first line of the nested block on the same line.
        std::string nested;
        Yaml(v, indent + 2, &nested);
        *out += pad + "- " + nested.substr(indent + 2);
      } else {
        *out += pad + "- " + Scalar(v) + "\n";
      }
    }
  } else {
    *out += pad + Scalar(j) + "\n";
  }
}

}  // namespace

size_t TextWidth(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

OutputFormat OutputFormatOf(const Args& args, bool has_names) {
  auto o = args.Get("-o");
  if (!o) o = args.Get("--output");
  if (!o) return args.Has("--json") ? OutputFormat::kJson : OutputFormat::kTable;
  if (*o == "table") return OutputFormat::kTable;
  if (*o == "wide") return OutputFormat::kWide;
  if (*o == "json") return OutputFormat::kJson;
  if (*o == "yaml") return OutputFormat::kYaml;
  if (*o == "name" && has_names) return OutputFormat::kName;
  throw UsageError("-o '" + *o + "': want table, wide, json, yaml" + std::string(has_names ? " or name" : ""));
}

bool PrintStructured(OutputFormat f, const nlohmann::json& answer) {
  if (f == OutputFormat::kJson) {
    PrintJson(answer);
    return true;
  }
  if (f == OutputFormat::kYaml) {
    std::cout << TerminalSafe(ToYaml(answer), true);
    return true;
  }
  return false;
}

std::string ShortDigest(const std::string& digest) {
  if (digest.rfind("sha256:", 0) == 0 && digest.size() >= 7 + 12) return digest.substr(7, 12);
  return digest;
}

Table& Table::Column(std::string title, size_t max, bool wide_only) {
  cols_.push_back(Col{std::move(title), max, wide_only});
  return *this;
}

void Table::Row(std::vector<std::string> cells) {
  cells.resize(cols_.size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out, bool wide) const {
  std::vector<size_t> shown;
  for (size_t i = 0; i < cols_.size(); ++i)
    if (wide || !cols_[i].wide_only) shown.push_back(i);
  std::vector<size_t> width(cols_.size(), 0);
  for (size_t i : shown) {
    width[i] = TextWidth(cols_[i].title);
    for (const auto& r : rows_) width[i] = std::max(width[i], TextWidth(r[i]));
    if (!wide && cols_[i].max > 0) width[i] = std::min(width[i], std::max(cols_[i].max, TextWidth(cols_[i].title)));
  }
  if (!wide && !shown.empty()) {  // the last column takes what is left of the line
    size_t used = 0;
    for (size_t k = 0; k + 1 < shown.size(); ++k) used += width[shown[k]] + 2;
    const size_t last = shown.back();
    width[last] = std::min(width[last], used < kTableWidth ? kTableWidth - used : 0);
  }
  auto line = [&](auto cell) {
    std::string l;
    for (size_t k = 0; k < shown.size(); ++k) {
      const size_t i = shown[k];
      std::string c = wide ? cell(i) : Cut(cell(i), width[i]);
      l += k + 1 < shown.size() ? Pad(c, width[i]) + "  " : c;
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out << l << "\n";
  };
  line([&](size_t i) { return cols_[i].title; });
  for (const auto& r : rows_) line([&](size_t i) { return r[i]; });
}

std::string ToYaml(const nlohmann::json& j) {
  std::string out;
  if ((j.is_object() || j.is_array()) && j.empty()) return Scalar(j) + "\n";
  Yaml(j, 0, &out);
  return out;
}

}  // namespace modelreg::cli
