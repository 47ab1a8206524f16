// Unit tests for registry/lineage/git_capture.h against real git repositories
// built with the `git` command in a temporary directory.
#include "lineage/git_capture.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::Run;
using testing::TempDir;
using testing::WriteFile;

// Isolated from the user's and the system's git configuration so the test
// behaves the same on every machine.
const std::map<std::string, std::string>& GitEnv() {
  static const std::map<std::string, std::string> env = {
      {"GIT_CONFIG_NOSYSTEM", "1"},
      {"GIT_CONFIG_GLOBAL", "/dev/null"},
      {"GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z"},
      {"GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z"},
      {"GIT_TERMINAL_PROMPT", "0"},
  };
  return env;
}

std::string Git(const std::string& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git", "-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = Run(argv, GitEnv());
  INFO("git " << args.front() << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r.out;
}

// A repository on branch main with one commit and two remotes.
std::string MakeRepo(const TempDir& t) {
  const std::string repo = t / "repo";
  WriteFile(repo + "/train.py", "print('train')\n");
  Git(repo, {"init", "-q", "-b", "main"});
  Git(repo, {"config", "user.name", "Test Trainer"});
  Git(repo, {"config", "user.email", "trainer@example.com"});
  Git(repo, {"config", "commit.gpgsign", "false"});
  Git(repo, {"add", "train.py"});
  Git(repo, {"commit", "-q", "-m", "first"});
  Git(repo, {"remote", "add", "origin", "https://user:secret@git.example.com/ds/x.git"});
  Git(repo, {"remote", "add", "backup", "https://backup.example.com/ds/x.git"});
  return repo;
}

TEST_CASE("CaptureGitCode reads HEAD, branch, remote and a clean tree", "[lineage][git]") {
  TempDir t;
  const std::string repo = MakeRepo(t);
  auto code = CaptureGitCode(repo);
  REQUIRE(code.ok());
  CHECK(code->commit == Git(repo, {"rev-parse", "HEAD"}));
  CHECK(code->commit.size() == 40);
  CHECK(code->branch == "main");
  CHECK(code->repo == "https://git.example.com/ds/x.git");
  CHECK(code->repo.find("secret") == std::string::npos);
  CHECK_FALSE(code->dirty);
  CHECK(code->entrypoint.empty());

  SECTION("from a subdirectory of the working tree") {
    WriteFile(repo + "/src/lib.py", "x = 1\n");
    Git(repo, {"add", "src/lib.py"});
    Git(repo, {"commit", "-q", "-m", "second"});
    auto sub = CaptureGitCode(repo + "/src");
    REQUIRE(sub.ok());
    CHECK(sub->commit == Git(repo, {"rev-parse", "HEAD"}));
    CHECK(sub->commit != code->commit);
    CHECK(sub->branch == "main");
  }
  SECTION("on another branch") {
    Git(repo, {"checkout", "-q", "-b", "feature/x"});
    auto other = CaptureGitCode(repo);
    REQUIRE(other.ok());
    CHECK(other->branch == "feature/x");
    CHECK(other->commit == code->commit);
  }
}

TEST_CASE("CaptureGitCode reports tracked changes as dirty", "[lineage][git]") {
  TempDir t;
  const std::string repo = MakeRepo(t);

  SECTION("modified tracked file") {
    WriteFile(repo + "/train.py", "print('changed after commit')\n");
    auto code = CaptureGitCode(repo);
    REQUIRE(code.ok());
    CHECK(code->dirty);
  }
  SECTION("same-size modification") {
    WriteFile(repo + "/train.py", "print('TRAIN')\n");
    auto code = CaptureGitCode(repo);
    REQUIRE(code.ok());
    CHECK(code->dirty);
  }
  SECTION("staged but not committed") {
    WriteFile(repo + "/new.py", "y = 2\n");
    Git(repo, {"add", "new.py"});
    auto code = CaptureGitCode(repo);
    REQUIRE(code.ok());
    CHECK(code->dirty);
  }
  SECTION("deleted tracked file") {
    REQUIRE(std::remove((repo + "/train.py").c_str()) == 0);
    auto code = CaptureGitCode(repo);
    REQUIRE(code.ok());
    CHECK(code->dirty);
  }
  SECTION("an untracked file alone is not dirty") {
    WriteFile(repo + "/notes.txt", "scratch\n");
    WriteFile(repo + "/out/model.bin", "weights");
    auto code = CaptureGitCode(repo);
    REQUIRE(code.ok());
    CHECK_FALSE(code->dirty);
  }
  SECTION("reverting the change makes it clean again") {
    WriteFile(repo + "/train.py", "print('changed')\n");
    Git(repo, {"checkout", "--", "train.py"});
    auto code = CaptureGitCode(repo);
    REQUIRE(code.ok());
    CHECK_FALSE(code->dirty);
  }
}

TEST_CASE("CaptureGitCode on a detached HEAD has no branch", "[lineage][git]") {
  TempDir t;
  const std::string repo = MakeRepo(t);
  const std::string first = Git(repo, {"rev-parse", "HEAD"});
  WriteFile(repo + "/train.py", "print('v2')\n");
  Git(repo, {"commit", "-q", "-a", "-m", "second"});
  Git(repo, {"checkout", "-q", "--detach", first});
  auto code = CaptureGitCode(repo);
  REQUIRE(code.ok());
  CHECK(code->branch.empty());
  CHECK(code->commit == first);
  CHECK_FALSE(code->dirty);
}

TEST_CASE("CaptureGitCode picks origin, else the only remote, else none", "[lineage][git]") {
  TempDir t;
  const std::string repo = MakeRepo(t);
  Git(repo, {"remote", "remove", "origin"});
  auto backup = CaptureGitCode(repo);
  REQUIRE(backup.ok());
  CHECK(backup->repo == "https://backup.example.com/ds/x.git");
  Git(repo, {"remote", "remove", "backup"});
  auto none = CaptureGitCode(repo);
  REQUIRE(none.ok());
  CHECK(none->repo.empty());
}

TEST_CASE("CaptureGitCode errors outside a repository and before the first commit", "[lineage][git]") {
  TempDir t;
  WriteFile(t / "plain/file.txt", "not a repo");
  auto plain = CaptureGitCode(t / "plain");
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.status().code() == StatusCode::kNotFound);

  Git(t.path(), {"init", "-q", "-b", "main", "empty"});
  auto empty = CaptureGitCode(t / "empty");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == StatusCode::kFailedPrecondition);

  auto missing = CaptureGitCode(t / "does-not-exist");
  CHECK_FALSE(missing.ok());
}

TEST_CASE("StripUrlCredentials removes user info only", "[lineage][git]") {
  CHECK(StripUrlCredentials("https://user:secret@git.example.com/ds/x.git") == "https://git.example.com/ds/x.git");
  CHECK(StripUrlCredentials("https://token@git.example.com/x.git") == "https://git.example.com/x.git");
  CHECK(StripUrlCredentials("https://user:p@ss@git.example.com/x.git") == "https://git.example.com/x.git");
  CHECK(StripUrlCredentials("https://user:secret@git.example.com:8443/x.git") == "https://git.example.com:8443/x.git");
  CHECK(StripUrlCredentials("https://user:secret@git.example.com") == "https://git.example.com");
  // Nothing to strip.
  CHECK(StripUrlCredentials("https://git.example.com/ds/x.git") == "https://git.example.com/ds/x.git");
  CHECK(StripUrlCredentials("https://git.example.com/team@corp/x.git") == "https://git.example.com/team@corp/x.git");
  CHECK(StripUrlCredentials("git@github.com:ds/x.git") == "git@github.com:ds/x.git");
  CHECK(StripUrlCredentials("/srv/git/x.git") == "/srv/git/x.git");
  CHECK(StripUrlCredentials("file:///srv/git/x.git") == "file:///srv/git/x.git");
  CHECK(StripUrlCredentials("") == "");
}

}  // namespace
}  // namespace modelreg
