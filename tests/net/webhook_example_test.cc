// The example receiver (examples/webhooks): signatures made by SignWebhook
// verify with receiver.py's verify() and with verify.sh, and a tampered body
// or a stale timestamp is refused by both; the receiver itself, started as
// a user starts it, gets real deliveries from PostWebhook, drops a duplicate
// and runs its command when a version reaches production.
#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <string>

#include "core/webhook_signature.h"
#include "net/webhook_post.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace modelreg {
namespace {

using testing::ReadFile;
using testing::Run;
using testing::WriteFile;

const std::string kDir = std::string(MODELREG_SOURCE_DIR) + "/examples/webhooks";
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kSecret[] = "whsec-example";

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// The file's text, or "" while it does not exist.
std::string TextOf(const std::string& path) { return std::filesystem::exists(path) ? ReadFile(path) : ""; }

// receiver.py's verify() on these inputs: "ok", or the ValueError's text.
std::string PyVerify(const std::string& secret_file, const std::string& id, const std::string& ts,
                     const std::string& sig, const std::string& body_file) {
  const std::string code =
      "import sys; sys.path.insert(0, sys.argv[1]); import receiver\n"
      "secret = open(sys.argv[2], 'rb').read().rstrip(b'\\r\\n')\n"
      "try:\n"
      "    receiver.verify(secret, sys.argv[3], sys.argv[4], sys.argv[5], open(sys.argv[6], 'rb').read())\n"
      "    print('ok')\n"
      "except ValueError as e:\n"
      "    print(e)\n";
  auto r = Run({kPython, "-c", code, kDir, secret_file, id, ts, sig, body_file});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

struct Shell {
  int exit_code;
  std::string err;
};
Shell ShVerify(const std::string& secret_file, const std::string& id, const std::string& ts, const std::string& sig,
               const std::string& body_file) {
  auto r = Run({"/bin/sh", kDir + "/verify.sh", secret_file, id, ts, sig, body_file});
  return {r.exit_code, r.err};
}

TEST_CASE("webhook example: SignWebhook's signatures verify with receiver.py and verify.sh") {
  testing::TempDir t;
  WriteFile(t / "secret", std::string(kSecret) + "\n");  // a trailing newline is not part of the secret
  const std::string body = R"({"id":7,"type":"stage.changed","data":{"to":"production","note":"caf\u00e9 ✓"}})";
  WriteFile(t / "body", body);
  WriteFile(t / "tampered", body.substr(0, body.size() - 2) + " }");
  const int64_t now = Now();
  const std::string ts = std::to_string(now);
  const std::string sig = SignWebhook(kSecret, "7", now, body);

  CHECK(PyVerify(t / "secret", "7", ts, sig, t / "body") == "ok");
  CHECK(ShVerify(t / "secret", "7", ts, sig, t / "body").exit_code == 0);
  // A rotation: an old signature first, the right one second.
  const std::string two = SignWebhook("whsec-old", "7", now, body) + " " + sig;
  CHECK(PyVerify(t / "secret", "7", ts, two, t / "body") == "ok");
  CHECK(ShVerify(t / "secret", "7", ts, two, t / "body").exit_code == 0);

  CHECK(PyVerify(t / "secret", "7", ts, sig, t / "tampered").find("no signature matches") != std::string::npos);
  const Shell tampered = ShVerify(t / "secret", "7", ts, sig, t / "tampered");
  CHECK(tampered.exit_code == 1);
  CHECK(tampered.err.find("no signature matches") != std::string::npos);
  CHECK(PyVerify(t / "secret", "8", ts, sig, t / "body").find("no signature matches") != std::string::npos);
  CHECK(ShVerify(t / "secret", "8", ts, sig, t / "body").exit_code == 1);

  // Stale: correctly signed, but 301 s ago.
  const std::string old_ts = std::to_string(now - 301);
  const std::string old_sig = SignWebhook(kSecret, "7", now - 301, body);
  CHECK(PyVerify(t / "secret", "7", old_ts, old_sig, t / "body").find("old") != std::string::npos);
  const Shell stale = ShVerify(t / "secret", "7", old_ts, old_sig, t / "body");
  CHECK(stale.exit_code == 1);
  CHECK(stale.err.find("replay") != std::string::npos);
}

TEST_CASE("webhook example: receiver.py takes real deliveries, drops duplicates, runs its command on production") {
  testing::TempDir t;
  WriteFile(t / "secret", std::string(kSecret) + "\n");
  const std::string ran = t / "ran.txt";
  testing::Process receiver(
      {kPython, kDir + "/receiver.py", "--listen", "127.0.0.1:0", "--secret-file", t / "secret", "--on-production",
       "echo \"$MODELREG_MODEL $MODELREG_VERSION\" >> '" + ran + "'", "--log", t / "events.jsonl"},
      t / "receiver.log");
  std::string url;
  REQUIRE(testing::WaitFor([&] {
    const std::string log = TextOf(t / "receiver.log");
    const size_t at = log.find("listening on ");
    const size_t nl = log.find('\n', at);
    if (at == std::string::npos || nl == std::string::npos) return false;
    url = log.substr(at + 13, nl - at - 13) + "/hooks/modelreg";
    return true;
  }));

  auto deliver = [&](const std::string& id, const std::string& body, int64_t ts, const std::string& sent_body = "") {
    net::WebhookTarget target;
    target.url = url;
    target.allow_private = true;
    return net::PostWebhook(target, sent_body.empty() ? body : sent_body,
                            {{kWebhookDeliveryIdHeader, id},
                             {kWebhookTimestampHeader, std::to_string(ts)},
                             {kWebhookSignatureHeader, SignWebhook(kSecret, id, ts, body)}});
  };
  auto promoted = [](int id, int version) {
    return R"({"id":)" + std::to_string(id) +
           R"(,"type":"stage.changed","entity":"model_version","action":"stage_changed","model":"churn","version":)" +
           std::to_string(version) + R"(,"data":{"name":"churn","version":")" + std::to_string(version) +
           R"(","from":"staging","to":"production","actor":"alice","reason":"ok"}})";
  };

  net::WebhookAnswer a = deliver("41", promoted(41, 3), Now());
  CHECK(a.error == "");
  CHECK(a.body_excerpt.find("accepted 41") != std::string::npos);
  REQUIRE(testing::WaitFor([&] { return TextOf(ran) == "churn 3\n"; }));

  a = deliver("41", promoted(41, 3), Now());  // a retry of the same event
  CHECK(a.status == 200);
  CHECK(a.body_excerpt.find("duplicate 41") != std::string::npos);

  a = deliver("42", promoted(42, 3), Now(), promoted(42, 4));  // body altered on the way
  CHECK(a.status == 401);
  CHECK(a.body_excerpt.find("no signature matches") != std::string::npos);
  a = deliver("43", promoted(43, 4), Now() - 400);  // captured and replayed later
  CHECK(a.status == 401);
  CHECK(a.body_excerpt.find("400 s old") != std::string::npos);

  const std::string archived =
      R"({"id":44,"type":"stage.changed","data":{"name":"churn","version":"2","to":"archived"}})";
  CHECK(deliver("44", archived, Now()).error == "");
  CHECK(deliver("45", promoted(45, 5), Now()).error == "");
  // Commands run once per accepted event: only 41 and 45 reached production.
  REQUIRE(testing::WaitFor([&] { return TextOf(ran) == "churn 3\nchurn 5\n"; }));
  const std::string events = ReadFile(t / "events.jsonl");
  CHECK(std::count(events.begin(), events.end(), '\n') == 3);
  CHECK(events.find(R"("delivery_id": "44")") != std::string::npos);

  // Restarted, it still knows what it accepted.
  receiver.Signal(SIGTERM);
  receiver.Wait();
  testing::Process again({kPython, kDir + "/receiver.py", "--listen", url.substr(7, url.find('/', 7) - 7),
                          "--secret-file", t / "secret", "--log", t / "events.jsonl"},
                         t / "receiver2.log");
  REQUIRE(testing::WaitFor([&] { return TextOf(t / "receiver2.log").find("listening on") != std::string::npos; }));
  a = deliver("45", promoted(45, 5), Now());
  CHECK(a.body_excerpt.find("duplicate 45") != std::string::npos);
}

}  // namespace
}  // namespace modelreg
