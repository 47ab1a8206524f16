// Which bytes of a representation a request's Range header selects
// (RFC 9110 §14.1.2, §14.2), for the registry's blob and manifest downloads.
//
// The api layer parses the header here and only blob downloads apply it:
// JSON answers, errors included, are never sliced.
// Pure, thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modelreg::net {

struct RangeChoice {
  enum Kind {
    kWhole,          // no Range, or one we ignore (several ranges): 200, every byte
    kPart,           // 206 with Content-Range: bytes start-(start+length-1)/size
    kUnsatisfiable,  // 416 with Content-Range: bytes */size
  };
  Kind kind = kWhole;
  uint64_t start = 0;
  uint64_t length = 0;  // of the part; the whole size for kWhole
};

// `ranges` as ParseRange gives them "bytes=..." ({first, last}, -1 where the
// header leaves one out: {-1, n} is the suffix "-n", {a, -1} is "a-"), each
// with first <= last where both are given. A last past the end is cut to
// the end; a first at or past the end, or a suffix of 0 bytes, cannot be
// satisfied. Several ranges are answered whole (RFC 9110 lets a server
// ignore Range; no client of ours asks for more than one).
RangeChoice ChooseRange(const std::vector<std::pair<ssize_t, ssize_t>>& ranges, uint64_t size);

// Parses a Range header ("bytes=a-b", "bytes=a-", "bytes=-n", several
// separated by commas) into the form ChooseRange takes; false if it is not
// a bytes range set (digits only, at most 18 of them, a <= b).
bool ParseRange(std::string_view header, std::vector<std::pair<ssize_t, ssize_t>>* ranges);

// "bytes 5-9/20" for a kPart, "bytes */20" for kUnsatisfiable.
std::string ContentRange(const RangeChoice& choice, uint64_t size);

}  // namespace modelreg::net
