// `admin fsck` cross-checks rows with their second sources (issue #21 item
// 8): single-value edits to registry.db that keep SQLite's structure valid
// must be reported, naming the model, version and both values; an untouched
// registry must check out clean.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;

namespace {

const std::string kCommit = std::string(40, 'c');
const Digest kTrain = Digest::Of("train rows");

// Registers version N of churn (by `trainer`) with full lineage.
void RegisterVersion(const ServerProcess& server, const TempDir& t, const std::string& trainer, int n, double auc) {
  const std::string dir = t / ("b" + std::to_string(n));
  WriteFile(dir + "/m.bin", "weights " + std::to_string(n));
  LineageRecord l;
  l.model = "churn";
  l.metrics = {{"auc", auc}, {"logloss", 0.2}};
  l.params = {{"max_depth", int64_t{6}}, {"learning_rate", 0.1}};
  l.code = CodeRef{"https://git.example.com/churn.git", kCommit, "main", false, "train.py"};
  l.data.push_back(DatasetRef{"train", "s3://lake/churn/train", kTrain});
  auto r = Client(server, trainer)->Register("churn", dir, l);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

void Cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  auto r = Modelreg(args, env);
  INFO(args[0] << " " << args[1] << ": " << r.err);
  REQUIRE(r.exit_code == 0);
}

std::vector<std::string> ProblemLines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("PROBLEM ", 0) == 0) lines.push_back(line);
  return lines;
}

// A copy of the stopped registry's data directory with `sql` applied.
std::string EditedCopy(const std::string& data, const std::string& dest, const std::string& sql) {
  fs::copy(data, dest, fs::copy_options::recursive);
  SQLite::Database db(dest + "/registry.db", SQLite::OPEN_READWRITE);
  REQUIRE(db.exec(sql) >= 1);  // the edit must change something
  return dest;
}

constexpr char kV1[] =
    "(SELECT v.id FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = 'churn' AND v.number = 1)";
constexpr char kV3[] =
    "(SELECT v.id FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = 'churn' AND v.number = 3)";

struct Edit {
  std::string what, sql;
  std::vector<std::string> expected;  // regexes, each matching one PROBLEM line, in order
};

}  // namespace

TEST_CASE("fsck cross-check: single-value edits to registry.db are reported, an untouched registry is clean",
          "[sqlite]") {
  TempDir t;
  const std::string data = t / "data";
  {
    ServerProcess server(data);
    const std::string trainer = server.CreateToken("trainer", "trainer");
    const auto alice = server.Env(server.CreateToken("alice", "approver"));
    const auto bob = server.Env(server.CreateToken("bob", "approver"));
    const auto admin = server.Env(server.admin_token());
    RegisterVersion(server, t, trainer, 1, 0.91);
    RegisterVersion(server, t, trainer, 2, 0.93);
    RegisterVersion(server, t, trainer, 3, 0.95);
    Cli({"policy", "set", "churn", "--approvals", "1", "--gate", "auc >= 0.85"}, admin);
    Cli({"promote", "churn", "1", "--to", "staging"}, alice);
    Cli({"approve", "churn", "1"}, alice);
    Cli({"promote", "churn", "1", "--to", "production"}, alice);
    Cli({"promote", "churn", "2", "--to", "staging"}, bob);
    Cli({"approve", "churn", "2", "--comment", "looks good"}, bob);
    Cli({"promote", "churn", "2", "--to", "production", "--reason", "better auc"}, bob);
    Cli({"rollback", "churn", "--reason", "latency"}, alice);  // 1 production again, 2 archived
    Cli({"approve", "churn", "3"}, alice);
    Cli({"reject", "churn", "3", "--reason", "overfit"}, bob);
    // Below the gate: promoted by an admin's override (1 archived, replaced).
    RegisterVersion(server, t, trainer, 4, 0.80);
    Cli({"promote", "churn", "4", "--to", "staging"}, alice);
    Cli({"approve", "churn", "4"}, alice);
    Cli({"promote", "churn", "4", "--to", "production", "--override", "hotfix"}, admin);
    REQUIRE(server.Stop() == 0);
  }

  {  // untouched: exit 0, no problem (a false positive fails here)
    auto r = Modelreg({"admin", "fsck", "--data", data});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(ProblemLines(r.out).empty());
    CHECK(r.out.find("4 versions cross-checked") != std::string::npos);
  }

  const std::string sha = "sha256:[0-9a-f]{64}";
  const std::vector<Edit> edits = {
      {"stage archived -> rejected",
       "UPDATE versions SET stage = 'rejected' WHERE number = 2",
       {"^PROBLEM churn version 2: stage is 'rejected' in the database, but its stage history \\(change #\\d+\\) "
        "and the audit log \\(seq \\d+\\) both say 'archived'$"}},
      {"metric name auc -> au?",
       std::string("UPDATE version_metrics SET name = 'au?' WHERE name = 'auc' AND version_id = ") + kV1,
       {"^PROBLEM churn version 1: metric 'au\\?' = 0\\.91 in the database is not in its lineage record \\(" + sha +
        "\\), which has auc = 0\\.91$"}},
      {"metric value 0.91 -> 0.785",
       std::string("UPDATE version_metrics SET value = 0.785 WHERE name = 'auc' AND version_id = ") + kV1,
       {"^PROBLEM churn version 1: metric 'auc' = 0\\.785 in the database, 0\\.91 in its lineage record \\(" + sha +
        "\\)$"}},
      {"metric row deleted",
       std::string("DELETE FROM version_metrics WHERE name = 'logloss' AND version_id = ") + kV1,
       {"^PROBLEM churn version 1: its lineage record \\(" + sha +
        "\\) has logloss = 0\\.2, missing from the database$"}},
      {"metric row added",
       std::string("INSERT INTO version_metrics VALUES (") + kV3 + ", 'recall', 0.99)",
       {"^PROBLEM churn version 3: metric 'recall' = 0\\.99 in the database is not in its lineage record \\(" + sha +
        "\\)$"}},
      {"dataset digest",
       "UPDATE version_datasets SET digest = 'sha256:" + std::string(64, 'f') + "' WHERE version_id = " + kV1,
       {"^PROBLEM churn version 1: dataset 'train' digest 'sha256:f{64}' in the database, '" + kTrain.str() +
        "' in its lineage record \\(" + sha + "\\)$"}},
      {"code commit",
       "UPDATE versions SET code_commit = '" + std::string(40, 'd') + "' WHERE number = 3",
       {"^PROBLEM churn version 3: code commit 'd{40}' in the database, 'c{40}' in its lineage record \\(" + sha +
        "\\)$"}},
      {"approval's approver",
       "UPDATE approvals SET approver = 'mallory' WHERE approver = 'bob'",
       {"^PROBLEM churn version 2: approval by 'mallory' in the database, but the audit log records approval by "
        "'bob' \\(seq \\d+\\) instead$"}},
      {"approval added without an event",
       std::string("INSERT INTO approvals (version_id, approver, comment, created_at_ms) VALUES (") + kV3 +
           ", 'bob', '', 1)",
       {"^PROBLEM churn version 3: approval by 'bob' in the database has no approve event in the audit log$"}},
      {"approval comment",
       "UPDATE approvals SET comment = 'rubber stamp' WHERE approver = 'bob'",
       {"^PROBLEM churn version 2: approval by 'bob' has comment 'rubber stamp' in the database, 'looks good' in the "
        "audit log \\(seq \\d+\\)$"}},
      {"policy gate",
       "UPDATE policy_gates SET threshold = 0.5",
       {"^PROBLEM churn: policy \\(approvals 1; gates \\[auc >= 0.5\\]; clean code no; data digests no; set by "
        "admin\\) "
        "in the database, but the audit log's last policy.set \\(seq \\d+\\) says \\(approvals 1; gates \\[auc >= "
        "0.85\\]; clean code no; data digests no; set by admin\\)$"}},
      {"policy approvals",
       "UPDATE policies SET approvals_required = 0",
       {"^PROBLEM churn: policy \\(approvals 0; .*\\) in the database, but the audit log's last policy.set .*says "
        "\\(approvals 1; .*\\)$"}},
      {"stage change actor",
       "UPDATE stage_changes SET actor = 'mallory' WHERE to_stage = 'rejected'",
       {"^PROBLEM churn version 3: stage change #\\d+ is none -> rejected \\(stage, by mallory, reason 'overfit'\\) in "
        "the database, but the audit log \\(seq \\d+\\) records none -> rejected \\(stage, by bob, reason "
        "'overfit'\\)$"}},
      {"stage change deleted",
       "DELETE FROM stage_changes WHERE to_stage = 'rejected'",
       {"^PROBLEM churn version 3: the audit log \\(seq \\d+\\) records none -> rejected \\(stage, by bob, reason "
        "'overfit'\\), which is missing from its stage history$",
        "^PROBLEM churn version 3: stage is 'rejected' in the database; its stage history \\(no changes\\) says "
        "'none', the audit log \\(seq \\d+\\) 'rejected'$"}},
      {"blob reference added",
       std::string("INSERT INTO version_blobs VALUES (") + kV3 + ", 'sha256:" + std::string(64, 'e') + "', 5)",
       {"^PROBLEM churn version 3: blob reference sha256:e{64} \\(5 bytes\\) is not in its manifest \\(" + sha + "\\)$",
        "^PROBLEM referenced blob sha256:e{64} is missing$"}},
      {"lineage record swapped for another version's",
       "UPDATE versions SET config_digest = (SELECT config_digest FROM versions WHERE number = 2) WHERE number = 1",
       {"^PROBLEM churn version 1: lineage record " + sha + " in the database, " + sha + " in its manifest \\(" + sha +
        "\\)$"}},
      {"version marked deleted without a delete event",
       "UPDATE versions SET deleted_at_ms = 9999999999999, deleted_by = 'mallory', delete_reason = 'x' WHERE number = "
       "3",
       {"^PROBLEM churn version 3: is deleted in the database \\(by mallory\\) but the audit log has no delete event "
        "for it$"}},
      {"token role",
       "UPDATE tokens SET role = 'admin' WHERE name = 'alice'",
       {"^PROBLEM token 'alice': role 'admin' in the database, 'approver' in the audit log \\(token.create, seq "
        "\\d+\\)$"}},
  };

  int n = 0;
  for (const auto& e : edits) {
    {
      INFO("edit: " << e.what);
      const std::string copy = EditedCopy(data, t / ("edit" + std::to_string(++n)), e.sql);
      auto r = Modelreg({"admin", "fsck", "--data", copy});
      INFO(r.out << r.err);
      CHECK(r.exit_code == 1);
      auto lines = ProblemLines(r.out);
      CHECK(lines.size() == e.expected.size());
      for (size_t i = 0; i < std::min(lines.size(), e.expected.size()); ++i)
        CHECK(std::regex_match(lines[i], std::regex(e.expected[i])));
      // The hash-chained log itself is intact: only the cross-check sees it.
      CHECK(Modelreg({"audit", "verify", "--data", copy}).exit_code == 0);
    }
  }

  {  // a row pointing at a version that is not there
    const std::string copy = EditedCopy(
        data, t / "orphan",
        std::string("UPDATE version_metrics SET version_id = 999 WHERE name = 'logloss' AND version_id = ") + kV1);
    auto r = Modelreg({"admin", "fsck", "--data", copy});
    INFO(r.out);
    CHECK(r.exit_code == 1);
    auto lines = ProblemLines(r.out);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "PROBLEM database: 1 row(s) of version_metrics refer to a missing row of versions");
    CHECK(std::regex_match(lines[1], std::regex("^PROBLEM churn version 1: its lineage record \\(" + sha +
                                                "\\) has logloss = 0\\.2, missing from the database$")));
  }
}
