#include "net/byte_range.h"

namespace modelreg::net {

RangeChoice ChooseRange(const std::vector<std::pair<ssize_t, ssize_t>>& ranges, uint64_t size) {
  RangeChoice whole{RangeChoice::kWhole, 0, size};
  if (ranges.size() != 1) return whole;
  const auto [first, last] = ranges.front();
  if (first < 0 && last < 0) return whole;  // "bytes=-" (httplib's parser accepts it): no range at all
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
  if (end < start) return none;  // httplib rejects "5-3" already; kept for callers that do not
  return {RangeChoice::kPart, start, end - start + 1};
}

std::string ContentRange(const RangeChoice& choice, uint64_t size) {
  if (choice.kind == RangeChoice::kPart)
    return "bytes " + std::to_string(choice.start) + "-" + std::to_string(choice.start + choice.length - 1) + "/" +
           std::to_string(size);
  return "bytes */" + std::to_string(size);
}

}  // namespace modelreg::net
