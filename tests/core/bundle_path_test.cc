// Unit tests for registry/core/bundle_path.h: the one place where bundle
// paths, model names and token names are validated (docs/architecture.md).
#include "core/bundle_path.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace modelreg {
namespace {

using Paths = std::vector<std::string>;

StatusCode PathCode(const std::string& p, const BundleLimits& limits = {}) {
  return ValidateBundlePath(p, limits).code();
}

StatusCode SetCode(const Paths& paths, const BundleLimits& limits = {}) {
  return ValidateBundlePathSet(paths, limits).code();
}

TEST_CASE("ValidateBundlePath accepts ordinary relative paths", "[core][bundle_path]") {
  for (const std::string& p :
       Paths{"model.bin", "weights/model.bin", "a/b/c/d/e.txt", ".hidden", "a/.config", "..a", "a..b", "a.", "...",
             "with space/file name.txt", "dash-under_score.tar.gz", "UPPER/Case.TXT", "a/b-c/d_e/f.g"}) {
    INFO(p);
    CHECK(ValidateBundlePath(p).ok());
  }
}

TEST_CASE("ValidateBundlePath accepts valid non-ASCII UTF-8", "[core][bundle_path]") {
  for (const std::string& p : Paths{
           "модель/веса.bin",              // Cyrillic (2-byte sequences)
           "日本語/ファイル.txt",          // CJK (3-byte sequences)
           "emoji/\xf0\x9f\x98\x80.bin",   // U+1F600 (4-byte sequence)
           "\xc2\xa0nbsp",                 // U+00A0 is not a control character
           "\xc2\xa0",                     // U+00A0 alone
           "max/\xf4\x8f\xbf\xbf",         // U+10FFFF, the last code point
           "caf\xc3\xa9/\xc3\x84rger.txt"  // café/Ärger.txt
       }) {
    INFO(p);
    CHECK(ValidateBundlePath(p).ok());
  }
}

TEST_CASE("ValidateBundlePath rejects traversal and malformed structure", "[core][bundle_path]") {
  for (const std::string& p : Paths{"", "../x", "..", ".", "./a", "a/..", "a/../b", "a/./b", "a/.", "/abs", "/", "//x",
                                    "a//b", "a/", "a/b/", "x/../../etc/passwd"}) {
    INFO("path: '" << p << "'");
    Status st = ValidateBundlePath(p);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains("bad bundle path"));
  }
  CHECK_THAT(ValidateBundlePath("/abs").message(), Catch::Contains("absolute"));
  CHECK_THAT(ValidateBundlePath("a//b").message(), Catch::Contains("empty path component"));
  CHECK_THAT(ValidateBundlePath("a/../b").message(), Catch::Contains("'..'"));
}

TEST_CASE("ValidateBundlePath rejects backslash, NUL and control characters", "[core][bundle_path]") {
  CHECK(PathCode("a\\b") == StatusCode::kInvalidArgument);
  CHECK(PathCode("..\\x") == StatusCode::kInvalidArgument);
  CHECK(PathCode("\\") == StatusCode::kInvalidArgument);
  CHECK_THAT(ValidateBundlePath("a\\b").message(), Catch::Contains("backslash"));

  const std::string with_nul("a\0b", 3);
  REQUIRE(with_nul.size() == 3);
  Status nul = ValidateBundlePath(with_nul);
  CHECK(nul.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(nul.message(), Catch::Contains("NUL"));
  // The message shows the byte escaped instead of cutting the text short.
  CHECK_THAT(nul.message(), Catch::Contains("a\\x00b"));
  CHECK(PathCode(std::string("\0", 1)) == StatusCode::kInvalidArgument);
  CHECK(PathCode(std::string("ok.txt\0", 7)) == StatusCode::kInvalidArgument);

  for (const std::string& p : Paths{"a\x01z", "tab\there", "new\nline", "cr\r", "\x1f", "del\x7f", "esc\x1b[31m",
                                    "c1\xc2\x85next", "c1-first\xc2\x80", "c1-last\xc2\x9f"}) {
    INFO(p);
    Status st = ValidateBundlePath(p);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains("control character"));
  }
  // Control bytes never reach the message raw (they would corrupt logs).
  std::string m = ValidateBundlePath("x\x1b[2J").message();
  CHECK(m.find('\x1b') == std::string::npos);
}

TEST_CASE("ValidateBundlePath rejects invalid UTF-8", "[core][bundle_path]") {
  for (const std::string& p : Paths{
           "\xff",                  // never valid
           "a\xfe",                 // never valid
           "\xc0\xaf",              // overlong '/'
           "\xc1\xbf",              // overlong
           "\xe0\x80\xaf",          // overlong 3-byte
           "\xf0\x80\x80\xaf",      // overlong 4-byte
           "\xed\xa0\x80",          // UTF-16 surrogate U+D800
           "\xed\xbf\xbf",          // surrogate U+DFFF
           "\xf4\x90\x80\x80",      // above U+10FFFF
           "\x80",                  // lone continuation byte
           "abc\xe6\x97",           // truncated sequence at the end
           "\xe6\x97z",             // truncated sequence before ASCII
           "\xf8\x88\x80\x80\x80",  // 5-byte form
           "\xc3"                   // lead byte only
       }) {
    INFO(Catch::Detail::stringify(p));
    Status st = ValidateBundlePath(p);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains("UTF-8"));
  }
}

TEST_CASE("ValidateBundlePath enforces the path length limit", "[core][bundle_path]") {
  BundleLimits limits;
  const std::string at_limit(limits.max_path_bytes, 'a');
  CHECK(ValidateBundlePath(at_limit).ok());
  Status st = ValidateBundlePath(at_limit + "a");
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("too long"));
  // The message does not echo the whole over-long path.
  CHECK(st.message().size() < 400);

  BundleLimits tight;
  tight.max_path_bytes = 8;
  CHECK(ValidateBundlePath("abcd/efg", tight).ok());
  CHECK(PathCode("abcd/efgh", tight) == StatusCode::kInvalidArgument);
  // Bytes, not characters: 5 two-byte characters are 10 bytes.
  CHECK(PathCode("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4", tight) == StatusCode::kInvalidArgument);
}

TEST_CASE("CaseFold lowercases ASCII and non-ASCII letters", "[core][bundle_path]") {
  CHECK(CaseFold("ABC.Txt") == "abc.txt");
  CHECK(CaseFold("already lower 123/_-.") == "already lower 123/_-.");
  CHECK(CaseFold("\xc3\x84") == CaseFold("\xc3\xa4"));                        // Ä, ä
  CHECK(CaseFold("\xc3\x84") == "a\xcc\x88");                                 // decomposed: a + U+0308
  CHECK(CaseFold("\xc3\x96L/\xc3\x9c") == "o\xcc\x88l/u\xcc\x88");            // ÖL/Ü -> öl/ü
  CHECK(CaseFold("\xd0\x9c\xd0\x9e\xd0\x94") == "\xd0\xbc\xd0\xbe\xd0\xb4");  // МОД -> мод
  CHECK(CaseFold("\xce\xa3") == "\xcf\x83");                                  // Σ -> σ
  CHECK(CaseFold("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");                  // no case: unchanged
  // Lowercase variants fold together, as in Unicode case folding and on
  // case-insensitive filesystems: final sigma, long s, micro sign, Kelvin.
  CHECK(CaseFold("\xcf\x82") == CaseFold("\xcf\x83"));  // ς, σ
  CHECK(CaseFold("\xc5\xbf") == "s");                   // ſ
  CHECK(CaseFold("\xc2\xb5") == CaseFold("\xce\xbc"));  // µ, μ
  CHECK(CaseFold("\xe2\x84\xaa") == "k");               // K (Kelvin sign)
  // Full case folding: one character may fold to several.
  CHECK(CaseFold("Stra\xc3\x9f"
                 "e") == "strasse");            // Straße
  CHECK(CaseFold("\xef\xac\x81le") == "file");  // ﬁle: the ligature folds to f, i
  CHECK(CaseFold("") == "");
  // Invalid bytes pass through unchanged rather than being dropped.
  CHECK(CaseFold("A\xffZ") == "a\xffz");
}

TEST_CASE("CaseFold equates canonically equivalent names (NFC, NFD)", "[core][bundle_path]") {
  const std::string nfc = "caf\xc3\xa9";   // é as U+00E9 (macOS keyboards, most editors)
  const std::string nfd = "cafe\xcc\x81";  // e + U+0301 (names written by older macOS)
  CHECK(nfc != nfd);
  CHECK(CaseFold(nfc) == CaseFold(nfd));
  CHECK(CaseFold("CAF\xc3\x89") == CaseFold(nfd));  // É, upper case and precomposed
  CHECK(CaseFold(nfd) == nfd);                      // the key is decomposed
  // Canonical reordering of combining marks: dot below and dot above, either order.
  CHECK(CaseFold("q\xcc\xa3\xcc\x87") == CaseFold("q\xcc\x87\xcc\xa3"));
  // Hangul syllable and its jamo.
  CHECK(CaseFold("\xea\xb0\x80") == CaseFold("\xe1\x84\x80\xe1\x85\xa1"));  // 가 = ᄀ + ᅡ
  // Different letters stay different: é is not e.
  CHECK(CaseFold(nfc) != CaseFold("cafe"));
  // Idempotent, as the collision check relies on.
  for (std::string s : {nfc, nfd,
                        std::string("Stra\xc3\x9f"
                                    "e"),
                        std::string("\xce\x90"), std::string("\xe1\xbe\x80"), std::string("\xc7\xb0")})
    CHECK(CaseFold(CaseFold(s)) == CaseFold(s));
}

TEST_CASE("ValidateBundlePathSet accepts a valid set in any order", "[core][bundle_path]") {
  CHECK(ValidateBundlePathSet({}).ok());
  CHECK(ValidateBundlePathSet({"z.txt", "a/b", "a/c", "ab", "a-b", "a.b/c"}).ok());
  // A name that merely starts like a directory is not a prefix collision.
  CHECK(ValidateBundlePathSet({"a", "ab/c", "a.txt", "a-b/c"}).ok());
  CHECK(ValidateBundlePathSet({"\xc3\xa4/x", "\xc3\xa5/x", "\xd0\xbc.bin"}).ok());
}

TEST_CASE("ValidateBundlePathSet rejects duplicates and case collisions", "[core][bundle_path]") {
  Status dup = ValidateBundlePathSet({"a.txt", "b.txt", "a.txt"});
  CHECK(dup.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(dup.message(), Catch::Contains("twice"));

  Status ascii = ValidateBundlePathSet({"A.txt", "a.txt"});
  CHECK(ascii.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(ascii.message(), Catch::Contains("case"));
  CHECK(SetCode({"dir/Model.BIN", "dir/model.bin"}) == StatusCode::kInvalidArgument);
  // Case differences in a directory component collide too.
  CHECK(SetCode({"Weights/a", "weights/b", "WEIGHTS/a"}) == StatusCode::kInvalidArgument);
  // Non-ASCII: Ä vs ä, and Cyrillic М vs м.
  CHECK(SetCode({"\xc3\x84.txt", "\xc3\xa4.txt"}) == StatusCode::kInvalidArgument);
  CHECK(SetCode({"\xd0\x9c", "\xd0\xbc"}) == StatusCode::kInvalidArgument);
  // Pairs that only case folding (not plain lowercasing) equates.
  CHECK(SetCode({"\xcf\x82.txt", "\xcf\x83.txt"}) == StatusCode::kInvalidArgument);  // ς σ
  CHECK(SetCode({"\xc5\xbf", "s"}) == StatusCode::kInvalidArgument);                 // ſ s
  CHECK(SetCode({"\xe2\x84\xaa/a", "k/a"}) == StatusCode::kInvalidArgument);         // K k
  CHECK(SetCode({"Stra\xc3\x9f"
                 "e",
                 "STRASSE"}) == StatusCode::kInvalidArgument);  // ß ss
}

TEST_CASE("ValidateBundlePathSet rejects names equal after Unicode normalization", "[core][bundle_path]") {
  // One file on macOS (APFS and HFS+ do not tell NFC from NFD), two on ext4.
  Status st = ValidateBundlePathSet({"caf\xc3\xa9.bin", "cafe\xcc\x81.bin"});
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("Unicode normalization"));
  CHECK_THAT(st.message(), Catch::Contains("caf\xc3\xa9.bin"));
  // The two print alike, so the message spells out both.
  CHECK_THAT(st.message(), Catch::Contains("written cafe\\u0301.bin and caf\\u00E9.bin"));
  // In a directory component, and as a file/directory prefix.
  CHECK(SetCode({"caf\xc3\xa9/a", "cafe\xcc\x81/b", "CAF\xc3\x89/a"}) == StatusCode::kInvalidArgument);
  CHECK(SetCode({"caf\xc3\xa9", "cafe\xcc\x81/w"}) == StatusCode::kInvalidArgument);
  // A name in either form alone is fine.
  CHECK(ValidateBundlePathSet({"caf\xc3\xa9.bin", "cafe.bin"}).ok());
  CHECK(ValidateBundlePathSet({"cafe\xcc\x81.bin", "cafe.bin"}).ok());
}

TEST_CASE("ValidateBundlePathSet rejects a file that is also a directory", "[core][bundle_path]") {
  Status st = ValidateBundlePathSet({"a", "a/b"});
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("directory"));
  CHECK(SetCode({"a/b", "a"}) == StatusCode::kInvalidArgument);        // order does not matter
  CHECK(SetCode({"A", "a/b"}) == StatusCode::kInvalidArgument);        // after case-folding
  CHECK(SetCode({"a/B", "A/b/c"}) == StatusCode::kInvalidArgument);    // nested, folded
  CHECK(SetCode({"x/y", "x/y/z/w"}) == StatusCode::kInvalidArgument);  // deeper prefix
  CHECK(SetCode({"\xc3\x84", "\xc3\xa4/f"}) == StatusCode::kInvalidArgument);
}

TEST_CASE("ValidateBundlePathSet checks each path and the file limit", "[core][bundle_path]") {
  CHECK(SetCode({"ok", "../evil"}) == StatusCode::kInvalidArgument);
  CHECK(SetCode({"ok", std::string("n\0ul", 4)}) == StatusCode::kInvalidArgument);
  CHECK(SetCode({"ok", "\xff"}) == StatusCode::kInvalidArgument);

  BundleLimits limits;
  limits.max_files = 3;
  CHECK(ValidateBundlePathSet({"a", "b", "c"}, limits).ok());
  Status over = ValidateBundlePathSet({"a", "b", "c", "d"}, limits);
  CHECK(over.code() == StatusCode::kResourceExhausted);
  CHECK_THAT(over.message(), Catch::Contains("limit is 3"));
  // The per-path length limit is applied inside the set too.
  limits.max_path_bytes = 4;
  CHECK(SetCode({"abcde"}, limits) == StatusCode::kInvalidArgument);
}

TEST_CASE("ValidateBundlePathSet handles a large set quickly", "[core][bundle_path]") {
  Paths paths;
  for (int d = 0; d < 100; ++d)
    for (int f = 0; f < 100; ++f) paths.push_back("dir" + std::to_string(d) + "/sub/file" + std::to_string(f) + ".bin");
  CHECK(ValidateBundlePathSet(paths).ok());
  paths.push_back("DIR42/SUB/FILE7.BIN");
  CHECK(SetCode(paths) == StatusCode::kInvalidArgument);
  paths.back() = "dir42/sub";
  CHECK(SetCode(paths) == StatusCode::kInvalidArgument);
}

TEST_CASE("ValidateModelName", "[core][names]") {
  for (const std::string& n :
       Paths{"churn", "fraud-eu", "a", "0", "9lives", "m.v2_x-y", "a..b", std::string(128, 'm')}) {
    INFO(n);
    CHECK(ValidateModelName(n).ok());
  }
  for (const std::string& n : Paths{"", std::string(129, 'm'), "Churn", "CHURN", "-x", ".x", "_x", "a/b", "a b", "a:b",
                                    "a*", "a?b", "\xc3\xa4pfel", "a\\b", "a\nb", std::string("a\0b", 3), "..", "%2e"}) {
    INFO(Catch::Detail::stringify(n));
    Status st = ValidateModelName(n);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains("model name"));
  }
  // Upper case is named as the fault, with the lowercase name to use.
  CHECK_THAT(ValidateModelName("Churn").message(), Catch::Contains("is not lowercase") && Catch::Contains("'churn'"));
  CHECK_THAT(ValidateModelName("-x").message(), Catch::Contains("must start with a lowercase letter or digit"));
}

TEST_CASE("ValidateTokenName", "[core][names]") {
  for (const std::string& n : Paths{"ci", "CI-Bot", "Admin", "agent.eu-1", "T_1", std::string(128, 'T')}) {
    INFO(n);
    CHECK(ValidateTokenName(n).ok());
  }
  for (const std::string& n :
       Paths{"", std::string(129, 't'), "-ci", ".ci", "_ci", "a b", "a/b", "a@b", "\xc3\x84", std::string("a\0b", 3)}) {
    INFO(Catch::Detail::stringify(n));
    Status st = ValidateTokenName(n);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains("token name"));
  }
}

}  // namespace
}  // namespace modelreg
