// The /v2/ endpoint with a real OCI client (issue #24 item 7): Debian's
// `skopeo` copies a promoted version out of `modelreg serve` into an OCI
// layout and into a real docker-registry (tests/support/oci_registry.h) and
// back, inspects it and lists its tags, pushes a layout in as a new version,
// is refused without access (and never gets a blob), and copies the
// read-only ModelPack view (docs/oci.md). Tests skip, saying so, only when
// skopeo (or docker-registry) is not installed (scripts/test installs them).
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/digest.h"
#include "support/oci_registry.h"
#include "support/process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace modelreg::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kSkopeo = "/usr/bin/skopeo";

bool SkopeoAvailable() { return ::access(kSkopeo, X_OK) == 0; }

// "127.0.0.1:PORT" of a server's http://127.0.0.1:PORT.
std::string HostPort(const ServerProcess& s) {
  const std::string& url = s.url();
  return url.substr(url.find("://") + 3);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

// Whether skopeo's error says the registry refused access: UNAUTHORIZED or
// DENIED from an OCI error body, or 401/403 on a HEAD (which has no body).
bool Refused(const std::string& skopeo_err) {
  const std::string e = Lower(skopeo_err);
  for (const char* word : {"unauthorized", "denied", "(forbidden)"})
    if (e.find(word) != std::string::npos) return true;
  return false;
}

// GET of a REST path as `token`: the body, the request failing on a non-2xx.
std::string ApiGet(const ServerProcess& s, const std::string& path, const std::string& token) {
  auto r = Run({"curl", "-sS", "-f", "-H", "Authorization: Bearer " + token, s.url() + path});
  INFO(path << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

RunResult Skopeo(std::vector<std::string> args) {
  args.insert(args.begin(), kSkopeo);
  return Run(args);
}

// The manifest an OCI layout's index.json names (its only one).
std::string LayoutManifestDigest(const std::string& layout) {
  auto index = json::parse(ReadFile(layout + "/index.json"));
  REQUIRE(index["manifests"].size() == 1);
  return index["manifests"][0]["digest"];
}

std::string LayoutBlob(const std::string& layout, const std::string& digest) {
  return ReadFile(layout + "/blobs/sha256/" + digest.substr(7));
}

size_t LayoutBlobCount(const std::string& layout) {
  const fs::path dir = layout + "/blobs/sha256";
  if (!fs::exists(dir)) return 0;
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

// A bundle of a few files (one of 5 MiB, random) written under `src`.
void WriteBundle(const std::string& src) {
  WriteFile(src + "/config.json", "{\"layers\":4}\n");
  WriteFile(src + "/d/small.txt", "small file\n");
  WriteRandomFile(src + "/d/weights.bin", 5 << 20, 24);
}

// Every layer of `manifest` (a modelreg bundle or its ModelPack view, whose
// path annotation is `title_key`) is in `layout` with the source file's bytes.
void CheckLayersAreSourceFiles(const json& manifest, const std::string& title_key, const std::string& layout,
                               const std::string& src) {
  REQUIRE(manifest["layers"].size() == 3);
  for (const auto& l : manifest["layers"]) {
    const std::string title = l["annotations"][title_key];
    const std::string digest = l["digest"];
    INFO(title);
    const std::string bytes = LayoutBlob(layout, digest);
    CHECK(bytes.size() == l["size"].get<size_t>());
    CHECK(bytes == ReadFile(src + "/" + title));
    CHECK(Digest::Of(bytes).str() == digest);
  }
}

// A server holding model "churn", version 1 registered with `modelreg
// register` from `src` and promoted to production (policy: no approvals).
struct Churn {
  TempDir t;
  ServerProcess server{t / "data"};
  std::string admin = server.admin_token();
  std::string src = t / "src";
  std::string digest;  // version 1's manifest digest
  json version;        // GET /api/v1/models/churn/versions/production

  Churn() {
    WriteBundle(src);
    auto env = server.Env(admin);
    auto r = Modelreg({"register", "churn", src, "--param", "depth=3", "--metric", "auc=0.91", "--json"}, env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    digest = json::parse(r.out)["digest"];
    REQUIRE(Modelreg({"policy", "set", "churn", "--approvals", "0"}, env).exit_code == 0);
    REQUIRE(Modelreg({"promote", "churn", "1", "--to", "staging"}, env).exit_code == 0);
    auto prod = Modelreg({"promote", "churn", "1", "--to", "production"}, env);
    INFO(prod.err);
    REQUIRE(prod.exit_code == 0);
    version = json::parse(ApiGet(server, "/api/v1/models/churn/versions/production", admin));
    REQUIRE(version["digest"] == digest);
    REQUIRE(version["stage"] == "production");
  }

  std::string ref(const std::string& repo_and_tag) const { return "docker://" + HostPort(server) + "/" + repo_and_tag; }
  // The exact manifest bytes modelreg recorded for version 1.
  std::string Manifest() const { return ApiGet(server, "/api/v1/models/churn/versions/1/manifest", admin); }
  // The lineage record (the manifest's config blob) as stored.
  std::string LineageBlob() const {
    return ApiGet(server, "/api/v1/blobs/" + version["config_digest"].get<std::string>(), admin);
  }
};

#define SKIP_WITHOUT_SKOPEO()                                            \
  if (!SkopeoAvailable()) {                                              \
    WARN("SKIPPED: skopeo is not installed (scripts/test installs it)"); \
    return;                                                              \
  }

TEST_CASE("oci skopeo: copy churn:production out of /v2/ into an OCI layout, byte for byte", "[e2e][oci]") {
  SKIP_WITHOUT_SKOPEO();
  Churn c;
  const std::string layout = c.t / "layout";
  auto r = Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + c.admin, c.ref("churn:production"),
                   "oci:" + layout + ":prod"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  // The layout's manifest is the version's, exactly: same digest, same bytes.
  const std::string manifest_digest = LayoutManifestDigest(layout);
  CHECK(manifest_digest == c.digest);
  const std::string manifest_bytes = LayoutBlob(layout, manifest_digest);
  CHECK(manifest_bytes == c.Manifest());
  CHECK(Digest::Of(manifest_bytes).str() == c.digest);
  auto index = json::parse(ReadFile(layout + "/index.json"));
  CHECK(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "prod");

  // The config is the lineage record as stored.
  auto m = json::parse(manifest_bytes);
  CHECK(m["config"]["mediaType"] == "application/vnd.modelreg.lineage.v1+json");
  CHECK(m["config"]["digest"] == c.version["config_digest"]);
  const std::string config = LayoutBlob(layout, m["config"]["digest"]);
  CHECK(config == c.LineageBlob());
  auto lineage = json::parse(config);
  CHECK(lineage["model"] == "churn");
  CHECK(lineage["params"]["depth"] == 3);

  // Each file is the source file, byte for byte.
  CheckLayersAreSourceFiles(m, "org.opencontainers.image.title", layout, c.src);
  CHECK(LayoutBlobCount(layout) == 5);  // manifest, config, three files

  SECTION("by version number and by digest: the same manifest") {
    for (const std::string& ref : {std::string("churn:1"), "churn@" + c.digest}) {
      const std::string other = c.t / ("by" + std::to_string(ref.size()));
      auto again =
          Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + c.admin, c.ref(ref), "oci:" + other});
      INFO(ref << ": " << again.err);
      REQUIRE(again.exit_code == 0);
      CHECK(LayoutManifestDigest(other) == c.digest);
    }
  }
}

TEST_CASE("oci skopeo: copy churn:production from modelreg to docker-registry and back, same digest", "[e2e][oci]") {
  SKIP_WITHOUT_SKOPEO();
  if (!OciRegistry::Available()) {
    WARN("SKIPPED: " << OciRegistry::kBinary << " is not installed (scripts/test installs it)");
    return;
  }
  Churn c;
  OciRegistry reg;
  const std::string mirror = "docker://" + reg.host_port() + "/mirror/churn:production";
  auto to = Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + c.admin, "--dest-tls-verify=false",
                    c.ref("churn:production"), mirror});
  INFO(to.err << reg.log());
  REQUIRE(to.exit_code == 0);

  // docker-registry now answers the same manifest for the tag.
  auto raw = Skopeo({"inspect", "--raw", "--tls-verify=false", mirror});
  INFO(raw.err);
  REQUIRE(raw.exit_code == 0);
  CHECK(Digest::Of(raw.out).str() == c.digest);

  const std::string layout = c.t / "back";
  auto back = Skopeo({"copy", "--src-tls-verify=false", mirror, "oci:" + layout + ":prod"});
  INFO(back.err);
  REQUIRE(back.exit_code == 0);
  CHECK(LayoutManifestDigest(layout) == c.digest);
  const std::string manifest_bytes = LayoutBlob(layout, c.digest);
  CHECK(manifest_bytes == c.Manifest());
  auto m = json::parse(manifest_bytes);
  CHECK(LayoutBlob(layout, m["config"]["digest"]) == c.LineageBlob());
  CheckLayersAreSourceFiles(m, "org.opencontainers.image.title", layout, c.src);
}

TEST_CASE("oci skopeo: inspect --raw, inspect --config --raw and list-tags against /v2/", "[e2e][oci]") {
  SKIP_WITHOUT_SKOPEO();
  Churn c;
  // A second version, never promoted: a number tag and latest, no stage.
  WriteFile(c.t / "src2/model.bin", "weights two");
  REQUIRE(Modelreg({"register", "churn", c.t / "src2"}, c.server.Env(c.admin)).exit_code == 0);
  const std::string creds = "x:" + c.admin;

  // (Plain `skopeo inspect` wants an image config; a model bundle's config
  // is its lineage record, so only the raw forms apply.)
  for (const std::string& ref : {std::string("churn:production"), std::string("churn:1"), "churn@" + c.digest}) {
    INFO(ref);
    auto raw = Skopeo({"inspect", "--raw", "--tls-verify=false", "--creds", creds, c.ref(ref)});
    INFO(raw.err);
    REQUIRE(raw.exit_code == 0);
    CHECK(raw.out == c.Manifest());
    CHECK(Digest::Of(raw.out).str() == c.digest);

    auto config = Skopeo({"inspect", "--config", "--raw", "--tls-verify=false", "--creds", creds, c.ref(ref)});
    INFO(config.err);
    REQUIRE(config.exit_code == 0);
    CHECK(config.out == c.LineageBlob());
    auto lineage = json::parse(config.out);
    CHECK(lineage["model"] == "churn");
    CHECK(lineage["metrics"]["auc"] == 0.91);
  }

  // latest is version 2, not the production one.
  auto latest = Skopeo({"inspect", "--raw", "--tls-verify=false", "--creds", creds, c.ref("churn:latest")});
  INFO(latest.err);
  REQUIRE(latest.exit_code == 0);
  auto v2 = json::parse(ApiGet(c.server, "/api/v1/models/churn/versions/2", c.admin));
  CHECK(Digest::Of(latest.out).str() == v2["digest"]);

  auto tags = Skopeo({"list-tags", "--tls-verify=false", "--creds", creds, c.ref("churn")});
  INFO(tags.err);
  REQUIRE(tags.exit_code == 0);
  auto list = json::parse(tags.out)["Tags"].get<std::vector<std::string>>();
  std::sort(list.begin(), list.end());
  CHECK(list == std::vector<std::string>{"1", "2", "latest", "production"});

  // `skopeo login` stores the token; later commands use it without --creds.
  const std::string authfile = c.t / "auth.json";
  auto login = Skopeo(
      {"login", "--tls-verify=false", "--authfile", authfile, "-u", "anyone", "-p", c.admin, HostPort(c.server)});
  INFO(login.err);
  REQUIRE(login.exit_code == 0);
  auto logged_in = Skopeo({"list-tags", "--tls-verify=false", "--authfile", authfile, c.ref("churn")});
  INFO(logged_in.err);
  CHECK(logged_in.exit_code == 0);
  CHECK(json::parse(logged_in.out)["Tags"].size() == 4);
  auto wrong = Skopeo({"login", "--tls-verify=false", "--authfile", c.t / "auth2.json", "-u", "anyone", "-p",
                       "mr_notatokenatall", HostPort(c.server)});
  CHECK(wrong.exit_code != 0);

  // A modelreg token sent directly as Bearer works too.
  auto direct = Skopeo({"inspect", "--raw", "--tls-verify=false", "--registry-token", c.admin, c.ref("churn:1")});
  INFO(direct.err);
  CHECK(direct.exit_code == 0);
  CHECK(Digest::Of(direct.out).str() == c.digest);

  // Nothing is deleted through /v2/.
  auto del = Skopeo({"delete", "--tls-verify=false", "--creds", creds, c.ref("churn@" + c.digest)});
  CHECK(del.exit_code != 0);
  CHECK(del.err.find("UNSUPPORTED") != std::string::npos);
  CHECK(json::parse(ApiGet(c.server, "/api/v1/models/churn/versions", c.admin))["versions"].size() == 2);

  // An unknown tag: skopeo reports the manifest unknown.
  auto unknown = Skopeo({"inspect", "--raw", "--tls-verify=false", "--creds", creds, c.ref("churn:3")});
  CHECK(unknown.exit_code != 0);
  CHECK(Lower(unknown.err).find("manifest unknown") != std::string::npos);
}

TEST_CASE("oci skopeo: push an OCI layout into /v2/, a new version with its lineage, stages refused, idempotent",
          "[e2e][oci]") {
  SKIP_WITHOUT_SKOPEO();
  // The layout: a bundle of model "pushed" registered into another server
  // with `modelreg register`, copied out by skopeo.
  TempDir t;
  const std::string src = t / "src";
  WriteBundle(src);
  const std::string layout = t / "layout";
  std::string layout_digest;
  json source_lineage;
  {
    ServerProcess origin(t / "origin");
    auto r = Modelreg({"register", "pushed", src, "--param", "lr=0.01", "--metric", "auc=0.87", "--json"},
                      origin.Env(origin.admin_token()));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    source_lineage = json::parse(ApiGet(origin, "/api/v1/models/pushed/versions/1/lineage", origin.admin_token()));
    auto out = Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + origin.admin_token(),
                       "docker://" + HostPort(origin) + "/pushed:1", "oci:" + layout + ":v1"});
    INFO(out.err);
    REQUIRE(out.exit_code == 0);
    layout_digest = LayoutManifestDigest(layout);
    REQUIRE(layout_digest == json::parse(r.out)["digest"]);
  }

  ServerProcess server(t / "data");
  const std::string admin = server.admin_token();
  const std::string trainer = server.CreateToken("train-job", "trainer");
  const std::string dest = "docker://" + HostPort(server) + "/pushed:";
  auto Push = [&](const std::string& tag, const std::string& token) {
    return Skopeo(
        {"copy", "--dest-tls-verify=false", "--dest-creds", "x:" + token, "oci:" + layout + ":v1", dest + tag});
  };
  auto Versions = [&]() { return json::parse(ApiGet(server, "/api/v1/models/pushed/versions", admin))["versions"]; };

  auto push = Push("latest", trainer);
  INFO(push.err);
  REQUIRE(push.exit_code == 0);
  auto versions = Versions();
  REQUIRE(versions.size() == 1);
  CHECK(versions[0]["version"] == 1);
  CHECK(versions[0]["digest"] == layout_digest);
  CHECK(versions[0]["stage"] == "none");
  CHECK(versions[0]["created_by"] == "train-job");
  CHECK(versions[0]["metrics"]["auc"] == 0.87);

  // Its lineage is the one the bundle was registered with.
  auto lineage = json::parse(ApiGet(server, "/api/v1/models/pushed/versions/1/lineage", admin));
  CHECK(lineage["digest"] == layout_digest);
  CHECK(lineage["config_digest"] == source_lineage["config_digest"]);
  CHECK(lineage["params"] == source_lineage["params"]);
  CHECK(lineage["params"]["lr"] == 0.01);
  CHECK(lineage["metrics"] == source_lineage["metrics"]);
  CHECK(lineage["data"] == source_lineage["data"]);

  // It is a version like any other: `modelreg pull` gives back the files.
  auto pull = Modelreg({"pull", "pushed", "1", t / "pulled"}, server.Env(trainer));
  INFO(pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(ReadFile(t / "pulled/d/weights.bin") == ReadFile(src + "/d/weights.bin"));
  CHECK(ReadFile(t / "pulled/config.json") == ReadFile(src + "/config.json"));

  SECTION("the same layout again: the same version, no new one") {
    auto again = Push("latest", trainer);
    INFO(again.err);
    CHECK(again.exit_code == 0);
    auto by_number = Push("1", trainer);
    INFO(by_number.err);
    CHECK(by_number.exit_code == 0);
    CHECK(Versions().size() == 1);
  }

  SECTION("a stage tag is refused: denied, and nothing moves") {
    for (const std::string tag : {"production", "staging"}) {
      auto stage = Push(tag, trainer);
      INFO(tag << ": " << stage.err);
      CHECK(stage.exit_code != 0);
      CHECK(Lower(stage.err).find("denied") != std::string::npos);
    }
    auto admin_push = Push("production", admin);
    CHECK(admin_push.exit_code != 0);
    CHECK(Lower(admin_push.err).find("denied") != std::string::npos);
    auto after = Versions();
    REQUIRE(after.size() == 1);
    CHECK(after[0]["stage"] == "none");
  }

  SECTION("a free-form tag is refused: modelreg numbers versions itself") {
    auto named = Push("v1.0", trainer);
    CHECK(named.exit_code != 0);
    CHECK(Lower(named.err).find("denied") != std::string::npos);
    CHECK(Versions().size() == 1);
  }

  SECTION("a lineage record of another model is refused") {
    auto other = Skopeo({"copy", "--dest-tls-verify=false", "--dest-creds", "x:" + trainer, "oci:" + layout + ":v1",
                         "docker://" + HostPort(server) + "/churn:latest"});
    INFO(other.err);
    CHECK(other.exit_code != 0);
    CHECK(Lower(other.err).find("manifest invalid") != std::string::npos);
    auto models = json::parse(ApiGet(server, "/api/v1/models", admin));
    INFO(models.dump());
    for (const auto& m : models["models"]) CHECK(m["name"] != "churn");
  }
}

// A successful push to a tag means that tag then names the pushed manifest
// (what every OCI client assumes). A bundle that already is version K,
// pushed to :N (the next number) or to :latest while a higher version
// exists, is refused (DENIED) rather than answered 201 with a tag that
// names something else.
TEST_CASE("oci skopeo: a push to the next version number of a bundle already registered leaves that tag resolving",
          "[e2e][oci]") {
  SKIP_WITHOUT_SKOPEO();
  Churn c;
  // Version 2, then version 1's layout pushed to :3 (the next number).
  WriteFile(c.t / "src2/model.bin", "weights two");
  REQUIRE(Modelreg({"register", "churn", c.t / "src2"}, c.server.Env(c.admin)).exit_code == 0);
  const std::string layout = c.t / "v1";
  REQUIRE(Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + c.admin, c.ref("churn:1"),
                  "oci:" + layout + ":v"})
              .exit_code == 0);
  const std::string trainer = c.server.CreateToken("train-job", "trainer");
  auto push = Skopeo(
      {"copy", "--dest-tls-verify=false", "--dest-creds", "x:" + trainer, "oci:" + layout + ":v", c.ref("churn:3")});
  INFO(push.err);
  if (push.exit_code != 0) {
    // Refusing is fine (the bundle is version 1 already): say so, change nothing.
    CHECK(Refused(push.err));
  } else {
    auto raw = Skopeo({"inspect", "--raw", "--tls-verify=false", "--creds", "x:" + trainer, c.ref("churn:3")});
    INFO(raw.err);
    CHECK(raw.exit_code == 0);
    CHECK(Digest::Of(raw.out).str() == c.digest);
  }
  CHECK(json::parse(ApiGet(c.server, "/api/v1/models/churn/versions", c.admin))["versions"].size() == 2);
  // :latest is version 2: version 1's bundle pushed there is refused too.
  auto latest = Skopeo({"copy", "--dest-tls-verify=false", "--dest-creds", "x:" + trainer, "oci:" + layout + ":v",
                        c.ref("churn:latest")});
  CHECK(latest.exit_code != 0);
  CHECK(Refused(latest.err));
}

TEST_CASE(
    "oci skopeo: without access unauthorized or denied and never a blob, auditor and agent pull, agent cannot push",
    "[e2e][oci]") {
  SKIP_WITHOUT_SKOPEO();
  Churn c;
  const std::string elsewhere = c.server.CreateToken("other-team", "trainer", {"other*"});
  const std::string weights_digest = Digest::Of(ReadFile(c.src + "/d/weights.bin")).str();

  SECTION("a token limited to other models") {
    const std::string layout = c.t / "denied";
    auto r = Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + elsewhere, c.ref("churn:production"),
                     "oci:" + layout + ":prod"});
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK(Refused(r.err));
    CHECK(LayoutBlobCount(layout) == 0);
    // Asked directly, with the token itself or a bearer from /v2/token: the
    // OCI error, not the bytes.
    auto bearer = Run({"curl", "-sS", "-u", "x:" + elsewhere,
                       c.server.url() + "/v2/token?service=modelreg&scope=repository:churn:pull"});
    REQUIRE(bearer.exit_code == 0);
    const std::string scoped = json::parse(bearer.out)["token"];
    for (const std::string& token : {elsewhere, scoped}) {
      auto blob = Run({"curl", "-sS", "-w", "\n%{http_code}", "-H", "Authorization: Bearer " + token,
                       c.server.url() + "/v2/churn/blobs/" + weights_digest});
      INFO(blob.out.substr(0, 300));
      const std::string status = blob.out.substr(blob.out.rfind('\n') + 1);
      CHECK((status == "401" || status == "403"));
      CHECK(blob.out.size() < 2000);
      auto body = json::parse(blob.out.substr(0, blob.out.rfind('\n')));
      const std::string code = body["errors"][0]["code"];
      CHECK((code == "DENIED" || code == "UNAUTHORIZED"));
    }
    // Nor may it push there (a layout of churn's own version 1).
    const std::string mine = c.t / "mine";
    REQUIRE(Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + c.admin, c.ref("churn:1"),
                    "oci:" + mine + ":v"})
                .exit_code == 0);
    auto push = Skopeo(
        {"copy", "--dest-tls-verify=false", "--dest-creds", "x:" + elsewhere, "oci:" + mine + ":v", c.ref("churn:2")});
    INFO(push.err);
    CHECK(push.exit_code != 0);
    // Refused at its first request: a HEAD of a blob (403, no body to say DENIED in).
    CHECK(Refused(push.err));
    CHECK(json::parse(ApiGet(c.server, "/api/v1/models/churn/versions", c.admin))["versions"].size() == 1);

    // The access log: every blob of churn that went out went to the admin
    // (its own copy above; three files and the config), none to other-team.
    REQUIRE(c.server.RouteCount("oci.blob.get", 6) >= 6);
    const std::string log = c.server.log();
    size_t at = 0;
    for (size_t nl; (nl = log.find('\n', at)) != std::string::npos; at = nl + 1) {
      const std::string line = log.substr(at, nl - at);
      if (line.find("\"route\":\"oci.blob.get\"") == std::string::npos) continue;
      INFO(line);
      if (line.find("\"status\":200") != std::string::npos || line.find("\"status\":206") != std::string::npos)
        CHECK(line.find("\"actor\":\"admin\"") != std::string::npos);
      else CHECK(line.find("\"actor\":\"admin\"") == std::string::npos);
    }
  }

  SECTION("no token, or one modelreg does not know") {
    auto anonymous = Skopeo({"copy", "--src-tls-verify=false", c.ref("churn:production"), "oci:" + c.t / "anon:x"});
    CHECK(anonymous.exit_code != 0);
    CHECK(Lower(anonymous.err).find("unauthorized") != std::string::npos);
    CHECK(LayoutBlobCount(c.t / "anon") == 0);
    auto bogus = Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:mr_notatokenatall",
                         c.ref("churn:production"), "oci:" + c.t / "bogus:x"});
    CHECK(bogus.exit_code != 0);
    CHECK(Refused(bogus.err));
    CHECK(LayoutBlobCount(c.t / "bogus") == 0);
  }

  SECTION("an auditor and an agent token pull; the agent cannot push") {
    for (const std::string role : {"auditor", "agent"}) {
      const std::string token = c.server.CreateToken("a-" + role, role);
      const std::string layout = c.t / role;
      auto r = Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + token, c.ref("churn:production"),
                       "oci:" + layout + ":prod"});
      INFO(role << ": " << r.err);
      REQUIRE(r.exit_code == 0);
      CHECK(LayoutManifestDigest(layout) == c.digest);
      CHECK(LayoutBlob(layout, weights_digest) == ReadFile(c.src + "/d/weights.bin"));
    }
    const std::string agent = c.server.CreateToken("fleet", "agent");
    const std::string auditor = c.server.CreateToken("audit-team", "auditor");
    // A layout of churn (its lineage names churn), pushed back as the next version.
    const std::string layout = c.t / "repush";
    REQUIRE(Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + c.admin, c.ref("churn:1"),
                    "oci:" + layout + ":v"})
                .exit_code == 0);
    for (const std::string& token : {agent, auditor}) {
      auto push = Skopeo(
          {"copy", "--dest-tls-verify=false", "--dest-creds", "x:" + token, "oci:" + layout + ":v", c.ref("churn:2")});
      INFO(push.err);
      CHECK(push.exit_code != 0);
      CHECK(Lower(push.err).find("denied") != std::string::npos);
    }
    auto versions = json::parse(ApiGet(c.server, "/api/v1/models/churn/versions", c.admin))["versions"];
    CHECK(versions.size() == 1);
  }
}

TEST_CASE("oci skopeo: copy churn/modelpack:production, a ModelPack artifact of the same layer blobs", "[e2e][oci]") {
  SKIP_WITHOUT_SKOPEO();
  Churn c;
  const std::string layout = c.t / "modelpack";
  auto r = Skopeo({"copy", "--src-tls-verify=false", "--src-creds", "x:" + c.admin, c.ref("churn/modelpack:production"),
                   "oci:" + layout + ":prod"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  const std::string digest = LayoutManifestDigest(layout);
  CHECK(digest != c.digest);  // another manifest, of the same layers
  const std::string manifest_bytes = LayoutBlob(layout, digest);
  CHECK(Digest::Of(manifest_bytes).str() == digest);
  auto m = json::parse(manifest_bytes);
  CHECK(m["artifactType"] == "application/vnd.cncf.model.manifest.v1+json");
  CHECK(m["config"]["mediaType"] == "application/vnd.cncf.model.config.v1+json");

  // The same layer blobs as the bundle, in the same order.
  auto bundle = json::parse(c.Manifest());
  std::vector<std::string> bundle_layers, pack_layers;
  for (const auto& l : bundle["layers"]) bundle_layers.push_back(l["digest"]);
  for (const auto& l : m["layers"]) pack_layers.push_back(l["digest"]);
  std::sort(bundle_layers.begin(), bundle_layers.end());
  std::sort(pack_layers.begin(), pack_layers.end());
  CHECK(pack_layers == bundle_layers);
  CheckLayersAreSourceFiles(m, "org.cncf.model.filepath", layout, c.src);

  // The generated config: the raw layers' digests are its diffIds.
  auto config = json::parse(LayoutBlob(layout, m["config"]["digest"]));
  INFO(config.dump());
  auto diff_ids = config["modelfs"]["diffIds"].get<std::vector<std::string>>();
  std::sort(diff_ids.begin(), diff_ids.end());
  CHECK(diff_ids == bundle_layers);

  // The view answers the same manifest again (it is cached, not rebuilt
  // differently), and is read-only.
  auto raw = Skopeo(
      {"inspect", "--raw", "--tls-verify=false", "--creds", "x:" + c.admin, c.ref("churn/modelpack:production")});
  INFO(raw.err);
  REQUIRE(raw.exit_code == 0);
  CHECK(raw.out == manifest_bytes);
  auto push = Skopeo({"copy", "--dest-tls-verify=false", "--dest-creds", "x:" + c.admin, "oci:" + layout + ":prod",
                      c.ref("churn/modelpack:latest")});
  CHECK(push.exit_code != 0);
  CHECK(Lower(push.err).find("denied") != std::string::npos);
}

}  // namespace
}  // namespace modelreg::testing
