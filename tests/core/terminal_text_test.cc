// Unit tests for registry/core/terminal_text.h: what the CLI prints from a
// registry can never drive the terminal.
#include "core/terminal_text.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "core/utf8_text.h"

namespace modelreg {

TEST_CASE("TerminalSafe escapes C0, DEL and C1 controls and keeps the rest", "[core][terminal]") {
  CHECK(TerminalSafe("churn v3 sha256:ab") == "churn v3 sha256:ab");
  CHECK(TerminalSafe("\x1b]0;owned\x07\x1b[2J") == "\\u001b]0;owned\\u0007\\u001b[2J");
  CHECK(TerminalSafe(std::string("a\0b", 3)) == "a\\u0000b");
  CHECK(TerminalSafe("tab\there\r\n") == "tab\\u0009here\\u000d\\u000a");
  CHECK(TerminalSafe("tab\there\r\n", true) == "tab\\u0009here\\u000d\n");
  CHECK(TerminalSafe("del\x7f") == "del\\u007f");
  CHECK(TerminalSafe("csi\xc2\x9b"
                     "2J") == "csi\\u009b2J");  // U+009B
  CHECK(TerminalSafe("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82 \xc2\xa0") ==
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82 \xc2\xa0");  // é € 🙂 NBSP stay
  CHECK(TerminalSafe("back\\slash") == "back\\slash");
}

TEST_CASE("TerminalSafe replaces invalid UTF-8 with U+FFFD", "[core][terminal]") {
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(TerminalSafe("a\xff"
                     "b") == "a" + fffd + "b");
  CHECK(TerminalSafe("\x9b"
                     "2J") == fffd + "2J");  // a raw 8-bit CSI byte
  CHECK(TerminalSafe("cut \xe2\x82") == "cut " + fffd + fffd);
  CHECK(TerminalSafe("overlong \xc0\xaf") == "overlong " + fffd + fffd);
  CHECK(TerminalSafe("surrogate \xed\xa0\x80") == "surrogate " + fffd + fffd + fffd);
  CHECK(TerminalSafe("\xf4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // > U+10FFFF
}

TEST_CASE("TerminalSafe over nlohmann's dump is the same JSON without raw controls", "[core][terminal]") {
  nlohmann::json j = {{"k\x1b", "v\x7f\xc2\x9b\n\x07"}};
  const std::string dumped = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  // nlohmann escapes C0 only; DEL and C1 go out raw.
  CHECK(dumped.find('\x1b') == std::string::npos);
  CHECK(dumped.find('\x7f') != std::string::npos);
  const std::string safe = TerminalSafe(dumped, true);
  CHECK(safe.find('\x7f') == std::string::npos);
  CHECK(safe.find("\xc2\x9b") == std::string::npos);
  CHECK(nlohmann::json::parse(safe) == j);
}

TEST_CASE("FirstControlChar names the first control character", "[core][terminal]") {
  CHECK(FirstControlChar("python") == "");
  CHECK(FirstControlChar("caf\xc3\xa9") == "");
  CHECK(FirstControlChar("a\x1b[2J") == "U+001B");
  CHECK(FirstControlChar("a\x7f") == "U+007F");
  CHECK(FirstControlChar("a\xc2\x85") == "U+0085");
  CHECK(FirstControlChar("x\ty\x1b") == "U+0009");
}

}  // namespace modelreg

TEST_CASE("Utf8Prefix: valid UTF-8 within the budget, cut at a character, invalid bytes replaced first") {
  using modelreg::Utf8Prefix;
  CHECK(Utf8Prefix("abc", 10) == "abc");
  CHECK(Utf8Prefix("abc", 2) == "ab");
  const std::string euro = "\xe2\x82\xac";    // 3 bytes
  CHECK(Utf8Prefix(euro + euro, 5) == euro);  // not 5 bytes ending inside the second
  CHECK(Utf8Prefix("a\xff"
                   "b",
                   10) ==
        "a\xef\xbf\xbd"
        "b");
  CHECK(Utf8Prefix("\xff\xff", 5) == "\xef\xbf\xbd");               // each replacement counts 3 bytes
  CHECK(Utf8Prefix("\xe2\x82", 10) == "\xef\xbf\xbd\xef\xbf\xbd");  // a cut sequence is two bad bytes
  CHECK(Utf8Prefix("", 0).empty());
}
