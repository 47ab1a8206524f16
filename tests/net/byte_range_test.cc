// Unit tests for net/byte_range: which part of a blob a Range selects.
#include "net/byte_range.h"

#include <catch2/catch.hpp>

namespace modelreg::net {

TEST_CASE("byte range: parts within, cut at and past the end, suffixes, and what is ignored") {
  using R = std::vector<std::pair<ssize_t, ssize_t>>;
  auto part = [](const RangeChoice& c, uint64_t start, uint64_t length) {
    return c.kind == RangeChoice::kPart && c.start == start && c.length == length;
  };
  CHECK(ChooseRange({}, 20).kind == RangeChoice::kWhole);
  CHECK(ChooseRange({}, 20).length == 20);
  CHECK(part(ChooseRange(R{{5, -1}}, 20), 5, 15));     // bytes=5-
  CHECK(part(ChooseRange(R{{5, 9}}, 20), 5, 5));       // bytes=5-9
  CHECK(part(ChooseRange(R{{0, 0}}, 20), 0, 1));       // bytes=0-0
  CHECK(part(ChooseRange(R{{19, 19}}, 20), 19, 1));    // the last byte
  CHECK(part(ChooseRange(R{{10, 999}}, 20), 10, 10));  // a last past the end is cut to the end
  CHECK(part(ChooseRange(R{{-1, 5}}, 20), 15, 5));     // bytes=-5
  CHECK(part(ChooseRange(R{{-1, 100}}, 20), 0, 20));   // a suffix longer than the blob: all of it
  // Past the end (httplib answered these 206 with a Content-Length of 2^64 - n).
  CHECK(ChooseRange(R{{20, -1}}, 20).kind == RangeChoice::kUnsatisfiable);
  CHECK(ChooseRange(R{{99999999, -1}}, 20).kind == RangeChoice::kUnsatisfiable);
  CHECK(ChooseRange(R{{-1, 0}}, 20).kind == RangeChoice::kUnsatisfiable);  // bytes=-0
  CHECK(ChooseRange(R{{0, -1}}, 0).kind == RangeChoice::kUnsatisfiable);   // any part of an empty blob
  CHECK(ChooseRange(R{{-1, 5}}, 0).kind == RangeChoice::kUnsatisfiable);
  CHECK(ChooseRange(R{{9, 5}}, 20).kind == RangeChoice::kUnsatisfiable);
  // Several ranges, or none given in the one: the whole blob.
  CHECK(ChooseRange(R{{0, 1}, {3, 4}}, 20).kind == RangeChoice::kWhole);
  CHECK(ChooseRange(R{{-1, -1}}, 20).kind == RangeChoice::kWhole);
}

TEST_CASE("byte range: Content-Range as RFC 9110 writes it") {
  CHECK(ContentRange({RangeChoice::kPart, 5, 15}, 20) == "bytes 5-19/20");
  CHECK(ContentRange({RangeChoice::kPart, 0, 1}, 20) == "bytes 0-0/20");
  CHECK(ContentRange({RangeChoice::kUnsatisfiable, 0, 0}, 20) == "bytes */20");
}

}  // namespace modelreg::net
