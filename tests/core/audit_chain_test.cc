// Unit tests for registry/core/audit_chain.h: the hash chain and checks
// against a checkpoint kept outside the log.
#include "core/audit_chain.h"

#include <catch2/catch.hpp>
#include <vector>

namespace modelreg {
namespace {

std::vector<AuditEvent> Chain(int n) {
  std::vector<AuditEvent> out;
  std::string prev = kAuditGenesisHash;
  for (int i = 1; i <= n; ++i) {
    AuditEvent e;
    e.seq = i;
    e.at_ms = 1000 * i;
    e.actor = "alice";
    e.action = "register";
    e.model = "churn";
    e.version = i;
    e.details = "{}";
    e.prev_hash = prev;
    e.hash = ComputeAuditHash(e);
    prev = e.hash;
    out.push_back(e);
  }
  return out;
}

AuditChainVerifier Verify(const std::vector<AuditEvent>& events, std::optional<AuditCheckpoint> cp = std::nullopt) {
  AuditChainVerifier v;
  if (cp) v.ExpectCheckpoint(*cp);
  for (const auto& e : events)
    if (!v.Feed(e)) break;
  v.Finish();
  return v;
}

TEST_CASE("AuditChainVerifier finds a changed event and a broken link", "[core][audit_chain]") {
  auto events = Chain(5);
  CHECK(Verify(events).ok());
  events[2].actor = "mallory";
  auto v = Verify(events);
  CHECK(v.first_bad_seq() == 3);
  events = Chain(5);
  events.erase(events.begin() + 1);
  CHECK(Verify(events).first_bad_seq() == 2);
}

TEST_CASE("AuditChainVerifier checks a checkpoint: prefix kept, tail cut, tail rewritten", "[core][audit_chain]") {
  const auto events = Chain(5);
  CHECK(Verify(events, AuditCheckpoint{3, events[2].hash, 0}).ok());
  CHECK(Verify(events, AuditCheckpoint{5, events[4].hash, 0}).ok());
  CHECK(Verify({}, AuditCheckpoint{0, kAuditGenesisHash, 0}).ok());

  // Cut: the log ends before the checkpoint.
  auto cut = Verify(std::vector<AuditEvent>(events.begin(), events.begin() + 3), AuditCheckpoint{5, events[4].hash, 0});
  CHECK(cut.first_bad_seq() == 4);
  CHECK(cut.problem().find("removed from its end") != std::string::npos);
  CHECK_FALSE(Verify({}, AuditCheckpoint{2, events[1].hash, 0}).ok());

  // Rewritten: a consistent chain, but not the one the checkpoint saw.
  auto other = Chain(5);
  other[3].actor = "mallory";
  for (size_t i = 3; i < other.size(); ++i) {
    other[i].prev_hash = other[i - 1].hash;
    other[i].hash = ComputeAuditHash(other[i]);
  }
  CHECK(Verify(other).ok());
  auto rewritten = Verify(other, AuditCheckpoint{5, events[4].hash, 0});
  CHECK(rewritten.first_bad_seq() == 5);
  CHECK(rewritten.problem().find("rewritten") != std::string::npos);
}

TEST_CASE("Audit checkpoints serialize and parse, and malformed ones are refused", "[core][audit_chain]") {
  AuditCheckpoint cp{42, std::string(64, 'a'), 1764000000000};
  AuditCheckpoint back;
  std::string error;
  REQUIRE(ParseAuditCheckpoint(SerializeAuditCheckpoint(cp), &back, &error));
  CHECK(back.count == 42);
  CHECK(back.head_hash == cp.head_hash);
  CHECK(back.at_ms == cp.at_ms);
  for (const char* bad :
       {"", "[]", R"({"count":-1,"head_hash":"aa"})", R"({"count":1})",
        R"({"count":"1","head_hash":"0000000000000000000000000000000000000000000000000000000000000000"})",
        R"({"count":1,"head_hash":"ZZ00000000000000000000000000000000000000000000000000000000000000"})"}) {
    INFO(bad);
    CHECK_FALSE(ParseAuditCheckpoint(bad, &back, &error));
    CHECK(error.rfind("audit checkpoint: ", 0) == 0);
  }
}

}  // namespace
}  // namespace modelreg
