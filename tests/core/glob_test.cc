// core/glob.h: the one glob matcher behind token scopes and webhook filters.
#include "core/glob.h"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

namespace modelreg {
namespace {

TEST_CASE("GlobMatch is a shell glob over model names", "[core][glob]") {
  CHECK(GlobMatch("fraud-*", "fraud-eu"));
  CHECK(GlobMatch("fraud-*", "fraud-"));
  CHECK_FALSE(GlobMatch("fraud-*", "churn"));
  CHECK_FALSE(GlobMatch("fraud-*", "fraud"));
  CHECK_FALSE(GlobMatch("fraud-*", "xfraud-eu"));
  CHECK(GlobMatch("*", "anything"));
  CHECK(GlobMatch("churn", "churn"));
  CHECK_FALSE(GlobMatch("churn", "churn2"));
  CHECK(GlobMatch("model-?", "model-a"));
  CHECK_FALSE(GlobMatch("model-?", "model-ab"));
  CHECK(GlobMatch("model-[ab]", "model-b"));
  CHECK_FALSE(GlobMatch("model-[ab]", "model-c"));
  CHECK(GlobMatch("model-[!ab]", "model-c"));
  CHECK(GlobMatch("*-eu", "fraud-eu"));
  CHECK_FALSE(GlobMatch("*-eu", "fraud-us"));
}

TEST_CASE("GlobMatch: backslash is an ordinary character, and views need no NUL", "[core][glob]") {
  CHECK(GlobMatch("a\\*", "a\\b"));
  CHECK_FALSE(GlobMatch("a\\*", "a*"));
  // Parts of longer strings: only the viewed characters count.
  const std::string text = "fraud-*|fraud-eu-west";
  const std::string_view glob(text.data(), 7), name(text.data() + 8, 8);
  CHECK(GlobMatch(glob, name));
  CHECK_FALSE(GlobMatch(std::string_view(text.data(), 6), name));  // "fraud-" alone
  CHECK(GlobMatch("", ""));
  CHECK_FALSE(GlobMatch("", "x"));
}

}  // namespace
}  // namespace modelreg
