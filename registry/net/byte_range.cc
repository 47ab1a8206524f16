#include "net/byte_range.h"

namespace modelreg::net {

RangeChoice ChooseRange(const std::vector<std::pair<ssize_t, ssize_t>>& ranges, uint64_t size) {
  RangeChoice whole{RangeChoice::kWhole, 0, size};
  if (ranges.size() != 1) return whole;
  const auto [first, last] = ranges.front();
  if (first < 0 && last < 0) return whole;  // not from ParseRange: no range at all
  RangeChoice none{RangeChoice::kUnsatisfiable, 0, 0};
  if (first < 0) {  // the last `last` bytes
    const uint64_t n = static_cast<uint64_t>(last);
    if (n == 0 || size == 0) return none;
    const uint64_t take = n < size ? n : size;
    return {RangeChoice::kPart, size - take, take};
  }
  const uint64_t start = static_cast<uint64_t>(first);
  if (start >= size) return none;
  const uint64_t end = last < 0 || static_cast<uint64_t>(last) >= size ? size - 1 : static_cast<uint64_t>(last);
  if (end < start) return none;  // ParseRange refuses "5-3" already
  return {RangeChoice::kPart, start, end - start + 1};
}

namespace {

bool Number(std::string_view t, ssize_t* out) {
  if (t.empty() || t.size() > 18) return false;
  ssize_t v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

std::string_view Trim(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

}  // namespace

bool ParseRange(std::string_view header, std::vector<std::pair<ssize_t, ssize_t>>* ranges) {
  ranges->clear();
  header = Trim(header);
  if (header.substr(0, 6) != "bytes=") return false;
  std::string_view set = header.substr(6);
  while (true) {
    const size_t comma = set.find(',');
    const std::string_view spec = Trim(set.substr(0, comma));
    const size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return false;
    const std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
    ssize_t first = -1, last = -1;
    if (a.empty() && b.empty()) return false;
    if (!a.empty() && !Number(a, &first)) return false;
    if (!b.empty() && !Number(b, &last)) return false;
    if (first >= 0 && last >= 0 && last < first) return false;
    ranges->emplace_back(first, last);
    if (comma == std::string_view::npos) break;
    set = set.substr(comma + 1);
  }
  return !ranges->empty();
}

std::string ContentRange(const RangeChoice& choice, uint64_t size) {
  if (choice.kind == RangeChoice::kPart)
    return "bytes " + std::to_string(choice.start) + "-" + std::to_string(choice.start + choice.length - 1) + "/" +
           std::to_string(size);
  return "bytes */" + std::to_string(size);
}

}  // namespace modelreg::net
