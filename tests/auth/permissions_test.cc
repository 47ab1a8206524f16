// Unit tests for registry/auth: token shape and hashing (token.h), the role
// table, model-name scopes and Authorize (permissions.h).
#include "auth/permissions.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "auth/token.h"
#include "core/digest.h"

namespace modelreg {
namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const std::vector<Role> kAllRoles = {Role::kAdmin, Role::kTrainer, Role::kApprover, Role::kAgent, Role::kAuditor};

Principal Make(Role role, std::vector<std::string> globs = {}) {
  return Principal{"tok-" + std::string(RoleName(role)), role, std::move(globs)};
}

TEST_CASE("GenerateToken has the documented shape", "[auth][token]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string t = GenerateToken();
    INFO(t);
    REQUIRE(t.size() == 3 + 43);
    CHECK(t.rfind("mr_", 0) == 0);
    for (char c : t.substr(3)) CHECK(std::string(kB64Url).find(c) != std::string::npos);
    // 256 bits in 43 characters: the last one carries 4 bits and two zero
    // padding bits, so its index in the alphabet is a multiple of 4.
    CHECK(std::string(kB64Url).find(t.back()) % 4 == 0);
    CHECK(LooksLikeToken(t));
    seen.insert(t);
  }
  CHECK(seen.size() == 200);  // no two tokens alike
  CHECK(GenerateToken() != GenerateToken());
}

TEST_CASE("LooksLikeToken rejects malformed tokens", "[auth][token]") {
  const std::string good = "mr_" + std::string(43, 'A');
  CHECK(LooksLikeToken(good));
  CHECK(LooksLikeToken("mr_" + std::string(42, 'z') + "-"));
  CHECK(LooksLikeToken("mr_" + std::string(42, '9') + "_"));
  for (const std::string& bad : std::vector<std::string>{
           "", "mr_", good.substr(1), "xr_" + std::string(43, 'A'), "MR_" + std::string(43, 'A'),
           "mr-" + std::string(43, 'A'), good + "A", good.substr(0, good.size() - 1),
           "mr_" + std::string(42, 'A') + "+", "mr_" + std::string(42, 'A') + "/", "mr_" + std::string(42, 'A') + "=",
           "mr_" + std::string(42, 'A') + " ", "mr_" + std::string(42, 'A') + std::string(1, '\0'), "Bearer " + good}) {
    INFO(Catch::Detail::stringify(bad));
    CHECK_FALSE(LooksLikeToken(bad));
  }
}

TEST_CASE("TokenFromUser drops a file's newline and refuses what would break the header", "[auth][token]") {
  const std::string good = "mr_" + std::string(43, 'A');
  CHECK(*TokenFromUser(good, "--token") == good);
  CHECK(*TokenFromUser(good + "\n", "MODELREG_TOKEN") == good);
  CHECK(*TokenFromUser("  " + good + "\r\n", "MODELREG_TOKEN") == good);
  CHECK(TokenFromUser("", "--token")->empty());
  for (const std::string& bad : std::vector<std::string>{
           good + "\r\nX-Evil: 1", "mr_a b", good + std::string(1, '\0') + "x", "mr_\x7f", "mr_caf\xc3\xa9"}) {
    INFO(Catch::Detail::stringify(bad));
    auto r = TokenFromUser(bad, "MODELREG_TOKEN");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::StartsWith("MODELREG_TOKEN has a space, control or non-ASCII character"));
    CHECK(r.status().message().find(bad) == std::string::npos);  // the value is never echoed
  }
}

TEST_CASE("TokenHash is the raw sha256 of the token text", "[auth][token]") {
  const std::string t = GenerateToken();
  const std::string h = TokenHash(t);
  REQUIRE(h.size() == 32);
  CHECK(HexEncode(reinterpret_cast<const unsigned char*>(h.data()), h.size()) == Digest::Of(t).hex());
  CHECK(HexEncode(reinterpret_cast<const unsigned char*>(TokenHash("abc").data()), 32) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(TokenHash(t) == h);
  CHECK(TokenHash(t + "x") != h);
  CHECK(TokenHash(GenerateToken()) != h);
}

TEST_CASE("HashesEqual compares whole values", "[auth][token]") {
  const std::string a = TokenHash("mr_a"), b = TokenHash("mr_b");
  CHECK(HashesEqual(a, a));
  CHECK(HashesEqual(a, std::string(a)));
  CHECK_FALSE(HashesEqual(a, b));
  std::string last_differs = a;
  last_differs.back() ^= 1;
  CHECK_FALSE(HashesEqual(a, last_differs));
  std::string first_differs = a;
  first_differs.front() ^= 0x80;
  CHECK_FALSE(HashesEqual(a, first_differs));
  CHECK_FALSE(HashesEqual(a, a.substr(0, 31)));  // a prefix is not equal
  CHECK_FALSE(HashesEqual(a, ""));
  CHECK(HashesEqual("", ""));
}

TEST_CASE("RoleAllows follows the documented role table (docs/roles.md)", "[auth][roles]") {
  for (Action a : AllActions()) {
    INFO(ActionName(a));
    CHECK(RoleAllows(Role::kAdmin, a));
  }
  // trainer
  CHECK(RoleAllows(Role::kTrainer, Action::kRegister));
  CHECK(RoleAllows(Role::kTrainer, Action::kStageOwn));
  CHECK(RoleAllows(Role::kTrainer, Action::kReadModels));
  CHECK_FALSE(RoleAllows(Role::kTrainer, Action::kApprove));
  CHECK_FALSE(RoleAllows(Role::kTrainer, Action::kOverride));
  CHECK_FALSE(RoleAllows(Role::kTrainer, Action::kManageTokens));
  // approver
  CHECK(RoleAllows(Role::kApprover, Action::kApprove));
  CHECK_FALSE(RoleAllows(Role::kApprover, Action::kRegister));
  CHECK_FALSE(RoleAllows(Role::kApprover, Action::kOverride));
  CHECK_FALSE(RoleAllows(Role::kApprover, Action::kManagePolicies));
  // agent
  CHECK(RoleAllows(Role::kAgent, Action::kReadRelease));
  CHECK(RoleAllows(Role::kAgent, Action::kReportAgent));
  CHECK(RoleAllows(Role::kAgent, Action::kReadModels));  // download blobs
  CHECK_FALSE(RoleAllows(Role::kAgent, Action::kRegister));
  CHECK_FALSE(RoleAllows(Role::kAgent, Action::kApprove));
  CHECK_FALSE(RoleAllows(Role::kAgent, Action::kReadAudit));
  // auditor: reads everything, writes nothing
  CHECK(RoleAllows(Role::kAuditor, Action::kReadAudit));
  CHECK(RoleAllows(Role::kAuditor, Action::kReadModels));
  CHECK(RoleAllows(Role::kAuditor, Action::kReadRelease));
  for (Action write :
       {Action::kRegister, Action::kStageOwn, Action::kApprove, Action::kReportAgent, Action::kManageTokens,
        Action::kManagePolicies, Action::kOverride, Action::kManageWebhooks, Action::kManageStorage}) {
    INFO(ActionName(write));
    CHECK_FALSE(RoleAllows(Role::kAuditor, write));
  }
  // Only admin manages tokens and policies, and overrides gates.
  for (Role r : kAllRoles) {
    if (r == Role::kAdmin) continue;
    INFO(RoleName(r));
    CHECK_FALSE(RoleAllows(r, Action::kManageTokens));
    CHECK_FALSE(RoleAllows(r, Action::kManagePolicies));
    CHECK_FALSE(RoleAllows(r, Action::kOverride));
    CHECK_FALSE(RoleAllows(r, Action::kManageWebhooks));
    CHECK_FALSE(RoleAllows(r, Action::kManageStorage));  // delete versions, retention, gc
  }
}

TEST_CASE("Every action has a distinct name", "[auth][roles]") {
  std::set<std::string> names;
  for (Action a : AllActions()) {
    const std::string n = ActionName(a);
    CHECK(n != "unknown");
    names.insert(n);
  }
  CHECK(names.size() == AllActions().size());
  CHECK(AllActions().size() == 12);
}

TEST_CASE("ValidateGlob accepts only the model-name alphabet and glob characters", "[auth][glob]") {
  for (const std::string g : {"fraud-*", "*", "m?", "model-[ab]", "x[!y]", "a.b_c-d"}) {
    INFO(g);
    CHECK(ValidateGlob(g).ok());
  }
  for (const std::string& g :
       std::vector<std::string>{"", std::string(129, 'a'), "Fraud-*", "a/b", "a b", "a\\*", "a,b", "{a,b}"}) {
    INFO(g);
    CHECK(ValidateGlob(g).code() == StatusCode::kInvalidArgument);
  }
  CHECK(ValidateGlob(std::string(128, 'a')).ok());
}

TEST_CASE("Authorize checks the role, then the model scope", "[auth][authorize]") {
  const Principal trainer = Make(Role::kTrainer);
  CHECK(Authorize(trainer, Action::kRegister).ok());
  CHECK(Authorize(trainer, Action::kRegister, "anything").ok());
  Status denied = Authorize(trainer, Action::kApprove);
  CHECK(denied.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(denied.message(), Catch::Contains("trainer"));
  CHECK_THAT(denied.message(), Catch::Contains("approve"));

  const Principal scoped = Make(Role::kTrainer, {"fraud-*", "risk"});
  CHECK(scoped.scoped());
  CHECK_FALSE(trainer.scoped());
  CHECK(Authorize(scoped, Action::kRegister, "fraud-eu").ok());
  CHECK(Authorize(scoped, Action::kRegister, "risk").ok());
  Status out_of_scope = Authorize(scoped, Action::kRegister, "churn");
  CHECK(out_of_scope.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(out_of_scope.message(), Catch::Contains("churn"));
  CHECK(Authorize(scoped, Action::kRegister, "risky").code() == StatusCode::kPermissionDenied);
  // The role check comes first even inside the scope.
  CHECK(Authorize(scoped, Action::kApprove, "fraud-eu").code() == StatusCode::kPermissionDenied);

  // A scoped admin is still limited to its models.
  const Principal scoped_admin = Make(Role::kAdmin, {"fraud-*"});
  CHECK(Authorize(scoped_admin, Action::kOverride, "fraud-eu").ok());
  CHECK(Authorize(scoped_admin, Action::kOverride, "churn").code() == StatusCode::kPermissionDenied);

  const Principal agent = Make(Role::kAgent, {"churn"});
  CHECK(agent.CanSeeModel("churn"));
  CHECK_FALSE(agent.CanSeeModel("fraud-eu"));
  CHECK(Authorize(agent, Action::kReadRelease, "churn").ok());
  CHECK(Authorize(agent, Action::kRegister, "churn").code() == StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace modelreg
