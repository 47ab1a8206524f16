// Which bytes of a representation a request's Range header selects
// (RFC 9110 §14.1.2, §14.2), for the registry's blob and manifest downloads.
//
// cpp-httplib 0.11 parses the header but, applying it itself, answers a
// start past the end with 206 and a Content-Length that wrapped around
// (2^64 - n), and slices any routed response (a JSON error too). The api
// layer takes the parsed ranges from httplib and decides here instead.
// Pure, thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
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

// `ranges` as cpp-httplib parses "bytes=..." ({first, last}, -1 where the
// header leaves one out: {-1, n} is the suffix "-n", {a, -1} is "a-"), each
// with first <= last where both are given. A last past the end is cut to
// the end; a first at or past the end, or a suffix of 0 bytes, cannot be
// satisfied. Several ranges are answered whole (RFC 9110 lets a server
// ignore Range; no client of ours asks for more than one).
RangeChoice ChooseRange(const std::vector<std::pair<ssize_t, ssize_t>>& ranges, uint64_t size);

// "bytes 5-9/20" for a kPart, "bytes */20" for kUnsatisfiable.
std::string ContentRange(const RangeChoice& choice, uint64_t size);

}  // namespace modelreg::net
