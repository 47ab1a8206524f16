// End to end: text in a registry cannot drive the terminal of whoever reads
// it with the CLI. Control characters in keys and URIs are refused at
// register; text that is still stored with them (free-text values, reasons,
// and records written before that check, planted here in a stopped
// registry's database and blob store) is printed escaped.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/digest.h"
#include "core/lineage_record.h"
#include "support/server_process.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

const std::string kEsc = "\x1b]0;owned\x07\x1b[2J";
const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

// No raw ESC, BEL or C1 CSI byte in what the CLI wrote.
void CheckNoControls(const RunResult& r, const std::string& what) {
  INFO(what << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  for (const std::string* s : {&r.out, &r.err}) {
    CHECK(s->find('\x1b') == std::string::npos);
    CHECK(s->find('\x07') == std::string::npos);
    CHECK(s->find("\xc2\x9b") == std::string::npos);
  }
}

RunResult Ok(RunResult r) {
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

}  // namespace

TEST_CASE("CLI: register refuses control characters in keys and URIs, before uploading") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "m/model.bin", "weights");
  auto env = server.Env(server.admin_token());
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"--env", kEsc + "=x"},
                                             {"--data", "train=s3://lake/" + kEsc},
                                             {"--data",
                                              "tr\x1b"
                                              "ain=s3://lake/t"}}) {
    std::vector<std::string> args = {"register", "churn", t / "m"};
    args.insert(args.end(), bad.begin(), bad.end());
    auto r = Modelreg(args, env);
    INFO(bad[1] << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("contains a control character") != std::string::npos);
    CheckNoControls(r, "register " + bad[1]);
  }
  CHECK(Ok(Modelreg({"models", "--json"}, env)).out.find("churn") == std::string::npos);
}

TEST_CASE("CLI: show, history, lineage, diff print stored control characters escaped") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "m1/model.bin", "weights one");
  WriteFile(t / "m2/model.bin", "weights two");
  auto admin = server.Env(server.admin_token());
  auto base = std::vector<std::string>{"--data",        "train=s3://lake/train",
                                       "--code-repo",   "https://git.example.com/x.git",
                                       "--code-commit", kCommit,
                                       "--metric",      "auc=0.9",
                                       "--json"};
  auto reg = [&](const std::string& dir, std::vector<std::string> extra) {
    std::vector<std::string> a = {"register", "churn", dir};
    a.insert(a.end(), base.begin(), base.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return json::parse(Ok(Modelreg(a, admin)).out);
  };
  reg(t / "m1", {"--env", "python=3.11"});
  // Values are free text and are stored as given.
  reg(t / "m2", {"--env", "python=3.12" + kEsc, "--param", "prompt=" + kEsc});
  Ok(Modelreg({"promote", "churn", "2", "--to", "staging", "--reason", "ok " + kEsc}, admin));

  // A registry written before keys and URIs were checked: plant them.
  REQUIRE(server.Stop() == 0);
  {
    SQLite::Database db(server.data_dir() + "/registry.db", SQLite::OPEN_READWRITE);
    const std::string config_digest = db.execAndGet("SELECT config_digest FROM versions WHERE number = 2").getString();
    auto d = Digest::Parse(config_digest);
    REQUIRE(d.ok());
    auto rec = ParseLineage(ReadFile(server.data_dir() + "/blobs/sha256/" + d->shard() + "/" + d->hex()));
    REQUIRE(rec.ok());
    rec->environment[kEsc] = "x";
    rec->data[0].uri = "s3://lake/" + kEsc;
    rec->code->repo = "https://git.example.com/" + kEsc;
    rec->metrics
        ["a\xc2\x9b"
         "2J"] = 1;  // C1 CSI
    const std::string bytes = SerializeLineage(*rec);
    const Digest nd = Digest::Of(bytes);
    std::filesystem::create_directories(server.data_dir() + "/blobs/sha256/" + nd.shard());
    WriteFile(server.data_dir() + "/blobs/sha256/" + nd.shard() + "/" + nd.hex(), bytes);
    SQLite::Statement up(db, "UPDATE versions SET config_digest = ?, code_repo = ? WHERE number = 2");
    up.bind(1, nd.str());
    up.bind(2, rec->code->repo);
    up.exec();
    SQLite::Statement ds(
        db, "UPDATE version_datasets SET uri = ? WHERE version_id = (SELECT id FROM versions WHERE number = 2)");
    ds.bind(1, rec->data[0].uri);
    ds.exec();
  }
  server.Start();
  admin = server.Env(server.admin_token());

  const std::vector<std::vector<std::string>> commands = {{"show", "churn", "2"},    {"history", "churn"},
                                                          {"lineage", "churn", "2"}, {"diff", "churn", "1", "2"},
                                                          {"versions", "churn"},     {"audit", "log"}};
  for (const auto& c : commands) {
    auto r = Ok(Modelreg(c, admin));
    CheckNoControls(r, c[0]);
    auto j = c;
    j.push_back("--json");
    auto rj = Ok(Modelreg(j, admin));
    CheckNoControls(rj, c[0] + " --json");
    CHECK_NOTHROW(json::parse(rj.out));
  }
  // What was escaped is still shown, as \u001b.
  const std::string lineage = Modelreg({"lineage", "churn", "2"}, admin).out;
  CHECK(lineage.find("env:        \\u001b]0;owned\\u0007\\u001b[2J = x") != std::string::npos);
  CHECK(lineage.find("s3://lake/\\u001b]0;owned") != std::string::npos);
  CHECK(lineage.find("metric:     a\\u009b2J = 1") != std::string::npos);
  CHECK(Modelreg({"show", "churn", "2"}, admin).out.find("https://git.example.com/\\u001b]0;owned") !=
        std::string::npos);
  CHECK(Modelreg({"history", "churn"}, admin).out.find("ok \\u001b]0;owned") != std::string::npos);
  CHECK(Modelreg({"diff", "churn", "1", "2"}, admin).out.find("3.12\\u001b]0;owned") != std::string::npos);
}
