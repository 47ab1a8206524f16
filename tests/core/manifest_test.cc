// Unit tests for registry/core/manifest.h: deterministic serialization of the
// OCI manifest (the bundle digest depends on it) and strict parsing.
#include "core/manifest.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace modelreg {
namespace {

using nlohmann::json;

// sha256("hello") and sha256("{}"), independent of the code under test.
constexpr char kHelloSha[] = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
constexpr char kBracesSha[] = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

Descriptor LineageConfig(const std::string& bytes = "{}") {
  return Descriptor{kLineageMediaType, Digest::Of(bytes), bytes.size(), ""};
}

BundleFile File(const std::string& path, const std::string& content) {
  return BundleFile{path, Digest::Of(content), content.size()};
}

std::vector<BundleFile> SampleFiles() {
  return {File("weights/model.bin", "weights"),
          File("README.md", "readme"),
          File("config.json", "{\"a\":1}"),
          File("weights/extra/a.bin", ""),
          File("\xc3\xa4/umlaut.txt", "u"),
          File("a-b", "dash"),
          File("a/b", "slash")};
}

std::string SampleManifestBytes() {
  return SerializeManifest(BuildManifest(kModelArtifactType, LineageConfig(), SampleFiles()));
}

json SampleJson() { return json::parse(SampleManifestBytes()); }

json Layer(const std::string& title, const std::string& content = "x") {
  return json{{"mediaType", kFileMediaType},
              {"digest", Digest::Of(content).str()},
              {"size", content.size()},
              {"annotations", {{kOciTitleAnnotation, title}}}};
}

StatusCode ParseCode(const json& j, const BundleLimits& limits = {}) {
  return ParseManifest(j.dump(), limits).status().code();
}

TEST_CASE("SerializeManifest writes the exact expected bytes", "[core][manifest]") {
  Manifest m = BuildManifest(kModelArtifactType, LineageConfig(), {File("a.txt", "hello")});
  const std::string expected =
      std::string(R"({"artifactType":"application/vnd.modelreg.model.v1",)") + R"("config":{"digest":")" + kBracesSha +
      R"(","mediaType":"application/vnd.modelreg.lineage.v1+json","size":2},)" +
      R"("layers":[{"annotations":{"org.opencontainers.image.title":"a.txt"},)" + R"("digest":")" + kHelloSha +
      R"(","mediaType":"application/vnd.modelreg.file.v1","size":5}],)" +
      R"("mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2})";
  CHECK(SerializeManifest(m) == expected);
}

TEST_CASE("SerializeManifest is deterministic whatever the input order", "[core][manifest]") {
  std::vector<BundleFile> files = SampleFiles();
  const std::string first = SampleManifestBytes();
  CHECK(first.find_first_of(" \n\t") == std::string::npos);  // no whitespace
  std::reverse(files.begin(), files.end());
  const std::string reversed = SerializeManifest(BuildManifest(kModelArtifactType, LineageConfig(), files));
  std::rotate(files.begin(), files.begin() + 3, files.end());
  const std::string rotated = SerializeManifest(BuildManifest(kModelArtifactType, LineageConfig(), files));
  CHECK(reversed == first);
  CHECK(rotated == first);
  CHECK(Digest::Of(rotated) == Digest::Of(first));

  // Layers come out sorted by path in byte order: 'R' < 'a', '-' < '/', ASCII < 0xC3.
  Manifest m = BuildManifest(kModelArtifactType, LineageConfig(), files);
  std::vector<std::string> titles;
  for (const auto& l : m.layers) titles.push_back(l.title);
  CHECK(titles == std::vector<std::string>{"README.md", "a-b", "a/b", "config.json", "weights/extra/a.bin",
                                           "weights/model.bin", "\xc3\xa4/umlaut.txt"});
  // Any change to content or lineage changes the bytes.
  files[0].digest = Digest::Of("changed");
  CHECK(SerializeManifest(BuildManifest(kModelArtifactType, LineageConfig(), files)) != first);
  CHECK(SerializeManifest(BuildManifest(kModelArtifactType, LineageConfig("{\"x\":1}"), SampleFiles())) != first);
}

TEST_CASE("ParseManifest round trip", "[core][manifest]") {
  const std::string bytes = SampleManifestBytes();
  auto m = ParseManifest(bytes);
  REQUIRE(m.ok());
  CHECK(m->artifact_type == kModelArtifactType);
  CHECK(m->config.media_type == kLineageMediaType);
  CHECK(m->config.digest == Digest::Of("{}"));
  CHECK(m->config.size == 2);
  CHECK(m->config.title.empty());
  REQUIRE(m->layers.size() == SampleFiles().size());
  CHECK(m->layers[0].title == "README.md");
  CHECK(m->layers[0].digest == Digest::Of("readme"));
  CHECK(m->layers[0].size == 6);
  CHECK(m->layers[0].media_type == kFileMediaType);
  CHECK(m->TotalLayerBytes() == 7 + 6 + 7 + 0 + 1 + 4 + 5);
  CHECK(SerializeManifest(*m) == bytes);

  // Whitespace and key order in the input do not matter to the parser.
  auto pretty = ParseManifest(SampleJson().dump(2));
  REQUIRE(pretty.ok());
  CHECK(SerializeManifest(*pretty) == bytes);
}

TEST_CASE("ParseManifest accepts a dataset manifest and an empty bundle", "[core][manifest]") {
  Manifest ds = BuildManifest(kDatasetArtifactType, EmptyConfigDescriptor(),
                              {File("part-0001.parquet", "p1"), File("part-0000.parquet", "p0")});
  auto parsed = ParseManifest(SerializeManifest(ds));
  REQUIRE(parsed.ok());
  CHECK(parsed->artifact_type == kDatasetArtifactType);
  CHECK(parsed->config.media_type == kOciEmptyMediaType);
  CHECK(parsed->config.digest.str() == kBracesSha);
  CHECK(parsed->layers.size() == 2);

  Manifest empty = BuildManifest(kModelArtifactType, LineageConfig(), {});
  auto pe = ParseManifest(SerializeManifest(empty));
  REQUIRE(pe.ok());
  CHECK(pe->layers.empty());
}

TEST_CASE("ParseManifest rejects wrong header fields", "[core][manifest]") {
  json j = SampleJson();
  REQUIRE(ParseManifest(j.dump()).ok());
  auto with = [&](const std::string& key, json value) {
    json k = j;
    k[key] = std::move(value);
    return ParseCode(k);
  };
  auto without = [&](const std::string& key) {
    json k = j;
    k.erase(key);
    return ParseCode(k);
  };
  CHECK(with("schemaVersion", 1) == StatusCode::kInvalidArgument);
  CHECK(with("schemaVersion", 3) == StatusCode::kInvalidArgument);
  CHECK(with("schemaVersion", "2") == StatusCode::kInvalidArgument);
  CHECK(with("schemaVersion", 2.5) == StatusCode::kInvalidArgument);
  CHECK(without("schemaVersion") == StatusCode::kInvalidArgument);
  CHECK(with("mediaType", "application/vnd.docker.distribution.manifest.v2+json") == StatusCode::kInvalidArgument);
  CHECK(with("mediaType", 5) == StatusCode::kInvalidArgument);
  CHECK(without("mediaType") == StatusCode::kInvalidArgument);
  CHECK(with("artifactType", "application/vnd.example.other") == StatusCode::kInvalidArgument);
  CHECK(with("artifactType", nullptr) == StatusCode::kInvalidArgument);
  CHECK(without("artifactType") == StatusCode::kInvalidArgument);
  CHECK(without("config") == StatusCode::kInvalidArgument);
  CHECK(with("config", "sha256:x") == StatusCode::kInvalidArgument);
  CHECK(without("layers") == StatusCode::kInvalidArgument);
  CHECK(with("layers", json::object()) == StatusCode::kInvalidArgument);

  json cfg = j;
  cfg["config"]["mediaType"] = "application/octet-stream";
  CHECK(ParseCode(cfg) == StatusCode::kInvalidArgument);
  CHECK_THAT(ParseManifest(cfg.dump()).status().message(), Catch::Contains("config mediaType"));
}

TEST_CASE("ParseManifest rejects bad layers", "[core][manifest]") {
  auto with_layers = [](json layers) {
    json j = SampleJson();
    j["layers"] = std::move(layers);
    return j;
  };
  auto code = [&](json layers) { return ParseCode(with_layers(std::move(layers))); };
  REQUIRE(code(json::array({Layer("a"), Layer("b")})) == StatusCode::kOk);

  SECTION("unsorted and duplicate titles") {
    Status st = ParseManifest(with_layers(json::array({Layer("b"), Layer("a")})).dump()).status();
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains("sorted"));
    // Sorting is by bytes, not by locale: "B" (0x42) sorts before "a" (0x61).
    CHECK(code(json::array({Layer("a"), Layer("B")})) == StatusCode::kInvalidArgument);
    CHECK(code(json::array({Layer("a/b"), Layer("a-b")})) == StatusCode::kInvalidArgument);
    CHECK(code(json::array({Layer("a"), Layer("a")})) == StatusCode::kInvalidArgument);
    CHECK(code(json::array({Layer("a", "1"), Layer("a", "2")})) == StatusCode::kInvalidArgument);
  }
  SECTION("missing or empty title") {
    json no_ann = Layer("a");
    no_ann.erase("annotations");
    CHECK(code(json::array({no_ann})) == StatusCode::kInvalidArgument);
    json other_ann = Layer("a");
    other_ann["annotations"] = {{"org.example.note", "a"}};
    CHECK(code(json::array({other_ann})) == StatusCode::kInvalidArgument);
    CHECK(code(json::array({Layer("")})) == StatusCode::kInvalidArgument);
    json num_title = Layer("a");
    num_title["annotations"][kOciTitleAnnotation] = 7;
    CHECK(code(json::array({num_title})) == StatusCode::kInvalidArgument);
    json ann_array = Layer("a");
    ann_array["annotations"] = json::array();
    CHECK(code(json::array({ann_array})) == StatusCode::kInvalidArgument);
  }
  SECTION("bad digest") {
    for (const std::string d : {"sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e", "",
                                "sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"}) {
      json l = Layer("a");
      l["digest"] = d;
      INFO(d);
      CHECK(code(json::array({l})) == StatusCode::kInvalidArgument);
    }
    json l = Layer("a");
    l["digest"] = 1;
    CHECK(code(json::array({l})) == StatusCode::kInvalidArgument);
    json c = SampleJson();
    c["config"]["digest"] = "sha256:zz";
    CHECK(ParseCode(c) == StatusCode::kInvalidArgument);
  }
  SECTION("size must be a non-negative integer") {
    for (json size : {json(-1), json(1.5), json(5.0), json("5"), json(nullptr), json(true)}) {
      json l = Layer("a");
      l["size"] = size;
      INFO(size.dump());
      CHECK(code(json::array({l})) == StatusCode::kInvalidArgument);
    }
    json l = Layer("a");
    l.erase("size");
    CHECK(code(json::array({l})) == StatusCode::kInvalidArgument);
    // Too large for uint64: the parser sees a float, which is refused.
    std::string text = with_layers(json::array({Layer("a")})).dump();
    const std::string needle = "\"size\":1}";
    auto pos = text.find(needle);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, needle.size(), "\"size\":18446744073709551616}");
    CHECK(ParseManifest(text).status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("paths that break the bundle rules") {
    for (const std::string t : {"../x", "a/../b", "/abs", "a//b", "a/", ".", "a\\b"}) {
      INFO(t);
      CHECK(code(json::array({Layer(t)})) == StatusCode::kInvalidArgument);
    }
    CHECK(code(json::array({Layer("A.txt"), Layer("a.txt")})) == StatusCode::kInvalidArgument);
    CHECK(code(json::array({Layer("a"), Layer("a/b")})) == StatusCode::kInvalidArgument);
    CHECK(code(json::array({Layer(std::string("a\0b", 3))})) == StatusCode::kInvalidArgument);
  }
  SECTION("wrong layer media type or shape") {
    json l = Layer("a");
    l["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip";
    CHECK(code(json::array({l})) == StatusCode::kInvalidArgument);
    CHECK(code(json::array({"a"})) == StatusCode::kInvalidArgument);
    CHECK(code(json::array({json::array()})) == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("ParseManifest enforces size and file-count limits", "[core][manifest]") {
  const std::string bytes = SampleManifestBytes();
  BundleLimits limits;
  limits.max_manifest_bytes = bytes.size();
  CHECK(ParseManifest(bytes, limits).ok());
  limits.max_manifest_bytes = bytes.size() - 1;
  Status big = ParseManifest(bytes, limits).status();
  CHECK(big.code() == StatusCode::kResourceExhausted);

  BundleLimits files;
  files.max_files = SampleFiles().size();
  CHECK(ParseManifest(bytes, files).ok());
  files.max_files = SampleFiles().size() - 1;
  CHECK(ParseManifest(bytes, files).status().code() == StatusCode::kResourceExhausted);

  // The default 4 MiB limit applies without explicit limits.
  std::string huge = bytes;
  huge.insert(huge.size() - 1, std::string((4u << 20), ' '));
  CHECK(ParseManifest(huge).status().code() == StatusCode::kResourceExhausted);
}

TEST_CASE("ParseManifest rejects non-JSON and non-objects", "[core][manifest]") {
  const std::string bytes = SampleManifestBytes();
  for (const std::string& b : {std::string(), std::string("not json"), std::string("[]"), std::string("null"),
                               std::string("\"manifest\""), std::string("42"), bytes.substr(0, bytes.size() - 1),
                               bytes + "x", std::string("{\"schemaVersion\":2,}"), std::string("\xff\xfe{}")}) {
    INFO(b.substr(0, 40));
    auto m = ParseManifest(b);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace modelreg
