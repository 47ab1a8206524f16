// Unit tests of the agent's decision spool (agent/spool.h): real files in
// a temporary directory, a Sender that records what it is given. Waits are
// for conditions (the shipper runs on its own thread), never fixed sleeps.
#include "spool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "support/wait.h"

namespace modelreg::agent {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WaitFor;
using testing::WriteFile;

// What the registry was sent, and what it answers.
struct FakeRegistry {
  std::mutex mu;
  std::vector<nlohmann::json> decisions;
  int calls = 0;
  std::atomic<int> answer{0};  // 0 ok, 1 unavailable, 2 invalid argument
  DecisionSpool::Sender Sender() {
    return [this](const std::string& body) -> Status {
      std::lock_guard<std::mutex> l(mu);
      ++calls;
      if (answer == 1) return Status::Unavailable("registry down");
      if (answer == 2) return Status::InvalidArgument("bad batch");
      for (const auto& d : nlohmann::json::parse(body)) decisions.push_back(d);
      return Status::OK();
    };
  }
  size_t count() {
    std::lock_guard<std::mutex> l(mu);
    return decisions.size();
  }
};

std::string Line(int i) { return nlohmann::json{{"request_id", "r" + std::to_string(i)}}.dump(); }

TEST_CASE("spool: appended decisions are shipped in order, the offset is kept, nothing pending after") {
  TempDir t;
  FakeRegistry reg;
  DecisionSpool spool(t / "spool", 1 << 20, reg.Sender());
  REQUIRE(spool.Open().ok());
  for (int i = 0; i < 50; ++i) spool.Append(Line(i));
  REQUIRE(WaitFor([&] { return reg.count() == 50 && spool.pending_bytes() == 0; }));
  for (int i = 0; i < 50; ++i) CHECK(reg.decisions[i]["request_id"] == "r" + std::to_string(i));
  // The offset file is written after the batch is counted as shipped.
  CHECK(WaitFor([&] {
    return std::filesystem::exists(t / "spool/offset") &&
           std::stoull(ReadFile(t / "spool/offset")) == ReadFile(t / "spool/decisions.log").size();
  }));
  CHECK(spool.dropped() == 0);
}

TEST_CASE("spool: a registry that is down loses nothing - shipping resumes when it is back") {
  TempDir t;
  FakeRegistry reg;
  reg.answer = 1;
  DecisionSpool spool(t / "spool", 1 << 20, reg.Sender());
  REQUIRE(spool.Open().ok());
  for (int i = 0; i < 10; ++i) spool.Append(Line(i));
  REQUIRE(WaitFor([&] {
    std::lock_guard<std::mutex> l(reg.mu);
    return reg.calls >= 2;  // tried, failed, tried again
  }));
  CHECK(spool.pending_bytes() > 0);
  reg.answer = 0;
  REQUIRE(WaitFor([&] { return reg.count() == 10 && spool.pending_bytes() == 0; }));
}

TEST_CASE("spool: beyond --spool-max decisions are dropped and counted, never blocking") {
  TempDir t;
  FakeRegistry reg;
  reg.answer = 1;  // nothing ships
  const uint64_t max = 10 * (Line(0).size() + 1);
  DecisionSpool spool(t / "spool", max, reg.Sender());
  REQUIRE(spool.Open().ok());
  for (int i = 0; i < 15; ++i) spool.Append(Line(i));
  CHECK(spool.dropped() == 5);
  CHECK(spool.pending_bytes() == max);
  CHECK(spool.max_bytes() == max);
}

TEST_CASE("spool: a batch the registry refuses as malformed is skipped, not retried forever") {
  TempDir t;
  FakeRegistry reg;
  reg.answer = 2;
  DecisionSpool spool(t / "spool", 1 << 20, reg.Sender());
  REQUIRE(spool.Open().ok());
  spool.Append(Line(1));
  REQUIRE(WaitFor([&] { return spool.pending_bytes() == 0; }));
  reg.answer = 0;
  spool.Append(Line(2));
  REQUIRE(WaitFor([&] { return reg.count() == 1; }));
  CHECK(reg.decisions[0]["request_id"] == "r2");
}

TEST_CASE("spool: after a restart only what was not shipped is sent - a fully shipped log starts over") {
  TempDir t;
  SECTION("committed offset: the lines after it") {
    WriteFile(t / "spool/decisions.log", Line(1) + "\n" + Line(2) + "\n" + Line(3) + "\n");
    WriteFile(t / "spool/offset", std::to_string(Line(1).size() + 1) + "\n");
    FakeRegistry reg;
    DecisionSpool spool(t / "spool", 1 << 20, reg.Sender());
    REQUIRE(spool.Open().ok());
    REQUIRE(WaitFor([&] { return reg.count() == 2 && spool.pending_bytes() == 0; }));
    CHECK(reg.decisions[0]["request_id"] == "r2");
    CHECK(reg.decisions[1]["request_id"] == "r3");
  }
  SECTION("all shipped: the log is emptied at start") {
    const std::string log = Line(1) + "\n";
    WriteFile(t / "spool/decisions.log", log);
    WriteFile(t / "spool/offset", std::to_string(log.size()) + "\n");
    FakeRegistry reg;
    DecisionSpool spool(t / "spool", 1 << 20, reg.Sender());
    REQUIRE(spool.Open().ok());
    CHECK(ReadFile(t / "spool/decisions.log").empty());
    CHECK(ReadFile(t / "spool/offset") == "0\n");
    spool.Stop();
    CHECK(reg.count() == 0);
  }
  SECTION("an offset past the end (a log lost) ships the log from the start") {
    WriteFile(t / "spool/decisions.log", Line(7) + "\n");
    WriteFile(t / "spool/offset", "999999\n");
    FakeRegistry reg;
    DecisionSpool spool(t / "spool", 1 << 20, reg.Sender());
    REQUIRE(spool.Open().ok());
    REQUIRE(WaitFor([&] { return reg.count() == 1; }));
    CHECK(reg.decisions[0]["request_id"] == "r7");
  }
}

TEST_CASE("spool: a line torn by a crash is skipped, and the next decision is not lost with it") {
  TempDir t;
  WriteFile(t / "spool/decisions.log", Line(1) + "\n{\"request_id\":\"r2");  // killed mid-write
  FakeRegistry reg;
  DecisionSpool spool(t / "spool", 1 << 20, reg.Sender());
  REQUIRE(spool.Open().ok());
  spool.Append(Line(3));
  REQUIRE(WaitFor([&] { return spool.pending_bytes() == 0; }));
  std::lock_guard<std::mutex> l(reg.mu);
  REQUIRE(reg.decisions.size() == 2);
  CHECK(reg.decisions[0]["request_id"] == "r1");
  CHECK(reg.decisions[1]["request_id"] == "r3");
}

TEST_CASE("spool: the shipper thread yields to the request threads (nice 5)") {
  TempDir t;
  FakeRegistry reg;
  DecisionSpool spool(t / "spool", 1 << 20, reg.Sender());
  REQUIRE(spool.Open().ok());
  // Its thread, by name, and its nice value (field 19 of its stat line).
  auto nice_of_shipper = []() -> std::optional<int> {
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
      if (ReadFile((e.path() / "comm").string()) != "mr-spool-ship\n") continue;
      const std::string stat = ReadFile((e.path() / "stat").string());
      std::istringstream rest(stat.substr(stat.rfind(')') + 2));
      std::string field;
      for (int i = 3; i <= 19 && rest >> field; ++i) {}
      return std::stoi(field);
    }
    return std::nullopt;
  };
  std::optional<int> nice;
  REQUIRE(WaitFor([&] { return (nice = nice_of_shipper()).has_value(); }));
  CHECK(*nice == 5);
}

TEST_CASE("spool: Stop ships what is left before it returns") {
  TempDir t;
  FakeRegistry reg;
  DecisionSpool spool(t / "spool", 1 << 20, reg.Sender());
  REQUIRE(spool.Open().ok());
  for (int i = 0; i < 5; ++i) spool.Append(Line(i));
  spool.Stop();
  CHECK(reg.count() == 5);
}

}  // namespace
}  // namespace modelreg::agent
