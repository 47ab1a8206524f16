// The OCI /v2/ endpoint over raw HTTP (docs/oci.md): login through
// /v2/token, pulls by version, stage and digest exactly as stored, tag
// lists, pushes that register versions, the OCI error envelope, and
// hostile input that gets the OCI error and stores nothing. Real clients
// (skopeo, docker-registry) are in tests/e2e/oci_skopeo_test.cc.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "api/api_util.h"
#include "auth/signing.h"
#include "core/lineage_record.h"
#include "core/manifest.h"
#include "core/modelpack.h"
#include "core/oci_referrer.h"
#include "support/temp_dir.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

std::string Basic(const std::string& password) { return "Basic " + Base64Encode("anyone:" + password); }

// An HTTP client that sends whatever Authorization it is given.
struct Oci {
  httplib::Client cli;
  std::string auth;
  explicit Oci(const std::string& url, std::string a = "") : cli(url), auth(std::move(a)) {
    cli.set_read_timeout(60, 0);
  }
  httplib::Headers H(httplib::Headers extra = {}) const {
    if (!auth.empty()) extra.emplace("Authorization", auth);
    return extra;
  }
  httplib::Result Get(const std::string& p, httplib::Headers h = {}) { return cli.Get(p, H(h)); }
  httplib::Result Head(const std::string& p) { return cli.Head(p, H()); }
  httplib::Result Post(const std::string& p, const std::string& body) {
    return cli.Post(p, H(), body, "application/octet-stream");
  }
  httplib::Result Patch(const std::string& p, const std::string& body, httplib::Headers h = {}) {
    return cli.Patch(p, H(h), body, "application/octet-stream");
  }
  httplib::Result Put(const std::string& p, const std::string& body,
                      const std::string& ct = "application/octet-stream") {
    return cli.Put(p, H(), body, ct);
  }
  httplib::Result Delete(const std::string& p) { return cli.Delete(p, H()); }
};

// The first error code of an OCI envelope, or what the body is instead.
std::string OciCode(const httplib::Result& r) {
  if (!r) return "NO_RESPONSE";
  auto j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty())
    return "NOT_AN_OCI_ERROR: " + r->body.substr(0, 200);
  return j["errors"][0]["code"].get<std::string>();
}

std::string BearerFor(const std::string& url, const std::string& token, const std::string& scope) {
  Oci o(url, Basic(token));
  auto r = o.Get("/v2/token?service=modelreg&scope=" + scope);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  auto j = json::parse(r->body);
  CHECK(j["token"] == j["access_token"]);
  CHECK(j["expires_in"].get<int>() > 0);
  return j["token"].get<std::string>();
}

struct Registered {
  ServerProcess server;
  TempDir t;
  std::string digest;  // version 1 of churn
  std::string manifest;
  std::string weights;
  explicit Registered(std::vector<std::string> flags = {}) : server("", std::move(flags)) {
    WriteFile(t / "b/README.md", "read me\n");
    weights = std::string(300000, 'w');
    for (size_t i = 0; i < weights.size(); i += 7) weights[i] = static_cast<char>('a' + i % 26);
    WriteFile(t / "b/model.safetensors", weights);
    auto r = Client(server, server.admin_token())->Register("churn", t / "b", Lineage("churn"));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    digest = r->version["digest"].get<std::string>();
    auto m = Http(server.url(), server.admin_token()).Get("/api/v1/models/churn/versions/1/manifest");
    REQUIRE(m);
    REQUIRE(m->status == 200);
    manifest = m->body;
  }
  void Promote() {
    Http h(server.url(), server.admin_token());
    auto s = h.Post("/api/v1/models/churn/versions/1/stage", json{{"to", "staging"}}.dump());
    REQUIRE(s->status == 200);
    auto p = h.Post("/api/v1/models/churn/versions/1/stage", json{{"to", "production"}, {"override", "test"}}.dump());
    INFO(p->body);
    REQUIRE(p->status == 200);
  }
};

// Pushes `bytes` as a blob in two PATCHed chunks; returns the digest.
Digest PushChunked(Oci& o, const std::string& name, const std::string& bytes) {
  auto start = o.Post("/v2/" + name + "/blobs/uploads/", "");
  REQUIRE(start);
  INFO(start->body);
  REQUIRE(start->status == 202);
  std::string loc = start->get_header_value("Location");
  REQUIRE(loc.rfind("/v2/" + name + "/blobs/uploads/", 0) == 0);
  const size_t half = bytes.size() / 2;
  auto p1 = o.Patch(loc, bytes.substr(0, half), {{"Content-Range", "0-" + std::to_string(half - 1)}});
  REQUIRE(p1);
  REQUIRE(p1->status == 202);
  CHECK(p1->get_header_value("Range") == "0-" + std::to_string(half - 1));
  loc = p1->get_header_value("Location");
  auto p2 = o.Patch(loc, bytes.substr(half));
  REQUIRE(p2->status == 202);
  const Digest d = Digest::Of(bytes);
  auto fin = o.Put(p2->get_header_value("Location") + "?digest=" + d.str(), "");
  REQUIRE(fin);
  INFO(fin->body);
  REQUIRE(fin->status == 201);
  CHECK(fin->get_header_value("Docker-Content-Digest") == d.str());
  CHECK(fin->get_header_value("Location") == "/v2/" + name + "/blobs/" + d.str());
  return d;
}

}  // namespace

TEST_CASE("OCI login: 401 challenge, /v2/token bearer scoped to what the token may do, revocation") {
  Registered reg;
  const std::string url = reg.server.url();
  auto anon = Oci(url).Get("/v2/");
  REQUIRE(anon);
  CHECK(anon->status == 401);
  CHECK(OciCode(anon) == "UNAUTHORIZED");
  CHECK(anon->get_header_value("Docker-Distribution-API-Version") == "registry/2.0");
  const std::string challenge = anon->get_header_value("WWW-Authenticate");
  CHECK(challenge.find("Bearer realm=\"http://") == 0);
  CHECK(challenge.find("/v2/token\"") != std::string::npos);
  CHECK(challenge.find("service=\"modelreg\"") != std::string::npos);

  auto need = Oci(url).Get("/v2/churn/manifests/1");
  CHECK(need->status == 401);
  CHECK(need->get_header_value("WWW-Authenticate").find("scope=\"repository:churn:pull\"") != std::string::npos);

  // The token endpoint wants the modelreg token as a password.
  auto none = Oci(url).Get("/v2/token?scope=repository:churn:pull");
  CHECK(none->status == 401);
  CHECK(OciCode(none) == "UNAUTHORIZED");
  auto wrong = Oci(url, Basic("mr_not_a_token")).Get("/v2/token?scope=repository:churn:pull");
  CHECK(wrong->status == 401);

  const std::string trainer = reg.server.CreateToken("fraud-trainer", "trainer", {"fraud*"});
  const std::string agent = reg.server.CreateToken("agent-1", "agent");
  // A bearer grants pull on what the token may read, push on what it may
  // register; nothing else (left out, not refused).
  const std::string b = BearerFor(url, agent, "repository:churn:pull,push");
  Oci with_bearer(url, "Bearer " + b);
  CHECK(with_bearer.Get("/v2/")->status == 200);
  auto m = with_bearer.Get("/v2/churn/manifests/1");
  REQUIRE(m);
  CHECK(m->status == 200);
  CHECK(m->body == reg.manifest);
  auto push = with_bearer.Post("/v2/churn/blobs/uploads/", "");
  CHECK(push->status == 403);  // an agent may not push, whatever the bearer
  CHECK(OciCode(push) == "DENIED");

  // Scoped to other models: churn is refused, never served.
  const std::string fb = BearerFor(url, trainer, "repository:churn:pull");
  auto denied = Oci(url, "Bearer " + fb).Get("/v2/churn/blobs/" + Digest::Of(reg.weights).str());
  REQUIRE(denied);
  CHECK((denied->status == 403 || denied->status == 401));
  CHECK(denied->body.find(reg.weights.substr(0, 64)) == std::string::npos);
  // A bearer for one repository is not one for another: a challenge for it.
  const std::string only_fraud = BearerFor(url, reg.server.admin_token(), "repository:fraud:pull");
  auto other = Oci(url, "Bearer " + only_fraud).Get("/v2/churn/manifests/1");
  CHECK(other->status == 401);
  CHECK(other->get_header_value("WWW-Authenticate").find("insufficient_scope") != std::string::npos);

  // A modelreg token works directly, as Bearer or as basic auth's password.
  CHECK(Oci(url, "Bearer " + agent).Get("/v2/churn/manifests/1")->status == 200);
  CHECK(Oci(url, Basic(agent)).Get("/v2/churn/manifests/1")->status == 200);

  // A tampered bearer is refused.
  std::string tampered = b;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  auto bad = Oci(url, "Bearer " + tampered).Get("/v2/churn/manifests/1");
  CHECK(bad->status == 401);
  CHECK(bad->get_header_value("WWW-Authenticate").find("invalid_token") != std::string::npos);

  // Revoking the token ends its bearers.
  Http admin(url, reg.server.admin_token());
  REQUIRE(admin.Delete("/api/v1/tokens/agent-1")->status == 204);
  auto after = with_bearer.Get("/v2/churn/manifests/1");
  CHECK(after->status == 401);
  CHECK(OciCode(after) == "UNAUTHORIZED");
}

TEST_CASE("OCI pull: manifests by number, stage, latest and digest as stored, blobs with Range, tags") {
  Registered reg;
  reg.Promote();
  Oci o(reg.server.url(), "Bearer " + reg.server.admin_token());
  for (const std::string ref : {std::string("1"), std::string("production"), std::string("latest"), reg.digest}) {
    auto m = o.Get("/v2/churn/manifests/" + ref);
    REQUIRE(m);
    INFO(ref << ": " << m->body);
    REQUIRE(m->status == 200);
    CHECK(m->body == reg.manifest);
    CHECK(Digest::Of(m->body).str() == reg.digest);
    CHECK(m->get_header_value("Docker-Content-Digest") == reg.digest);
    CHECK(m->get_header_value("Content-Type") == kOciManifestMediaType);
    auto h = o.Head("/v2/churn/manifests/" + ref);
    CHECK(h->status == 200);
    CHECK(h->get_header_value("Content-Length") == std::to_string(reg.manifest.size()));
    CHECK(h->get_header_value("Docker-Content-Digest") == reg.digest);
    CHECK(h->body.empty());
  }
  CHECK(OciCode(o.Get("/v2/churn/manifests/staging")) == "MANIFEST_UNKNOWN");
  CHECK(OciCode(o.Get("/v2/churn/manifests/7")) == "MANIFEST_UNKNOWN");
  CHECK(OciCode(o.Get("/v2/churn/manifests/v1.0")) == "MANIFEST_UNKNOWN");
  CHECK(OciCode(o.Get("/v2/nosuch/manifests/1")) == "NAME_UNKNOWN");
  CHECK(OciCode(o.Get("/v2/churn/manifests/sha256:abc")) == "DIGEST_INVALID");

  const std::string wd = Digest::Of(reg.weights).str();
  auto whole = o.Get("/v2/churn/blobs/" + wd);
  REQUIRE(whole->status == 200);
  CHECK(whole->body == reg.weights);
  CHECK(whole->get_header_value("Docker-Content-Digest") == wd);
  auto part = o.Get("/v2/churn/blobs/" + wd, {{"Range", "bytes=100-199"}});
  REQUIRE(part->status == 206);
  CHECK(part->body == reg.weights.substr(100, 100));
  auto head = o.Head("/v2/churn/blobs/" + wd);
  CHECK(head->status == 200);
  CHECK(head->get_header_value("Content-Length") == std::to_string(reg.weights.size()));
  auto unknown = o.Get("/v2/churn/blobs/" + Digest::Of("nothing").str());
  CHECK(unknown->status == 404);
  CHECK(OciCode(unknown) == "BLOB_UNKNOWN");
  CHECK(OciCode(o.Get("/v2/churn/blobs/sha256:zz")) == "DIGEST_INVALID");

  auto tags = o.Get("/v2/churn/tags/list");
  REQUIRE(tags->status == 200);
  CHECK(json::parse(tags->body) == json{{"name", "churn"}, {"tags", {"1", "latest", "production"}}});
  auto page = o.Get("/v2/churn/tags/list?n=2");
  CHECK(json::parse(page->body)["tags"] == json{"1", "latest"});
  CHECK(page->get_header_value("Link") == "</v2/churn/tags/list?n=2&last=latest>; rel=\"next\"");
  auto rest = o.Get("/v2/churn/tags/list?n=2&last=latest");
  CHECK(json::parse(rest->body)["tags"] == json{"production"});
  CHECK(OciCode(o.Get("/v2/churn/tags/list?n=-1")) == "UNSUPPORTED");

  auto catalog = o.Get("/v2/_catalog");
  CHECK(json::parse(catalog->body)["repositories"] == json{"churn"});
}

TEST_CASE("OCI push: chunked and monolithic uploads, mount, manifest PUT registers a version") {
  Registered reg;
  const std::string url = reg.server.url();
  const std::string trainer = reg.server.CreateToken("trainer-1", "trainer");
  Oci o(url, "Bearer " + BearerFor(url, trainer, "repository:fraud:pull,push&scope=repository:churn:pull"));

  const std::string weights(100000, 'f');
  const Digest wd = PushChunked(o, "fraud", weights);
  // Monolithic: POST ?digest= with the body.
  const std::string config = SerializeLineage(Lineage("fraud"));
  auto mono = o.cli.Post("/v2/fraud/blobs/uploads/?digest=" + Digest::Of(config).str(), o.H(), config,
                         "application/octet-stream");
  REQUIRE(mono);
  INFO(mono->body);
  REQUIRE(mono->status == 201);
  // Mount: the README churn holds, without sending it again.
  const Digest readme = Digest::Of("read me\n");
  auto mount = o.Post("/v2/fraud/blobs/uploads/?mount=" + readme.str() + "&from=churn", "");
  REQUIRE(mount);
  CHECK(mount->status == 201);
  CHECK(mount->get_header_value("Location") == "/v2/fraud/blobs/" + readme.str());
  // HEAD finds what the pusher may link.
  CHECK(o.Head("/v2/fraud/blobs/" + wd.str())->status == 200);

  const std::string manifest = ManifestJson(config, {{"README.md", "read me\n"}, {"w.bin", weights}});
  const std::string md = Digest::Of(manifest).str();
  // Stages are not pushed; free-form tags neither; a digest must match.
  auto stage = o.Put("/v2/fraud/manifests/production", manifest, kOciManifestMediaType);
  CHECK(stage->status == 403);
  CHECK(OciCode(stage) == "DENIED");
  CHECK(stage->body.find("workflow") != std::string::npos);
  CHECK(OciCode(o.Put("/v2/fraud/manifests/v2", manifest, kOciManifestMediaType)) == "DENIED");
  CHECK(OciCode(o.Put("/v2/fraud/manifests/5", manifest, kOciManifestMediaType)) == "DENIED");
  CHECK(OciCode(o.Put("/v2/fraud/manifests/" + Digest::Of("x").str(), manifest, kOciManifestMediaType)) ==
        "DIGEST_INVALID");
  Http admin(url, reg.server.admin_token());
  CHECK(admin.Get("/api/v1/models/fraud")->status == 404);  // nothing registered by any of those

  auto put = o.Put("/v2/fraud/manifests/latest", manifest, kOciManifestMediaType);
  REQUIRE(put);
  INFO(put->body);
  REQUIRE(put->status == 201);
  CHECK(put->get_header_value("Docker-Content-Digest") == md);
  CHECK(put->get_header_value("Location") == "/v2/fraud/manifests/" + md);
  CHECK(put->get_header_value("Modelreg-Version") == "1");
  auto v = admin.Get("/api/v1/models/fraud/versions/1");
  REQUIRE(v->status == 200);
  CHECK(json::parse(v->body)["digest"] == md);
  CHECK(json::parse(v->body)["created_by"] == "trainer-1");
  // Pulled back exactly as pushed.
  CHECK(o.Get("/v2/fraud/manifests/1")->body == manifest);
  // Again (by digest, or the version's own number): the same version.
  CHECK(o.Put("/v2/fraud/manifests/" + md, manifest, kOciManifestMediaType)->status == 201);
  CHECK(o.Put("/v2/fraud/manifests/1", manifest, kOciManifestMediaType)->status == 201);
  CHECK(json::parse(admin.Get("/api/v1/models/fraud/versions")->body)["versions"].size() == 1);
}

TEST_CASE("OCI hostile input: the OCI error, and nothing stored") {
  Registered reg;
  const std::string url = reg.server.url();
  Oci o(url, "Bearer " + reg.server.admin_token());
  Http admin(url, reg.server.admin_token());
  const std::string config = SerializeLineage(Lineage("evil"));
  auto cfg = o.cli.Post("/v2/evil/blobs/uploads/?digest=" + Digest::Of(config).str(), o.H(), config,
                        "application/octet-stream");
  REQUIRE(cfg->status == 201);

  SECTION("a wrong digest at finish stores no blob") {
    auto start = o.Post("/v2/evil/blobs/uploads/", "");
    const std::string loc = start->get_header_value("Location");
    auto fin = o.Put(loc + "?digest=" + Digest::Of("other bytes").str(), "these bytes");
    REQUIRE(fin);
    CHECK(fin->status == 400);
    CHECK(OciCode(fin) == "DIGEST_INVALID");
    CHECK(o.Head("/v2/evil/blobs/" + Digest::Of("these bytes").str())->status == 404);
    CHECK(OciCode(o.Put(loc + "?digest=sha256:nothex", "")) != "NOT_AN_OCI_ERROR");
  }
  SECTION("a chunk out of order is 416 with the offset, a lying Content-Range is refused") {
    auto start = o.Post("/v2/evil/blobs/uploads/", "");
    const std::string loc = start->get_header_value("Location");
    auto gap = o.Patch(loc, "abc", {{"Content-Range", "10-12"}});
    REQUIRE(gap);
    CHECK(gap->status == 416);
    CHECK(OciCode(gap) == "BLOB_UPLOAD_INVALID");
    CHECK(gap->get_header_value("Range") == "0-0");
    auto lying = o.Patch(loc, "abc", {{"Content-Range", "0-99"}});
    CHECK(lying->status == 400);
    CHECK(OciCode(lying) == "BLOB_UPLOAD_INVALID");
    auto status = o.Get(loc);
    CHECK(status->status == 204);
    CHECK(status->get_header_value("Range") == "0-0");
    CHECK(OciCode(o.Get("/v2/evil/blobs/uploads/notasession")) == "BLOB_UPLOAD_UNKNOWN");
  }
  SECTION("manifests: traversal, missing blobs, no lineage, wrong type, too large, bad JSON") {
    const std::string bytes = "payload";
    REQUIRE(
        o.cli
            .Post("/v2/evil/blobs/uploads/?digest=" + Digest::Of(bytes).str(), o.H(), bytes, "application/octet-stream")
            ->status == 201);
    auto traversal =
        o.Put("/v2/evil/manifests/latest", ManifestJson(config, {{"../../etc/passwd", bytes}}), kOciManifestMediaType);
    CHECK(traversal->status == 400);
    CHECK(OciCode(traversal) == "MANIFEST_INVALID");
    auto missing =
        o.Put("/v2/evil/manifests/latest", ManifestJson(config, {{"a.bin", "never uploaded"}}), kOciManifestMediaType);
    CHECK(missing->status == 400);
    CHECK(OciCode(missing) == "MANIFEST_BLOB_UNKNOWN");
    json image = json::parse(ManifestJson(config, {{"a.bin", bytes}}));
    image["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json";
    auto no_lineage = o.Put("/v2/evil/manifests/latest", image.dump(), kOciManifestMediaType);
    CHECK(OciCode(no_lineage) == "MANIFEST_INVALID");
    CHECK(no_lineage->body.find("lineage") != std::string::npos);
    auto docker = o.Put("/v2/evil/manifests/latest", ManifestJson(config, {{"a.bin", bytes}}),
                        "application/vnd.docker.distribution.manifest.v2+json");
    CHECK(OciCode(docker) == "MANIFEST_INVALID");
    auto huge = o.Put("/v2/evil/manifests/latest", std::string(64 << 20, ' '), kOciManifestMediaType);
    REQUIRE(huge);
    CHECK(huge->status == 413);
    CHECK(OciCode(huge) == "SIZE_INVALID");
    CHECK(OciCode(o.Put("/v2/evil/manifests/latest", "{not json", kOciManifestMediaType)) == "MANIFEST_INVALID");
    CHECK(admin.Get("/api/v1/models/evil")->status == 404);
  }
  SECTION("bad names and references, unknown paths, methods not served") {
    CHECK(OciCode(o.Get("/v2/Churn/manifests/1")) == "NAME_INVALID");
    CHECK(OciCode(o.Get("/v2/ch%2Furn/manifests/1")) == "NAME_INVALID");
    CHECK(OciCode(o.Get("/v2/a/b/c/manifests/1")) != "NOT_AN_OCI_ERROR");
    CHECK(o.Get("/v2/churn/manifests/1/extra")->status == 404);
    auto del = o.Delete("/v2/churn/manifests/1");
    CHECK(del->status == 405);
    CHECK(OciCode(del) == "UNSUPPORTED");
    auto method = o.cli.Options("/v2/churn/manifests/1", o.H());
    REQUIRE(method);
    CHECK(method->status == 405);
    CHECK(OciCode(method) == "UNSUPPORTED");
    CHECK(!method->get_header_value("Allow").empty());
    // /api/v1/ keeps its own error shape.
    CHECK(ErrorCode(admin.Get("/api/v1/models/nosuch")) != "NOT_AN_ERROR_BODY");
  }
  SECTION("the ModelPack view is read-only") {
    auto push = o.Post("/v2/churn/modelpack/blobs/uploads/", "");
    CHECK(push->status == 403);
    CHECK(OciCode(push) == "DENIED");
  }
}

TEST_CASE("OCI ModelPack view: the same blobs, a generated config, fetchable by tag and digest") {
  Registered reg;
  reg.Promote();
  Oci o(reg.server.url(), "Bearer " + reg.server.admin_token());
  auto m = o.Get("/v2/churn/modelpack/manifests/production");
  REQUIRE(m);
  INFO(m->body);
  REQUIRE(m->status == 200);
  const json mp = json::parse(m->body);
  CHECK(mp["artifactType"] == kModelPackArtifactType);
  const std::string mp_digest = Digest::Of(m->body).str();
  CHECK(m->get_header_value("Docker-Content-Digest") == mp_digest);
  const Manifest bundle = ParseManifest(reg.manifest).value();
  REQUIRE(mp["layers"].size() == bundle.layers.size());
  for (size_t i = 0; i < bundle.layers.size(); ++i) {
    CHECK(mp["layers"][i]["digest"] == bundle.layers[i].digest.str());
    CHECK(mp["layers"][i]["annotations"][kModelPackFilepathAnnotation] == bundle.layers[i].title);
  }
  CHECK(mp["layers"][1]["mediaType"] == kModelPackWeightMediaType);
  // By its own digest; and its config and layers as blobs of the view.
  CHECK(o.Get("/v2/churn/modelpack/manifests/" + mp_digest)->body == m->body);
  const std::string cd = mp["config"]["digest"];
  auto config = o.Get("/v2/churn/modelpack/blobs/" + cd);
  REQUIRE(config->status == 200);
  CHECK(Digest::Of(config->body).str() == cd);
  CHECK(json::parse(config->body)["modelfs"]["diffIds"][1] == Digest::Of(reg.weights).str());
  CHECK(o.Get("/v2/churn/modelpack/blobs/" + Digest::Of(reg.weights).str())->body == reg.weights);
  // The bundle's digest is not the view's.
  CHECK(OciCode(o.Get("/v2/churn/modelpack/manifests/" + reg.digest)) == "MANIFEST_UNKNOWN");
  // The bundle itself is unchanged.
  CHECK(o.Get("/v2/churn/manifests/1")->body == reg.manifest);
}

TEST_CASE("serve --oci-agent-stages-only: agents resolve stage tags and pull only approved versions") {
  Registered reg({"--oci-agent-stages-only"});
  const std::string url = reg.server.url();
  const std::string agent = reg.server.CreateToken("agent-1", "agent");
  Oci a(url, "Bearer " + agent);
  const std::string wd = Digest::Of(reg.weights).str();
  // Version 1 was never approved: not by number, latest, digest, nor its blobs.
  for (const std::string path :
       {std::string("/v2/churn/manifests/1"), std::string("/v2/churn/manifests/latest"),
        "/v2/churn/manifests/" + reg.digest, "/v2/churn/blobs/" + wd, std::string("/v2/churn/modelpack/manifests/1")}) {
    auto r = a.Get(path);
    INFO(path << ": " << r->body);
    CHECK(r->status == 403);
    CHECK(OciCode(r) == "DENIED");
    CHECK(r->body.find(reg.weights.substr(0, 64)) == std::string::npos);
  }
  CHECK(OciCode(a.Get("/v2/churn/manifests/production")) == "MANIFEST_UNKNOWN");
  // Other roles are not limited.
  CHECK(Oci(url, "Bearer " + reg.server.admin_token()).Get("/v2/churn/manifests/1")->status == 200);

  reg.Promote();
  auto m = a.Get("/v2/churn/manifests/production");
  REQUIRE(m->status == 200);
  CHECK(m->body == reg.manifest);
  CHECK(a.Get("/v2/churn/manifests/" + reg.digest)->status == 200);  // resolved, then by digest
  CHECK(a.Get("/v2/churn/blobs/" + wd)->body == reg.weights);
  CHECK(a.Get("/v2/churn/modelpack/manifests/production")->status == 200);
  CHECK(json::parse(a.Get("/v2/churn/tags/list")->body)["tags"] == json{"production"});
  CHECK(OciCode(a.Get("/v2/churn/manifests/1")) == "DENIED");  // numbers stay unresolved

  // A second version, never approved, stays out of reach.
  WriteFile(reg.t / "b2/model.safetensors", "second");
  auto r2 = Client(reg.server, reg.server.admin_token())->Register("churn", reg.t / "b2", Lineage("churn"));
  REQUIRE(r2.ok());
  const std::string d2 = r2->version["digest"].get<std::string>();
  CHECK(OciCode(a.Get("/v2/churn/manifests/" + d2)) == "DENIED");
  CHECK(OciCode(a.Get("/v2/churn/blobs/" + Digest::Of("second").str())) == "DENIED");
}

TEST_CASE("OCI referrers: a version's signed provenance, approval record and signed release, each fetchable") {
  Registered reg;
  reg.Promote();
  Oci o(reg.server.url(), "Bearer " + reg.server.admin_token());
  auto r = o.Get("/v2/churn/referrers/" + reg.digest);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == kOciIndexMediaType);
  const json index = json::parse(r->body);
  CHECK(index["mediaType"] == kOciIndexMediaType);
  std::set<std::string> types;
  for (const auto& m : index["manifests"]) {
    types.insert(m["artifactType"].get<std::string>());
    auto manifest = o.Get("/v2/churn/manifests/" + m["digest"].get<std::string>());
    REQUIRE(manifest->status == 200);
    CHECK(Digest::Of(manifest->body).str() == m["digest"]);
    const json mj = json::parse(manifest->body);
    CHECK(mj["subject"]["digest"] == reg.digest);
    CHECK(mj["subject"]["size"] == reg.manifest.size());
    CHECK(mj["artifactType"] == m["artifactType"]);
    auto config = o.Get("/v2/churn/blobs/" + mj["config"]["digest"].get<std::string>());
    CHECK(config->body == "{}");
    auto doc = o.Get("/v2/churn/blobs/" + mj["layers"][0]["digest"].get<std::string>());
    REQUIRE(doc->status == 200);
    CHECK(Digest::Of(doc->body).str() == mj["layers"][0]["digest"]);
    if (m["artifactType"] == kApprovalsArtifactType) {
      const json rec = json::parse(doc->body);
      CHECK(rec["digest"] == reg.digest);
      CHECK(rec["stage"] == "production");
      CHECK(rec["stage_history"].size() == 2);
    } else {
      CHECK(json::parse(doc->body)["payloadType"] == "application/vnd.in-toto+json");  // DSSE, signed
    }
  }
  CHECK(types == std::set<std::string>{kProvenanceArtifactType, kApprovalsArtifactType, kReleaseArtifactType});

  auto filtered = o.Get("/v2/churn/referrers/" + reg.digest + "?artifactType=" + kProvenanceArtifactType);
  CHECK(filtered->get_header_value("OCI-Filters-Applied") == "artifactType");
  CHECK(json::parse(filtered->body)["manifests"].size() == 1);
  // A digest nothing refers to: an empty list, as the spec says.
  auto none = o.Get("/v2/churn/referrers/" + Digest::Of("nothing").str());
  REQUIRE(none->status == 200);
  CHECK(json::parse(none->body)["manifests"].empty());
  CHECK(OciCode(o.Get("/v2/nosuch/referrers/" + reg.digest)) == "NAME_UNKNOWN");
  CHECK(OciCode(o.Get("/v2/churn/referrers/sha256:xyz")) == "DIGEST_INVALID");
  // A signature made elsewhere, pushed with the version as its subject.
  const std::string sig = "a signature made elsewhere";
  REQUIRE(
      o.cli.Post("/v2/churn/blobs/uploads/?digest=" + Digest::Of(sig).str(), o.H(), sig, "application/octet-stream")
          ->status == 201);
  const Descriptor empty = EmptyConfigDescriptor();
  const char* kSigType = "application/vnd.example.signature.v1+json";
  auto referrer = [&](const std::string& subject_digest, const std::string& layer) {
    return json{
        {"schemaVersion", 2},
        {"mediaType", kOciManifestMediaType},
        {"artifactType", kSigType},
        {"config", {{"mediaType", empty.media_type}, {"digest", empty.digest.str()}, {"size", empty.size}}},
        {"layers", json::array({{{"mediaType", "application/octet-stream"},
                                 {"digest", Digest::Of(layer).str()},
                                 {"size", layer.size()}}})},
        {"subject", {{"mediaType", kOciManifestMediaType}, {"digest", subject_digest}, {"size", reg.manifest.size()}}}}
        .dump();
  };
  const std::string pushed = referrer(reg.digest, sig);
  const std::string pd = Digest::Of(pushed).str();
  CHECK(OciCode(o.Put("/v2/churn/manifests/latest", pushed, kOciManifestMediaType)) == "DENIED");
  auto not_version = o.Put("/v2/churn/manifests/" + Digest::Of(referrer(Digest::Of("x").str(), sig)).str(),
                           referrer(Digest::Of("x").str(), sig), kOciManifestMediaType);
  CHECK(OciCode(not_version) == "MANIFEST_INVALID");
  const std::string unsent = referrer(reg.digest, "never uploaded");
  CHECK(OciCode(o.Put("/v2/churn/manifests/" + Digest::Of(unsent).str(), unsent, kOciManifestMediaType)) ==
        "MANIFEST_BLOB_UNKNOWN");
  for (int i = 0; i < 2; ++i) {  // the second time changes nothing
    auto put = o.Put("/v2/churn/manifests/" + pd, pushed, kOciManifestMediaType);
    REQUIRE(put);
    INFO(put->body);
    REQUIRE(put->status == 201);
    CHECK(put->get_header_value("OCI-Subject") == reg.digest);
    CHECK(put->get_header_value("Docker-Content-Digest") == pd);
  }
  auto listed = json::parse(o.Get("/v2/churn/referrers/" + reg.digest + "?artifactType=" + kSigType)->body);
  REQUIRE(listed["manifests"].size() == 1);
  CHECK(listed["manifests"][0]["digest"] == pd);
  CHECK(json::parse(o.Get("/v2/churn/referrers/" + reg.digest)->body)["manifests"].size() == 4);
  CHECK(o.Get("/v2/churn/manifests/" + pd)->body == pushed);
  CHECK(o.Get("/v2/churn/blobs/" + Digest::Of(sig).str())->body == sig);
  // Not a version: the model still has one.
  Http admin(reg.server.url(), reg.server.admin_token());
  CHECK(json::parse(admin.Get("/api/v1/models/churn/versions")->body)["versions"].size() == 1);
}

TEST_CASE("OCI: bytes that are not UTF-8 in a name, a reference, a digest or a scope get the OCI error") {
  Registered reg;
  const std::string url = reg.server.url();
  Oci o(url, "Bearer " + reg.server.admin_token());
  auto bad_ref = o.Get("/v2/churn/manifests/%FF%FEv1");
  REQUIRE(bad_ref);
  CHECK(bad_ref->status == 404);
  CHECK(OciCode(bad_ref) == "MANIFEST_UNKNOWN");
  CHECK(json::parse(bad_ref->body)["errors"][0]["message"].is_string());  // valid JSON, bytes replaced
  CHECK(OciCode(o.Get("/v2/ch%FFurn/manifests/1")) == "NAME_INVALID");
  CHECK(OciCode(o.Get("/v2/churn/blobs/sha256:%FF")) == "DIGEST_INVALID");
  CHECK(OciCode(o.Get("/v2/churn/blobs/uploads/%FF%FE")) == "BLOB_UPLOAD_UNKNOWN");
  auto scope = Oci(url, Basic(reg.server.admin_token())).Get("/v2/token?scope=repository:%FF:pull");
  REQUIRE(scope);
  CHECK(scope->status == 400);
  CHECK(OciCode(scope) == "UNSUPPORTED");
  CHECK(Oci(url).Get("/healthz")->status == 200);  // still serving
}
