// The command-line parser shared by modelreg and modelreg-agent
// (core/command_line.h), its typo suggestions, and the man page renderer.
#include "core/command_line.h"

#include <catch2/catch.hpp>

#include "core/man_page.h"

using namespace modelreg;

namespace {

const FlagSpec kSpec = {{"--data", "--model", "-o"}, {"--json", "--once"}};

ParsedArgs Parse(const std::vector<std::string>& argv) {
  auto r = ParseCommandLine(argv, kSpec);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string Refusal(const std::vector<std::string>& argv) {
  auto r = ParseCommandLine(argv, kSpec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  return r.status().message();
}

}  // namespace

TEST_CASE("command line: flags anywhere, values separate or after '=', repeats, positionals in order") {
  auto a = Parse({"churn", "--data", "d1", "3", "--json", "--data=d2", "-o", "out", "dest"});
  CHECK(a.positional() == std::vector<std::string>{"churn", "3", "dest"});
  CHECK(a.Has("--json"));
  CHECK_FALSE(a.Has("--once"));
  CHECK(a.Get("--data") == "d2");  // the last one
  CHECK(a.GetAll("--data") == std::vector<std::string>{"d1", "d2"});
  CHECK(a.GetOr("--model", "none") == "none");
  CHECK(a.Get("-o") == "out");
  CHECK(a.Get("--json") == "");
}

TEST_CASE("command line: '--' ends the flags, '-' is a positional, a value may start with a dash") {
  auto a = Parse({"--model", "-x", "-", "--", "--json", "--data"});
  CHECK(a.Get("--model") == "-x");
  CHECK(a.positional() == std::vector<std::string>{"-", "--json", "--data"});
  CHECK_FALSE(a.Has("--json"));
}

TEST_CASE("command line: refusals name the argument and what is wrong") {
  CHECK(Refusal({"--data"}) == "--data needs a value");
  CHECK(Refusal({"--data="}) == "--data needs a value, not an empty string");
  CHECK(Refusal({"--json=yes"}) == "--json takes no value");
  CHECK(Refusal({"a", ""}) == "argument 2 is empty");
  CHECK(Refusal({"--jsno"}) == "unknown option --jsno (did you mean --json?)");
  CHECK(Refusal({"--modle=x"}) == "unknown option --modle (did you mean --model?)");
  CHECK(Refusal({"--frobnicate"}) == "unknown option --frobnicate");
}

TEST_CASE("did you mean: close typos, prefixes and swaps, nothing for unrelated words") {
  const std::vector<std::string> commands = {"models",   "versions", "promote", "provenance", "pull",
                                             "register", "rollback", "reject",  "show"};
  CHECK(ClosestMatch("promot", commands) == "promote");
  CHECK(ClosestMatch("verisons", commands) == "versions");  // a swap is one edit
  CHECK(ClosestMatch("regi", commands) == "register");      // a prefix
  CHECK(ClosestMatch("shwo", commands) == "show");
  CHECK(ClosestMatch("xyzzy", commands) == "");
  CHECK(ClosestMatch("", commands) == "");
  CHECK(ClosestMatch("--regstry", {"--registry", "--token"}) == "--registry");
  CHECK(DidYouMean("pul", commands) == " (did you mean pull?)");
  CHECK(DidYouMean("qqqq", commands) == "");
}

TEST_CASE("man page: roff from help text, escaped, every entry a subsection") {
  CHECK(RoffEscape("--to a\\b\n.start\n'quote") == "\\-\\-to a\\eb\n\\&.start\n\\&'quote");
  const std::string page = RenderManPage(
      "tool", "does things", "1.2.3",
      {{"Synopsis", "tool run --fast\n", {}}, {"Commands", "", {{"tool run", "Runs.\n  --fast  quickly"}}}});
  CHECK(page.find(".TH TOOL 1 \"\" \"tool 1.2.3\" \"User Commands\"\n") != std::string::npos);
  CHECK(page.find(".SH NAME\ntool \\- does things\n") != std::string::npos);
  CHECK(page.find(".SH SYNOPSIS\n.nf\ntool run \\-\\-fast\n.fi\n") != std::string::npos);
  CHECK(page.find(".SS \"tool run\"\n.nf\nRuns.\n  \\-\\-fast  quickly\n.fi\n") != std::string::npos);
}
