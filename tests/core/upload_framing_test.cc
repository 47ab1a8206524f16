// Unit tests for registry/core/upload_framing.h: Content-Range parsing
// (strict digits, no sign, no overflow) and batch frames fed in pieces of
// every size, empty blobs, malformed headers, limits, and errors that stop
// the parser.
#include "core/upload_framing.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace modelreg {
namespace {

TEST_CASE("ParseContentRange takes START-END with optional 'bytes ' and /TOTAL", "[upload]") {
  using P = std::pair<uint64_t, uint64_t>;
  CHECK(ParseContentRange("0-9").value() == P{0, 9});
  CHECK(ParseContentRange("5-5").value() == P{5, 5});
  CHECK(ParseContentRange("bytes 10-19/20").value() == P{10, 19});
  CHECK(ParseContentRange("bytes 10-19/*").value() == P{10, 19});
  CHECK(ParseContentRange("0-9999999999999999999").value() == P{0, 9999999999999999999ull});
  for (const char* bad : {"",
                          "-",
                          "5",
                          "-5",
                          "5-",
                          "9-5",
                          "+1-5",
                          " 1-5",
                          "1- 5",
                          "1-+5",
                          "1--3",
                          "1-5 ",
                          "a-b",
                          "0x1-5",
                          "1-18446744073709551616",
                          "99999999999999999999-1",
                          "0-9/abc",
                          "0-9/",
                          "bytes=0-9",
                          "bytes 0-9/-1"}) {
    INFO("'" << bad << "'");
    auto r = ParseContentRange(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kOutOfRange);
    CHECK(r.status().message().find("Content-Range") != std::string::npos);
  }
}

struct Recorder {
  std::vector<std::string> events;  // "begin <digest> <size>", "<bytes>", "end"
  std::string fail_on;              // an event (prefix) that fails
  BatchFrameParser::Events Events() {
    return {[this](const Digest& d, uint64_t size) { return Add("begin " + d.str() + " " + std::to_string(size)); },
            [this](const char* p, size_t n) {
              if (!events.empty() && events.back().rfind("begin ", 0) != 0 && events.back() != "end") {
                events.back().append(p, n);  // pieces of one blob are joined
                return Status::OK();
              }
              return Add(std::string(p, n));
            },
            [this] { return Add("end"); }};
  }
  Status Add(std::string e) {
    const bool fail = !fail_on.empty() && e.rfind(fail_on, 0) == 0;
    events.push_back(std::move(e));
    return fail ? Status::DataLoss("event failed") : Status::OK();
  }
};

std::string Frame(const std::string& bytes) { return BatchFrameHeader(Digest::Of(bytes), bytes.size()) + bytes; }

TEST_CASE("BatchFrameParser: the same frames whatever the pieces, empty blobs included", "[upload]") {
  const std::vector<std::string> blobs = {"", "hello", std::string(3000, 'x'), "", "a\nb\n"};
  std::string body;
  std::vector<std::string> want;
  for (const auto& b : blobs) {
    body += Frame(b);
    want.push_back("begin " + Digest::Of(b).str() + " " + std::to_string(b.size()));
    if (!b.empty()) want.push_back(b);
    want.push_back("end");
  }
  for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, size_t{64}, size_t{71}, size_t{1000}, body.size()}) {
    INFO("pieces of " << piece);
    Recorder r;
    BatchFrameParser p(r.Events(), 100);
    for (size_t off = 0; off < body.size(); off += piece)
      REQUIRE(p.Feed(body.data() + off, std::min(piece, body.size() - off)).ok());
    CHECK(p.Finish().ok());
    CHECK(p.count() == blobs.size());
    CHECK(r.events == want);
  }
  BatchFrameParser empty(Recorder().Events(), 100);
  CHECK(empty.Finish().ok());
  CHECK(empty.count() == 0);
}

TEST_CASE("BatchFrameParser refuses malformed headers, and an error is final", "[upload]") {
  const std::string d = Digest::Of("abc").str();
  struct Case {
    std::string body;
    StatusCode code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"no-space-here\n", StatusCode::kInvalidArgument, "'<digest> <size>'"},
      {"sha256:abc 3\nabc", StatusCode::kInvalidArgument, "digest"},
      {d + " -1\n", StatusCode::kInvalidArgument, "bad size"},
      {d + " +3\nabc", StatusCode::kInvalidArgument, "bad size"},
      {d + " 3 \nabc", StatusCode::kInvalidArgument, "bad size"},
      {d + " \nabc", StatusCode::kInvalidArgument, "bad size"},
      {d + " 99999999999999999999\n", StatusCode::kInvalidArgument, "bad size"},
      {std::string(201, 'h'), StatusCode::kInvalidArgument, "too long"},
  };
  for (const auto& c : cases) {
    INFO(c.body.substr(0, 80));
    Recorder r;
    BatchFrameParser p(r.Events(), 100);
    Status st = p.Feed(c.body.data(), c.body.size());
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == c.code);
    CHECK(st.message().find(c.says) != std::string::npos);
    CHECK(r.events.empty());
    // Final: more input changes nothing.
    const std::string more = Frame("abc");
    CHECK(p.Feed(more.data(), more.size()).code() == c.code);
    CHECK(p.Finish().code() == c.code);
    CHECK(r.events.empty());
  }
}

TEST_CASE("BatchFrameParser: limits, events' errors, and a body that ends inside a frame", "[upload]") {
  SECTION("more than max_blobs frames") {
    Recorder r;
    BatchFrameParser p(r.Events(), 2);
    const std::string body = Frame("a") + Frame("b") + Frame("c");
    Status st = p.Feed(body.data(), body.size());
    CHECK(st.code() == StatusCode::kResourceExhausted);
    CHECK(st.message().find("more than 2 blobs") != std::string::npos);
    CHECK(r.events.size() == 6);  // two whole frames, nothing of the third
  }
  SECTION("an event's error is returned and stops the parser") {
    Recorder r;
    r.fail_on = "end";
    BatchFrameParser p(r.Events(), 10);
    const std::string body = Frame("a") + Frame("b");
    CHECK(p.Feed(body.data(), body.size()).code() == StatusCode::kDataLoss);
    CHECK(r.events.size() == 3);  // begin, bytes, end of the first
    CHECK(p.Finish().code() == StatusCode::kDataLoss);
  }
  SECTION("ends inside a header, or inside a blob's bytes") {
    const std::string frame = Frame("hello");
    for (size_t cut : {size_t{1}, size_t{30}, frame.size() - 6, frame.size() - 1}) {
      INFO("cut at " << cut);
      Recorder r;
      BatchFrameParser p(r.Events(), 10);
      REQUIRE(p.Feed(frame.data(), cut).ok());
      Status st = p.Finish();
      CHECK(st.code() == StatusCode::kInvalidArgument);
      CHECK(st.message().find("ends inside a frame") != std::string::npos);
    }
  }
}

}  // namespace
}  // namespace modelreg
