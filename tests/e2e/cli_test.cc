// End to end: the modelreg binary as a training job and a reader run it.
#include <fcntl.h>
#include <httplib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/digest.h"
#include "support/forwarder.h"
#include "support/ports.h"
#include "support/server_process.h"
#include "support/tcp_relay.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void Git(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git", "-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = Run(argv, {{"GIT_CONFIG_GLOBAL", "/dev/null"}});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::string MakeRepo(const TempDir& t) {
  std::string repo = t / "repo";
  fs::create_directories(repo);
  Git(repo, {"init", "-q", "-b", "main"});
  Git(repo, {"config", "user.email", "ds@example.com"});
  Git(repo, {"config", "user.name", "DS"});
  Git(repo, {"remote", "add", "origin", "https://bot:hunter2@git.example.com/ds/churn.git"});
  WriteFile(repo + "/train.py", "print('train')\n");
  Git(repo, {"add", "train.py"});
  Git(repo, {"commit", "-q", "-m", "train"});
  return repo;
}

}  // namespace

TEST_CASE("register with lineage from a real git repo and datasets, then read it back") {
  ServerProcess server;
  TempDir t;
  std::string trainer = server.CreateToken("trainer-ci", "trainer");
  auto env = server.Env(trainer);
  std::string repo = MakeRepo(t);
  WriteFile(t / "model/weights.bin", std::string(3 << 20, 'w'));
  WriteFile(t / "model/config.json", "{}");
  WriteFile(t / "data/train.csv", "a,b\n1,2\n");
  WriteFile(t / "meta/params.json", R"({"max_depth": 6, "learning_rate": 0.1, "algo": "gbm"})");
  WriteFile(t / "meta/metrics.json", R"({"auc": 0.912, "logloss": 0.231})");
  std::vector<std::string> args = {"register",
                                   "churn",
                                   t / "model",
                                   "--data-path",
                                   "train=" + (t / "data/train.csv"),
                                   "--data",
                                   "holdout=s3://lake/churn/holdout@" + Digest::Of("h").str(),
                                   "--code-dir",
                                   repo,
                                   "--params-file",
                                   t / "meta/params.json",
                                   "--metrics-file",
                                   t / "meta/metrics.json",
                                   "--param",
                                   "seed=42",
                                   "--metric",
                                   "accuracy=0.95",
                                   "--env",
                                   "python=3.11"};
  auto r = Modelreg(args, env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex("^registered churn version 1 (sha256:[0-9a-f]{64})\n$")));
  std::string digest = m[1];

  args.push_back("--json");
  auto again = Modelreg(args, env);
  REQUIRE(again.exit_code == 0);
  auto j = json::parse(again.out);
  CHECK(j["model"] == "churn");
  CHECK(j["version"] == 1);
  CHECK(j["digest"] == digest);
  CHECK(j["created"] == false);
  CHECK(j["bytes_uploaded"] == 0);

  auto show = Modelreg({"show", "churn", "1", "--json"}, env);
  REQUIRE(show.exit_code == 0);
  auto v = json::parse(show.out);
  auto head = Run({"git", "-C", repo, "rev-parse", "HEAD"});
  CHECK(v["code"]["commit"] == head.out.substr(0, 40));
  CHECK(v["code"]["repo"] == "https://git.example.com/ds/churn.git");
  CHECK(v["code"]["dirty"] == false);
  CHECK(v["metrics"]["auc"] == 0.912);
  CHECK(v["metrics"]["accuracy"] == 0.95);
  CHECK(v["data"][0]["name"] == "holdout");
  CHECK(v["data"][1]["name"] == "train");
  CHECK(v["data"][1]["digest"] == Digest::Of("a,b\n1,2\n").str());
  CHECK(v["created_by"] == "trainer-ci");
  CHECK(show.out.find("hunter2") == std::string::npos);

  auto by_digest = Modelreg({"show", "churn", digest}, env);
  CHECK(by_digest.exit_code == 0);
  CHECK(by_digest.out.find("version:  1") != std::string::npos);

  auto models = Modelreg({"models", "--json"}, env);
  REQUIRE(models.exit_code == 0);
  CHECK(json::parse(models.out)["models"][0]["name"] == "churn");
  auto versions = Modelreg({"versions", "churn", "-o", "wide"}, env);
  CHECK(versions.out.find(digest) != std::string::npos);
  CHECK(versions.out.find("accuracy=0.95 auc=0.912") != std::string::npos);

  // A dirty tree is recorded as such, and makes a new version.
  WriteFile(repo + "/train.py", "print('changed')\n");
  auto dirty = Modelreg({"register", "churn", t / "model", "--code-dir", repo, "--json"}, env);
  REQUIRE(dirty.exit_code == 0);
  CHECK(json::parse(dirty.out)["version"] == 2);
  auto show2 = Modelreg({"show", "churn", "2", "--json"}, env);
  CHECK(json::parse(show2.out)["code"]["dirty"] == true);

  auto pull = Modelreg({"pull", "churn", "1", t / "out"}, server.Env(server.CreateToken("agent-1", "agent")));
  INFO(pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(ReadFile(t / "out/config.json") == "{}");
  CHECK(fs::file_size(t / "out/weights.bin") == (3u << 20));
}

TEST_CASE("a large file re-registered from a machine without the digest cache uploads nothing") {
  // A training job in a fresh container has no digest cache. A large file
  // is hashed while it uploads, unless a blob of the registry has its size
  // and sample (16 blocks of 4 KiB): then it is hashed first, and a known
  // one is not sent.
  ServerProcess server;
  TempDir t;
  const uint64_t size = 70ull << 20;  // above the 64 MiB hashed while uploading
  WriteRandomFile(t / "m/weights.bin", size, 7);
  auto env = server.Env(server.CreateToken("trainer-ci", "trainer"));
  // The progress report (MODELREG_PROGRESS=1) tells which way each went:
  // "hashed" counts what was read before sending.
  std::string progress;
  auto reg = [&](const std::string& dir, const std::string& cache) {
    auto e = env;
    e["MODELREG_CACHE_DIR"] = t / cache;
    e["MODELREG_PROGRESS"] = "1";
    auto r = Modelreg({"register", "churn", t / dir, "--json"}, e);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    progress = r.err;
    return json::parse(r.out);
  };
  auto has = [&](const std::string& what) { return progress.find(what) != std::string::npos; };
  auto first = reg("m", "cache-a");
  CHECK(first["bytes_uploaded"] >= size);
  CHECK(server.RouteCount("uploads.patch", 1) == 1);
  CHECK((has("sent 70.0 MiB") && !has("hashed")));

  auto fresh = reg("m", "cache-b");
  CHECK((has("hashed 70.0 MiB") && !has(" sent ")));
  CHECK(fresh["version"] == 1);
  CHECK(fresh["created"] == false);
  CHECK(fresh["bytes_uploaded"] == 0);
  CHECK(server.RouteCount("uploads.patch", 1) == 1);

  // Same size, other bytes (a retrained model): hashed while uploaded.
  WriteRandomFile(t / "other/weights.bin", size, 8);
  auto other = reg("other", "cache-c");
  CHECK(other["version"] == 2);
  CHECK(other["bytes_uploaded"] >= size);
  CHECK(other["bytes_uploaded"] < size + (1 << 20));
  CHECK((has("sent 70.0 MiB") && !has("hashed")));
  // One byte changed between two sampled blocks: the sample matches the
  // first file's, so it is hashed first, found missing, and uploaded.
  std::string bytes = ReadFile(t / "m/weights.bin");
  bytes[5000] ^= 1;
  WriteFile(t / "edited/weights.bin", bytes);
  auto edited = reg("edited", "cache-d");
  CHECK(edited["version"] == 3);
  CHECK(edited["bytes_uploaded"] >= size);
  CHECK(edited["bytes_uploaded"] < size + (1 << 20));
  CHECK(has("hashed 70.0 MiB, sent 70.0 MiB of 70.0 MiB (100%)"));
  CHECK(server.RouteCount("uploads.patch", 3) == 3);

  auto pulled = Modelreg({"pull", "churn", "2", t / "pulled"}, env);
  INFO(pulled.err);
  REQUIRE(pulled.exit_code == 0);
  CHECK(HashFile(t / "pulled/weights.bin")->digest == HashFile(t / "other/weights.bin")->digest);
  auto pulled3 = Modelreg({"pull", "churn", "3", t / "pulled3"}, env);
  REQUIRE(pulled3.exit_code == 0);
  CHECK(ReadFile(t / "pulled3/weights.bin") == bytes);
}

TEST_CASE(
    "a trainer limited to some models re-registers an unchanged bundle uploading nothing, and reaches no other's "
    "blobs") {
  // Dedup for the token's own models still works (missing, and the sample
  // probe of a large file in a fresh container); the same bytes in another
  // team's model are not found by digest or sample: that team uploads them.
  ServerProcess server;
  TempDir t;
  const uint64_t size = 70ull << 20;  // above the 64 MiB hashed while uploading
  WriteRandomFile(t / "m/weights.bin", size, 11);
  WriteFile(t / "m/config.json", "{\"layers\": 3}");
  std::string progress;
  auto reg = [&](const std::string& token, const std::string& model, const std::string& cache) {
    auto e = server.Env(token);
    e["MODELREG_CACHE_DIR"] = t / cache;
    e["MODELREG_PROGRESS"] = "1";
    auto r = Modelreg({"register", model, t / "m", "--json"}, e);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    progress = r.err;
    return json::parse(r.out);
  };
  auto has = [&](const std::string& what) { return progress.find(what) != std::string::npos; };
  const std::string churn = server.CreateToken("churn-ci", "trainer", {"churn*"});
  const std::string fraud = server.CreateToken("fraud-ci", "trainer", {"fraud*"});
  auto first = reg(churn, "churn", "cache-a");
  CHECK(first["bytes_uploaded"] >= size);
  auto again = reg(churn, "churn", "cache-a");  // with the digest cache
  CHECK(again["created"] == false);
  CHECK(again["bytes_uploaded"] == 0);
  auto fresh = reg(churn, "churn", "cache-b");  // a fresh container: sample, hash, missing
  CHECK(fresh["created"] == false);
  CHECK(fresh["bytes_uploaded"] == 0);
  CHECK((has("hashed 70.0 MiB") && !has(" sent ")));

  // fraud's trainer has the same files: the registry does not tell it so.
  auto other = reg(fraud, "fraud", "cache-c");
  CHECK(other["created"] == true);
  CHECK(other["bytes_uploaded"] >= size);
  CHECK((has("sent 70.0 MiB") && !has("hashed 70.0 MiB")));  // hashed while sent: no sample matched
  auto other_again = reg(fraud, "fraud", "cache-d");
  CHECK(other_again["bytes_uploaded"] == 0);
}

TEST_CASE("register and pull through connections the registry drops as they are reused") {
  // Every kept-alive connection fails its second request without an answer
  // (support/tcp_relay.h): each request is retried on a fresh one.
  ServerProcess server;
  TempDir t;
  for (int i = 0; i < 20; ++i) WriteFile(t / ("m/f" + std::to_string(i)), "file " + std::to_string(i));
  WriteRandomFile(t / "m/big.bin", 6 << 20, 3);
  TcpRelay relay(PortOf(server.url()), TcpRelay::Fault::kOneRequest);
  auto env = server.Env(server.admin_token());
  env["MODELREG_URL"] = relay.url();
  env["MODELREG_CACHE_DIR"] = t / "cache";
  auto reg = Modelreg({"register", "churn", t / "m", "--json"}, env);
  INFO(reg.err);
  REQUIRE(reg.exit_code == 0);
  auto pull = Modelreg({"pull", "churn", "1", t / "pulled"}, env);
  INFO(pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(ReadFile(t / "pulled/big.bin") == ReadFile(t / "m/big.bin"));
  CHECK(ReadFile(t / "pulled/f7") == "file 7");
  CHECK(relay.faults() >= 2);
}

TEST_CASE("pull through a connection reset mid-download resumes and completes") {
  ServerProcess server;
  TempDir t;
  WriteRandomFile(t / "m/big.bin", 24 << 20, 4);
  auto env = server.Env(server.admin_token());
  env["MODELREG_CACHE_DIR"] = t / "cache";
  REQUIRE(Modelreg({"register", "churn", t / "m"}, env).exit_code == 0);
  TcpRelay relay(PortOf(server.url()), TcpRelay::Fault::kResetOnce, 10 << 20);
  env["MODELREG_URL"] = relay.url();
  auto pull = Modelreg({"pull", "churn", "1", t / "pulled"}, env);
  INFO(pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(relay.faults() == 1);
  CHECK(ReadFile(t / "pulled/big.bin") == ReadFile(t / "m/big.bin"));
}

TEST_CASE("pull through a reset, then a server that ignores Range, starts the blob over and completes") {
  ServerProcess server;
  TempDir t;
  WriteRandomFile(t / "m/big.bin", 24 << 20, 5);
  auto env = server.Env(server.admin_token());
  env["MODELREG_CACHE_DIR"] = t / "cache";
  REQUIRE(Modelreg({"register", "churn", t / "m"}, env).exit_code == 0);
  // pull -> (Range renamed) -> (first answer reset at 10 MiB) -> registry
  TcpRelay reset(PortOf(server.url()), TcpRelay::Fault::kResetOnce, 10 << 20);
  TcpRelay no_range(PortOf(reset.url()), TcpRelay::Fault::kIgnoreRange);
  env["MODELREG_URL"] = no_range.url();
  auto pull = Modelreg({"pull", "churn", "1", t / "pulled"}, env);
  INFO(pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(reset.faults() == 1);
  CHECK(no_range.faults() >= 1);  // the retry asked for the rest; the answer was the whole blob
  CHECK(ReadFile(t / "pulled/big.bin") == ReadFile(t / "m/big.bin"));
}

TEST_CASE("bad bundles are refused before anything is uploaded, with a clear error") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.admin_token());
  WriteFile(t / "link/real.bin", "x");
  fs::create_symlink("/etc/passwd", t / "link/evil");
  auto r = Modelreg({"register", "m", t / "link"}, env);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("symlink") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

  WriteFile(t / "case/Model.bin", "x");
  WriteFile(t / "case/model.bin", "y");
  r = Modelreg({"register", "m", t / "case"}, env);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("case-folding") != std::string::npos);

  // The same name in NFC and NFD: two files on ext4, one on macOS.
  WriteFile(t / "nfd/caf\xc3\xa9.bin", "x");   // é as U+00E9
  WriteFile(t / "nfd/cafe\xcc\x81.bin", "y");  // e + U+0301
  r = Modelreg({"register", "m", t / "nfd"}, env);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("Unicode normalization") != std::string::npos);

  WriteFile(t / "ctl/a\x01.bin", "x");
  r = Modelreg({"register", "m", t / "ctl"}, env);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("control character") != std::string::npos);

  WriteFile(t / "hard/a.bin", "x");
  REQUIRE(link((t / "hard/a.bin").c_str(), (t / "hard/b.bin").c_str()) == 0);
  r = Modelreg({"register", "m", t / "hard"}, env);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("hardlink") != std::string::npos);

  // No file at all (only empty directories): a job that wrote elsewhere.
  fs::create_directories(t / "hollow/weights/empty");
  r = Modelreg({"register", "m", t / "hollow"}, env);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("holds no files") != std::string::npos);

  // Nothing was registered, nothing uploaded.
  auto models = Modelreg({"models", "--json"}, env);
  CHECK(json::parse(models.out)["models"].empty());
  CHECK(fs::is_empty(server.data_dir() + "/blobs/sha256"));
}

TEST_CASE(
    "exit codes: 2 for usage, 1 for failures with one line on stderr (3, 5, 6: not found, unauthorized, unreachable)") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.admin_token());
  CHECK(Modelreg({}).exit_code == 2);
  CHECK(Modelreg({"frobnicate"}).exit_code == 2);
  CHECK(Modelreg({"register", "m"}, env).exit_code == 2);
  CHECK(Modelreg({"register", "m", t.path(), "--bogus"}, env).exit_code == 2);
  CHECK(Modelreg({"register", "Bad Name", t.path()}, env).exit_code == 2);
  CHECK(Modelreg({"register", "m", t.path(), "--param", "novalue"}, env).exit_code == 2);
  auto upper = Modelreg({"register", "Churn", t.path()}, env);
  CHECK(upper.exit_code == 2);
  CHECK(upper.err.find("is not lowercase") != std::string::npos);
  auto bad_stage = Modelreg({"promote", "churn", "1", "--to", "prod"}, env);
  CHECK(bad_stage.exit_code == 2);
  CHECK(bad_stage.err.find("--to 'prod': want staging or production") != std::string::npos);
  auto help = Modelreg({"register", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--code-dir") != std::string::npos);

  auto nf = Modelreg({"show", "nope", "1"}, env);
  CHECK(nf.exit_code == 3);
  CHECK(nf.err.find("not found") != std::string::npos);
  auto stage_as_version = Modelreg({"pull", "nope", "production", t.path() + "/dest"}, env);
  CHECK(stage_as_version.exit_code == 3);  // a stage names its version (service/version_ref.h)
  CHECK(stage_as_version.err.find("model 'nope' not found") != std::string::npos);
  auto bad_token = Modelreg({"models"}, server.Env("mr_" + std::string(43, 'x')));
  CHECK(bad_token.exit_code == 5);
  CHECK(bad_token.err.find("unknown token") != std::string::npos);
  auto no_token = Modelreg({"models"}, {{"MODELREG_URL", server.url()}, {"MODELREG_TOKEN", ""}});
  CHECK(no_token.exit_code == 5);
  // A token file's trailing newline is dropped; a character that would end
  // the Authorization header (and start another) is refused, not sent.
  auto newline =
      Modelreg({"models"}, {{"MODELREG_URL", server.url()}, {"MODELREG_TOKEN", server.admin_token() + "\n"}});
  CHECK(newline.exit_code == 0);
  auto injected = Modelreg(
      {"models"}, {{"MODELREG_URL", server.url()}, {"MODELREG_TOKEN", server.admin_token() + "\r\nX-Evil: 1"}});
  CHECK(injected.exit_code == 1);
  CHECK(injected.err.find("MODELREG_TOKEN has a space, control or non-ASCII character inside") != std::string::npos);
  auto down = Modelreg({"models"}, {{"MODELREG_URL", "http://127.0.0.1:1"}, {"MODELREG_TOKEN", server.admin_token()}});
  CHECK(down.exit_code == 6);
  CHECK(down.err.find("cannot reach registry") != std::string::npos);
  auto prefixed =
      Modelreg({"models"}, {{"MODELREG_URL", server.url() + "/modelreg"}, {"MODELREG_TOKEN", server.admin_token()}});
  CHECK(prefixed.exit_code == 1);
  CHECK(prefixed.err.find("has a path ('/modelreg')") != std::string::npos);
  auto bad_metric = Modelreg({"register", "m", t.path(), "--metric", "auc=high"}, env);
  CHECK(bad_metric.exit_code == 1);
  CHECK(bad_metric.err.find("not a finite number") != std::string::npos);
  // A --listen serve cannot use is a usage error before anything is created.
  for (const char* listen : {"127.0.0.1:80a", "127.0.0.1", ":8080", "127.0.0.1:65536", "[::1:8080"}) {
    auto r = Modelreg({"serve", "--data", t.path() + "/never", "--listen", listen});
    INFO(listen << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--listen '") != std::string::npos);
  }
  // Numbers are read whole: "8x" threads or an upload TTL of "1hour" (which
  // atof read as 1 second) are usage errors.
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--threads", "8x"}, {"--upload-ttl", "1hour"}, {"--upload-ttl", "0"}, {"--drain", "-1"}}) {
    auto r = Modelreg({"serve", "--data", t.path() + "/never", "--listen", "127.0.0.1:0", flag, value});
    INFO(flag << " " << value << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(flag + " wants ") != std::string::npos);
  }
  CHECK(Modelreg({"audit", "log", "--limit", "10x"}, env).exit_code == 2);
  // An empty argument (an unset "$DEST") is a usage error, not a crash in
  // std::filesystem (pull and admin backup aborted with SIGABRT).
  auto empty_dest = Modelreg({"pull", "m", "1", ""}, env);
  CHECK(empty_dest.exit_code == 2);
  CHECK(empty_dest.err.find("argument 3 is empty") != std::string::npos);
  CHECK(Modelreg({"admin", "backup", "--data", server.data_dir(), ""}).exit_code == 2);
  CHECK(Modelreg({"serve", "--data", "", "--listen", "127.0.0.1:0"}).exit_code == 2);
  CHECK_FALSE(fs::exists(t.path() + "/never"));
  // A port another registry listens on: exit 1 with the system's reason. (With
  // SO_REUSEPORT, cpp-httplib's default, the second registry bound it too and
  // took half of the first one's connections.) Run in the background so that
  // such a regression fails here instead of hanging the suite.
  const std::string busy = "127.0.0.1:" + std::to_string(PortOf(server.url()));
  Process second({MODELREG_BIN, "serve", "--data", t.path() + "/second", "--listen", busy}, t.path() + "/second.log");
  CHECK(second.Wait(20) == 1);
  CHECK(ReadFile(t.path() + "/second.log").find("cannot listen on " + busy + ": Address already in use") !=
        std::string::npos);
  CHECK(Modelreg({"models"}, env).exit_code == 0);  // the first registry still answers
  auto fsck = Modelreg({"admin", "fsck", "--data", server.data_dir()});
  CHECK(fsck.exit_code == 0);
}

TEST_CASE("token CLI: create locally and over REST, list, revoke") {
  ServerProcess server;
  auto env = server.Env(server.admin_token());
  auto c = Modelreg({"token", "create", "--role", "trainer", "--name", "fraud-ci", "--models", "fraud-*"}, env);
  REQUIRE(c.exit_code == 0);
  std::string tok = c.out.substr(0, c.out.size() - 1);
  CHECK(tok.rfind("mr_", 0) == 0);
  auto who = Modelreg({"whoami"}, server.Env(tok));
  CHECK(who.out == "fraud-ci (trainer)\n");
  auto list = Modelreg({"token", "list"}, env);
  CHECK(list.out.find("fraud-ci") != std::string::npos);
  CHECK(list.out.find("fraud-*") != std::string::npos);
  CHECK(list.out.find(tok) == std::string::npos);
  CHECK(Modelreg({"token", "revoke", "fraud-ci"}, env).exit_code == 0);
  CHECK(Modelreg({"whoami"}, server.Env(tok)).exit_code == 5);
  auto denied =
      Modelreg({"token", "create", "--role", "admin", "--name", "x"}, server.Env(server.CreateToken("t", "trainer")));
  CHECK(denied.exit_code == 5);
  CHECK(denied.err.find("may not manage-tokens") != std::string::npos);
}

TEST_CASE("token CLI: --expires takes a duration or a time, list shows it, an expired token is refused") {
  ServerProcess server;
  auto env = server.Env(server.admin_token());
  auto a = Modelreg({"token", "create", "--role", "agent", "--name", "edge-1", "--expires", "12h", "--json"}, env);
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  auto aj = json::parse(a.out);
  CHECK(aj["token"].get<std::string>().rfind("mr_", 0) == 0);
  REQUIRE(aj["expires_at"].is_string());
  auto at = ParseTimeMs(aj["expires_at"].get<std::string>());
  REQUIRE(at.ok());
  const int64_t in = *at - NowMs();
  CHECK(in > 12 * 3600 * 1000 - 60000);
  CHECK(in <= 12 * 3600 * 1000);
  // Locally on the data dir, at a time.
  auto b = Modelreg({"token", "create", "--role", "auditor", "--name", "audit-q4", "--expires", "2999-12-31T00:00:00Z",
                     "--data", server.data_dir()});
  REQUIRE(b.exit_code == 0);
  auto list = Modelreg({"token", "list"}, env);
  CHECK(list.out.find("EXPIRES") != std::string::npos);
  CHECK(list.out.find("2999-12-31T00:00:00.000Z") != std::string::npos);
  CHECK(list.out.find("never") != std::string::npos);  // the bootstrap admin
  // Usage errors (2) and refusals (1).
  CHECK(Modelreg({"token", "create", "--role", "agent", "--name", "x", "--expires", "soon"}, env).exit_code == 2);
  CHECK(Modelreg({"token", "create", "--role", "agent", "--name", "x", "--expires", "0d"}, env).exit_code == 2);
  auto past = Modelreg({"token", "create", "--role", "agent", "--name", "x", "--expires", "2001-01-01"}, env);
  CHECK(past.exit_code == 1);
  CHECK(past.err.find("not in the future") != std::string::npos);
  // One that runs out: refused with when, and listed as expired.
  auto c = Modelreg({"token", "create", "--role", "agent", "--name", "brief", "--expires", "1s"}, env);
  REQUIRE(c.exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto who = Modelreg({"whoami"}, server.Env(c.out.substr(0, c.out.size() - 1)));
  CHECK(who.exit_code == 5);
  CHECK(who.err.find("token 'brief' expired at") != std::string::npos);
  CHECK(Modelreg({"token", "list"}, env).out.find("expired") != std::string::npos);
}

TEST_CASE("fsck finds a corrupted and a missing blob") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.admin_token());
  WriteFile(t / "b/a.bin", "aaaa");
  WriteFile(t / "b/b.bin", "bbbb");
  REQUIRE(Modelreg({"register", "m", t / "b"}, env).exit_code == 0);
  auto da = Digest::Of("aaaa"), db = Digest::Of("bbbb");
  std::string pa = server.data_dir() + "/blobs/sha256/" + da.shard() + "/" + da.hex();
  chmod(pa.c_str(), 0644);
  WriteFile(pa, "aaab");
  fs::remove(server.data_dir() + "/blobs/sha256/" + db.shard() + "/" + db.hex());
  auto r = Modelreg({"admin", "fsck", "--data", server.data_dir()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("corrupt") != std::string::npos);
  CHECK(r.out.find(db.str() + " is missing") != std::string::npos);
}

TEST_CASE("fsck --repair quarantines corrupt blobs and a register of the same bundle heals the version") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.admin_token());
  WriteFile(t / "b/a.bin", "aaaa");
  WriteFile(t / "b/b.bin", std::string(3 << 20, 'b'));
  auto first = Modelreg({"register", "m", t / "b", "--json"}, env);
  REQUIRE(first.exit_code == 0);
  const std::string bundle = json::parse(first.out)["digest"];
  auto blob_path = [&](const Digest& d) { return server.data_dir() + "/blobs/sha256/" + d.shard() + "/" + d.hex(); };
  // Two blobs go bad on the server's disk: a file, and the version's manifest.
  const Digest da = Digest::Of("aaaa");
  const Digest dm = *Digest::Parse(bundle);
  for (const auto& [d, bytes] : {std::pair{da, std::string("aaab")}, std::pair{dm, std::string("{}")}}) {
    chmod(blob_path(d).c_str(), 0644);
    WriteFile(blob_path(d), bytes);
  }
  CHECK(Modelreg({"pull", "m", "1", t / "p1"}, env).exit_code == 1);

  // Without --repair: reported, nothing moved.
  auto check = Modelreg({"admin", "fsck", "--data", server.data_dir()});
  CHECK(check.exit_code == 1);
  CHECK(fs::exists(blob_path(da)));
  // With --repair (while serve runs): moved aside, the versions now lack them.
  auto repair = Modelreg({"admin", "fsck", "--data", server.data_dir(), "--repair", "--json"});
  CHECK(repair.exit_code == 1);
  auto rj = json::parse(repair.out);
  CHECK(rj["repaired"].size() == 2);
  CHECK(rj["problems"].dump().find("quarantined as corrupt") != std::string::npos);
  CHECK_FALSE(fs::exists(blob_path(da)));
  CHECK(ReadFile(server.data_dir() + "/quarantine/sha256/" + da.hex()) == "aaab");
  // The registry now says it lacks them, so the same bundle uploads them again.
  auto again = Modelreg({"register", "m", t / "b", "--json"}, env);
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  auto aj = json::parse(again.out);
  CHECK(aj["created"] == false);
  CHECK(aj["version"] == 1);
  CHECK(aj["bytes_uploaded"] == 4);
  auto healed = Modelreg({"admin", "fsck", "--data", server.data_dir()});
  INFO(healed.out);
  CHECK(healed.exit_code == 0);
  CHECK(Modelreg({"pull", "m", "1", t / "p2"}, env).exit_code == 0);
  CHECK(ReadFile(t / "p2/a.bin") == "aaaa");
  CHECK(Modelreg({"admin", "backup", "--data", server.data_dir(), t / "bk", "--repair"}).exit_code == 2);
}

TEST_CASE("admin backup of a running registry starts as a registry of its own") {
  TempDir t;
  std::string backup = t / "backup";
  std::string digest;
  {
    ServerProcess server;
    auto env = server.Env(server.admin_token());
    WriteFile(t / "b/weights.bin", std::string(2 << 20, 'w'));
    WriteFile(t / "b/config.json", "{}");
    auto reg = Modelreg({"register", "churn", t / "b", "--json"}, env);
    REQUIRE(reg.exit_code == 0);
    digest = json::parse(reg.out)["digest"];
    auto r = Modelreg({"admin", "backup", "--data", server.data_dir(), backup});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // Refuses a non-empty destination, and one inside the data directory.
    CHECK(Modelreg({"admin", "backup", "--data", server.data_dir(), backup}).exit_code == 1);
    auto inside = Modelreg({"admin", "backup", "--data", server.data_dir(), server.data_dir() + "/blobs/bk"});
    CHECK(inside.exit_code == 1);
    CHECK(inside.err.find("is inside the data directory") != std::string::npos);
    CHECK_FALSE(fs::exists(server.data_dir() + "/blobs/bk"));
    CHECK(server.Stop() == 0);
  }
  ServerProcess restored(backup);
  // The bootstrap token was not copied; the tokens in the database were.
  std::string reader = restored.CreateToken("reader", "auditor");
  auto e = restored.Env(reader);
  auto pull = Modelreg({"pull", "churn", digest, t / "pulled"}, e);
  INFO(pull.err);
  CHECK(pull.exit_code == 0);
  CHECK(ReadFile(t / "pulled/config.json") == "{}");
  CHECK(Modelreg({"audit", "verify"}, e).exit_code == 0);
  CHECK(Modelreg({"admin", "fsck", "--data", backup}).exit_code == 0);
  // A mistyped --data is refused, not opened as a new, empty registry that
  // then checks out fine ("audit log verified: 0 events").
  const std::string typo = t / "bakcup";
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"admin", "fsck", "--data", typo},
                                             {"admin", "backup", "--data", typo, t / "bk2"},
                                             {"audit", "verify", "--data", typo},
                                             {"token", "list", "--data", typo},
                                             {"token", "create", "--role", "auditor", "--name", "x", "--data", typo}}) {
    auto r = Modelreg(cmd);
    INFO(cmd[0] << " " << cmd[1] << ": " << r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("no registry in " + typo + " (it has no registry.db): check --data") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(typo));
}

TEST_CASE("progress: MODELREG_PROGRESS=1 reports bytes hashed, sent and received, --json and =0 keep stderr quiet") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.admin_token());
  WriteFile(t / "b/weights.bin", std::string(3 << 20, 'w'));
  WriteFile(t / "b/small.txt", "small");
  auto with = [&](const std::string& mode) {
    auto e = env;
    e["MODELREG_PROGRESS"] = mode;
    return e;
  };
  auto reg = Modelreg({"register", "m", t / "b"}, with("1"));
  INFO(reg.err);
  REQUIRE(reg.exit_code == 0);
  // Not a terminal: whole lines, the last one when the transfer ends.
  CHECK(reg.err.find("\r") == std::string::npos);
  // The files are hashed (read), then the ones the registry lacks sent: of
  // how many bytes, the percentage, the rate (and while not done, the ETA).
  CHECK(std::regex_search(reg.err,
                          std::regex(R"(  hashed 3\.0 MiB, sent 3\.0 MiB of 3\.0 MiB \(100%\), [0-9]+ MB/s\n)")));
  // Unchanged: hashed again, nothing sent.
  auto again = Modelreg({"register", "m", t / "b"}, with("1"));
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find(" sent ") == std::string::npos);
  CHECK(std::regex_search(again.err, std::regex(R"(  hashed 3\.0 MiB of 3\.0 MiB \(100%\), [0-9]+ MB/s\n)")));

  auto pull = Modelreg({"pull", "m", "1", t / "p1"}, with("1"));
  INFO(pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(std::regex_search(pull.err, std::regex(R"(  received 3\.0 MiB of 3\.0 MiB \(100%\), [0-9]+ MB/s\n)")));
  // Off: by --json (stderr is not a terminal here either), and by =0.
  auto quiet = Modelreg({"pull", "m", "1", t / "p2", "--json"}, with(""));
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.err.empty());
  auto off = Modelreg({"pull", "m", "1", t / "p3"}, with("0"));
  REQUIRE(off.exit_code == 0);
  CHECK(off.err.find("received") == std::string::npos);
}

TEST_CASE("progress on a terminal: one line rewritten in place while a pull runs, erased when it ends") {
  ServerProcess server;
  TempDir t;
  const std::string content(4 << 20, 'p');
  WriteFile(t / "b/weights.bin", content);
  REQUIRE(Modelreg({"register", "m", t / "b"}, server.Env(server.admin_token())).exit_code == 0);
  // Blob answers dribble out in 64 KiB pieces, 25 ms apart (about 1.6 s
  // for 4 MiB), so the line is drawn a few times.
  SlowBlobRelay relay(server.url(), 64 << 10, std::chrono::milliseconds(25));
  // `script` gives the CLI a terminal; its stdout is what the terminal shows.
  auto env = server.Env(server.admin_token());
  env["MODELREG_URL"] = relay.url();
  env.erase("MODELREG_PROGRESS");
  const std::string cmd = std::string("'") + MODELREG_BIN + "' pull m 1 '" + (t / "pulled") + "'";
  auto r = Run({"script", "-q", "-e", "-c", cmd, "/dev/null"}, env);
  INFO(r.out);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(ReadFile(t / "pulled/weights.bin") == content);
  // Drawn with a carriage return and no newline, at least twice...
  const std::regex drawn(R"(\r  received [0-9.]+ [KM]iB of 4\.0 MiB \([0-9]+%\), [0-9]+ MB/s)");
  const auto n = std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), drawn), std::sregex_iterator());
  CHECK(n >= 2);
  // ...with the time left while it runs.
  CHECK(std::regex_search(
      r.out, std::regex(R"(\r  received [0-9.]+ [KM]iB of 4\.0 MiB \([0-9]+%\), [0-9]+ MB/s, ETA [0-9]+s)")));
  // ...then erased: blanks between two carriage returns, before the result.
  CHECK(std::regex_search(r.out, std::regex(R"(\r {20,}\r)")));
  const size_t erased = r.out.rfind("\r ");
  const size_t last_draw = r.out.rfind("\r  received");
  CHECK(erased > last_draw);
  CHECK(r.out.find("\n", last_draw) > erased);  // no newline left a drawn line behind
}

namespace {

// Names in `dir` (not recursive).
std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

}  // namespace

TEST_CASE("a pull killed with -9 is resumed by the next pull into the same DEST: verified files are kept") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.admin_token());
  for (const char* name : {"a.bin", "b.bin", "c.bin"})
    WriteFile(t / (std::string("b/") + name), std::string(5 << 20, name[0]));
  WriteFile(t / "b/s.txt", "small file");
  auto reg = Modelreg({"register", "m", t / "b"}, env);
  REQUIRE(reg.exit_code == 0);
  fs::create_directories(t / "out");

  // A relay in front of the registry that holds back the download of c.bin,
  // so that the pull is killed with a.bin and b.bin complete.
  const std::string held = "/blobs/" + Digest::Of(std::string(5 << 20, 'c')).str();
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  httplib::Server relay;
  auto upstream = Forwarder(server.url());
  auto forward = [&](const httplib::Request& req, httplib::Response& res) {
    if (req.path.size() >= held.size() && req.path.compare(req.path.size() - held.size(), held.size(), held) == 0) {
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::seconds(30), [&] { return release; });
      res.status = 503;
      return;
    }
    upstream(req, res);
  };
  relay.Get(".*", forward);
  relay.Post(".*", forward);
  const int port = relay.bind_to_any_port("127.0.0.1");
  std::thread relay_thread([&] { relay.listen_after_bind(); });
  auto relay_env = env;
  relay_env["MODELREG_URL"] = "http://127.0.0.1:" + std::to_string(port);
  {
    Process pull({MODELREG_BIN, "pull", "m", "1", t / "out/p"}, t / "pull1.log", relay_env);
    auto complete = [&] {
      for (const auto& n : Names(t / "out"))
        if (n.find(".partial-") != std::string::npos && fs::is_directory(t / ("out/" + n))) {
          std::error_code ec;
          return fs::file_size(t / ("out/" + n + "/a.bin"), ec) == (5u << 20) &&
                 fs::file_size(t / ("out/" + n + "/b.bin"), ec) == (5u << 20);
        }
      return false;
    };
    for (int i = 0; i < 6000 && !complete(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(complete());
    pull.Signal(SIGKILL);
    pull.Wait(10);
  }
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  relay.stop();
  relay_thread.join();
  CHECK_FALSE(fs::exists(t / "out/p"));
  CHECK(Names(t / "out").size() == 2);  // the partial directory and its lock file

  auto again = Modelreg({"pull", "m", "1", t / "out/p", "--json"}, env);
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  auto j = json::parse(again.out);
  CHECK(j["bytes_reused"].get<uint64_t>() >= (10u << 20));  // a.bin and b.bin (s.txt too if it came first)
  CHECK(j["bytes_downloaded"].get<uint64_t>() <= (5u << 20) + 10);
  CHECK(j["bytes_reused"].get<uint64_t>() + j["bytes_downloaded"].get<uint64_t>() == (15u << 20) + 10);
  for (const char* name : {"a.bin", "b.bin", "c.bin"})
    CHECK(ReadFile(t / (std::string("out/p/") + name)) == std::string(5 << 20, name[0]));
  CHECK(ReadFile(t / "out/p/s.txt") == "small file");
  CHECK(Names(t / "out") == std::set<std::string>{"p"});
}

TEST_CASE(
    "a pull adopts what a killed pull of the same bundle left only after checking it, and leaves a live one alone") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.admin_token());
  const std::string a(300000, 'a'), b(5 << 20, 'b'), c(200000, 'c'), e(5 << 20, 'e');
  WriteFile(t / "b/a.bin", a);
  WriteFile(t / "b/d/b.bin", b);
  WriteFile(t / "b/d/c.bin", c);
  WriteFile(t / "b/e.bin", e);
  auto reg = Modelreg({"register", "m", t / "b", "--json"}, env);
  REQUIRE(reg.exit_code == 0);
  const std::string digest = json::parse(reg.out)["digest"];
  WriteFile(t / "b2/other.bin", "another bundle");
  auto reg2 = Modelreg({"register", "m", t / "b2", "--json"}, env);
  REQUIRE(reg2.exit_code == 0);
  const std::string other_digest = json::parse(reg2.out)["digest"];

  const std::string out = t / "out";
  // What a killed pull of this bundle left: a.bin whole, b.bin cut short
  // (continued), c.bin of the right size with a wrong byte, e.bin cut short
  // with wrong bytes (as after a machine crash: continued, found wrong,
  // downloaded again whole), files and a directory the bundle does not
  // have, a symlink.
  const std::string left = out + "/.p.partial-aaaaaaaaaaaa";
  WriteFile(left + "/a.bin", a);
  const size_t cut = (1 << 20) + 12345;  // not on a block boundary
  WriteFile(left + "/d/b.bin", b.substr(0, cut));
  std::string bad_c = c;
  bad_c[1000] = 'X';
  WriteFile(left + "/d/c.bin", bad_c);
  WriteFile(left + "/e.bin", std::string(1 << 20, 'X'));
  WriteFile(left + "/junk.txt", "not in the bundle");
  WriteFile(left + "/extra/dir/file", "not in the bundle");
  fs::create_symlink("/etc/passwd", left + "/d/link");
  WriteFile(left + ".lock", digest + "\n");
  // A killed pull of another bundle into the same DEST: removed.
  WriteFile(out + "/.p.partial-bbbbbbbbbbbb/other.bin", "another bundle");
  WriteFile(out + "/.p.partial-bbbbbbbbbbbb.lock", other_digest + "\n");
  // A pull still running (its lock is held): left alone.
  WriteFile(out + "/.p.partial-cccccccccccc/a.bin", "in progress");
  WriteFile(out + "/.p.partial-cccccccccccc.lock", digest + "\n");
  const int live = ::open((out + "/.p.partial-cccccccccccc.lock").c_str(), O_RDWR);
  REQUIRE(live >= 0);
  REQUIRE(::flock(live, LOCK_EX) == 0);
  // A directory without a lock file (not a pull of this version): untouched.
  WriteFile(out + "/.p.partial-dddddddddddd/x", "x");
  // A pull killed while it made its lock file, two minutes ago (with the
  // directory that older versions made first): both removed. One being
  // made right now: left alone.
  WriteFile(out + "/.p.partial-eeeeeeeeeeee.new", digest + "\n");
  WriteFile(out + "/.p.partial-eeeeeeeeeeee/y", "y");
  fs::last_write_time(out + "/.p.partial-eeeeeeeeeeee.new", fs::file_time_type::clock::now() - std::chrono::minutes(2));
  WriteFile(out + "/.p.partial-ffffffffffff.new", digest + "\n");

  auto pull = Modelreg({"pull", "m", "1", out + "/p", "--json"}, env);
  INFO(pull.err);
  REQUIRE(pull.exit_code == 0);
  auto j = json::parse(pull.out);
  CHECK(j["bytes_reused"] == a.size() + cut);
  CHECK(j["bytes_downloaded"] == (b.size() - cut) + c.size() + (e.size() - (1 << 20)) + e.size());
  CHECK(ReadFile(out + "/p/a.bin") == a);
  CHECK(ReadFile(out + "/p/d/b.bin") == b);
  CHECK(ReadFile(out + "/p/d/c.bin") == c);
  CHECK(ReadFile(out + "/p/e.bin") == e);
  std::set<std::string> in_dest;
  for (const auto& e : fs::recursive_directory_iterator(out + "/p"))
    in_dest.insert(fs::relative(e.path(), out + "/p").string());
  CHECK(in_dest == std::set<std::string>{"a.bin", "d", "d/b.bin", "d/c.bin", "e.bin"});
  CHECK(Names(out) == std::set<std::string>{"p", ".p.partial-cccccccccccc", ".p.partial-cccccccccccc.lock",
                                            ".p.partial-dddddddddddd", ".p.partial-ffffffffffff.new"});
  CHECK(ReadFile(out + "/.p.partial-cccccccccccc/a.bin") == "in progress");
  ::close(live);
}

TEST_CASE("every command's --help explains it, and every flag the CLI parses is in some help") {
  // The commands, from the top-level usage.
  auto top = Modelreg({"--help"});
  REQUIRE(top.exit_code == 0);
  std::set<std::string> commands;
  std::regex usage_line(R"(\n  modelreg ([a-z]+))");
  for (auto it = std::sregex_iterator(top.out.begin(), top.out.end(), usage_line); it != std::sregex_iterator(); ++it)
    commands.insert((*it)[1]);
  REQUIRE(commands.size() >= 20);
  std::string all = top.out;
  for (const auto& c : commands) {
    auto h = Modelreg({c, "--help"});
    INFO(c);
    CHECK(h.exit_code == 0);
    CHECK(h.out.rfind("Usage: modelreg " + c, 0) == 0);
    CHECK(std::count(h.out.begin(), h.out.end(), '\n') >= 3);  // more than the synopsis
    CHECK(Modelreg({"help", c}).out == h.out);
    all += h.out;
  }
  // Every "--flag" literal of cli/*.cc (what the commands parse).
  std::regex flag_literal(R"re("(--[a-z][a-z-]+)")re");
  for (const auto& e : fs::directory_iterator(std::string(MODELREG_SOURCE_DIR) + "/cli")) {
    const std::string src = ReadFile(e.path().string());
    for (auto it = std::sregex_iterator(src.begin(), src.end(), flag_literal); it != std::sregex_iterator(); ++it) {
      const std::string flag = (*it)[1];
      if (flag == "--help" || flag == "--version" || flag == "--output") continue;  // --output is -o FILE
      INFO(flag << " (" << e.path().filename().string() << ")");
      CHECK(all.find(flag) != std::string::npos);
    }
  }
}

TEST_CASE("an answer of the wrong shape (another server at the URL) is one line and exit 1, not an abort") {
  // Every path answers JSON a modelreg registry would not: numbers where
  // objects belong, a string where a list belongs.
  httplib::Server other;
  other.Get(".*", [](const httplib::Request& req, httplib::Response& res) {
    const std::string body = req.path == "/api/v1/audit/events" ? R"({"events": "no"})"
                             : req.path == "/api/v1/agents"     ? R"({"agents": [1, 2]})"
                                                                : R"({"weird": 5, "models": 5})";
    res.set_content(body, "application/json");
  });
  const int port = other.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { other.listen_after_bind(); });
  const std::map<std::string, std::string> env = {{"MODELREG_URL", "http://127.0.0.1:" + std::to_string(port)},
                                                  {"MODELREG_TOKEN", "mr_" + std::string(43, 'x')}};
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"agents"}, {"audit", "log"}, {"policy", "show", "m"}, {"key", "export"}, {"diff", "m", "1", "2"}}) {
    auto r = Modelreg(cmd, env);
    INFO(cmd[0] << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("the registry's answer is not what this client reads") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  other.stop();
  serving.join();
}
