// Unit tests for registry/core/modelpack.h: a version's bundle as a CNCF ModelPack artifact.
// The layers must be the bundle's blobs untouched, the bytes deterministic, and the config
// must pass the ModelPack config schema (checked by hand below, no schema library).
#include "core/modelpack.h"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/manifest.h"

namespace modelreg {
namespace {

using nlohmann::json;

// Independent of the code under test: sha256("weights"), sha256("{}").
constexpr char kWeightsSha[] = "sha256:9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c";
constexpr char kBracesSha[] = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
constexpr char kBundleSha[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
constexpr char kCommit[] = "0123456789abcdef0123456789abcdef01234567";
constexpr int64_t kCreatedMs = 1796551200123;  // 2026-12-06T10:00:00.123Z

BundleFile File(const std::string& path, const std::string& content) {
  return BundleFile{path, Digest::Of(content), content.size()};
}

// A bundle as the server holds it: built, serialized and parsed back strictly.
Manifest Bundle(std::vector<BundleFile> files) {
  Descriptor config{kLineageMediaType, Digest::Of("{}"), 2, ""};
  auto m = ParseManifest(SerializeManifest(BuildManifest(kModelArtifactType, config, std::move(files))));
  REQUIRE(m.ok());
  return *m;
}

Manifest SampleBundle() {
  return Bundle({File("model.safetensors", "weights"), File("config.json", "{\"a\":1}"), File("README.md", "readme"),
                 File("train.py", "print(1)"), File("data/eval.csv", "a,b\n1,2\n"), File("blob.xyz", "???"),
                 File("tokenizer.json", "{}"), File("requirements.txt", "numpy\n"), File("LICENSE", "MIT")});
}

ModelPackInput Input(const Manifest& bundle, const LineageRecord* lineage) {
  ModelPackInput in;
  in.bundle = &bundle;
  in.lineage = lineage;
  in.model = "churn";
  in.version = 3;
  in.bundle_digest = kBundleSha;
  in.created_at_ms = kCreatedMs;
  in.created_by = "alice";
  return in;
}

LineageRecord FullLineage() {
  LineageRecord r;
  r.model = "churn";
  r.data = {DatasetRef{"eval", "s3://bucket/eval.parquet", std::nullopt},
            DatasetRef{"train", "s3://bucket/train.parquet", Digest::Of("t")}};
  r.code = CodeRef{"https://github.com/acme/churn", kCommit, "main", true, "train.py"};
  r.params = {{"lr", 0.1}, {"epochs", int64_t{6}}, {"opt", std::string("adam")}, {"warm", true}};
  r.metrics = {{"auc", 0.93}, {"loss", 0.25}};
  r.parent = Digest::Of("parent");
  return r;
}

ModelPackArtifact Build(const ModelPackInput& in) {
  auto a = BuildModelPack(in);
  INFO(a.status().ToString());
  REQUIRE(a.ok());
  return *a;
}

// The ModelPack config schema (modelpack/model-spec schema/config-schema.json, commit d78bf32),
// checked by hand: required properties, no additional properties, types, enum and minItems.
void CheckAgainstConfigSchema(const json& c) {
  REQUIRE(c.is_object());
  const std::set<std::string> top = {"descriptor", "modelfs", "config"};
  for (const auto& [k, v] : c.items()) CHECK(top.count(k) == 1);
  for (const auto& k : top) REQUIRE(c.contains(k));

  const json& d = c["descriptor"];
  REQUIRE(d.is_object());
  const std::set<std::string> strings = {"createdAt", "family",   "name",   "docURL", "sourceURL",
                                         "version",   "revision", "vendor", "title",  "description"};
  const std::set<std::string> arrays = {"authors", "datasetsURL", "licenses"};
  for (const auto& [k, v] : d.items()) {
    INFO("descriptor." << k);
    CHECK((strings.count(k) + arrays.count(k)) == 1);
    if (strings.count(k)) CHECK(v.is_string());
    if (arrays.count(k)) {
      REQUIRE(v.is_array());
      for (const auto& x : v) CHECK(x.is_string());
    }
  }
  if (d.contains("name")) CHECK(!d["name"].get<std::string>().empty());  // minLength 1
  if (d.contains("createdAt")) {                                         // format date-time (RFC 3339)
    static const std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))");
    CHECK(std::regex_match(d["createdAt"].get<std::string>(), rfc3339));
  }

  const json& mc = c["config"];
  REQUIRE(mc.is_object());
  const std::set<std::string> config_strings = {"architecture", "format", "paramSize", "precision", "quantization"};
  for (const auto& [k, v] : mc.items()) {
    INFO("config." << k);
    CHECK((config_strings.count(k) == 1 || k == "capabilities"));
    if (config_strings.count(k)) CHECK(v.is_string());
  }

  const json& fs = c["modelfs"];
  REQUIRE(fs.is_object());
  for (const auto& [k, v] : fs.items()) CHECK((k == "type" || k == "diffIds"));
  REQUIRE(fs.contains("type"));
  CHECK(fs["type"] == "layers");  // enum ["layers"]
  REQUIRE(fs.contains("diffIds"));
  REQUIRE(fs["diffIds"].is_array());
  CHECK(fs["diffIds"].size() >= 1);  // minItems 1
  for (const auto& x : fs["diffIds"]) CHECK(x.is_string());
}

TEST_CASE("ModelPack: the exact bytes of a one-file version", "[core][modelpack]") {
  Manifest bundle = Bundle({File("model.safetensors", "weights")});
  LineageRecord none;
  ModelPackArtifact a = Build(Input(bundle, &none));
  const std::string config = std::string(R"({"config":{"format":"safetensors"},)") +
                             R"("descriptor":{"authors":["alice"],"createdAt":"2026-12-06T10:00:00.123Z",)" +
                             R"("name":"churn","version":"3"},)" + R"("modelfs":{"diffIds":[")" + kWeightsSha +
                             R"("],"type":"layers"}})";
  CHECK(a.config == config);
  // sha256 of those 252 bytes, computed outside (python3 hashlib).
  CHECK(a.config_digest.str() == "sha256:6ec21997acb6fc37355ee3c3b143c67823a2f7b4939c5a8a26c62786f60e4d30");
  const std::string manifest =
      std::string(R"({"annotations":{"org.modelreg.bundle.digest":")") + kBundleSha +
      R"(","org.modelreg.lineage.digest":")" + kBracesSha +
      R"(","org.opencontainers.image.authors":"alice","org.opencontainers.image.created":"2026-12-06T10:00:00.123Z",)" +
      R"("org.opencontainers.image.version":"3"},"artifactType":"application/vnd.cncf.model.manifest.v1+json",)" +
      R"("config":{"digest":"sha256:6ec21997acb6fc37355ee3c3b143c67823a2f7b4939c5a8a26c62786f60e4d30",)" +
      R"("mediaType":"application/vnd.cncf.model.config.v1+json","size":252},)" +
      R"("layers":[{"annotations":{"org.cncf.model.filepath":"model.safetensors",)" +
      R"("org.opencontainers.image.title":"model.safetensors"},"digest":")" + kWeightsSha +
      R"(","mediaType":"application/vnd.cncf.model.weight.v1.raw","size":7}],)" +
      R"("mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2})";
  CHECK(a.manifest == manifest);
  CHECK(a.manifest_digest == Digest::Of(manifest));
}

TEST_CASE("ModelPack: layers are the bundle's blobs, typed by path", "[core][modelpack]") {
  Manifest bundle = SampleBundle();
  LineageRecord none;
  ModelPackArtifact a = Build(Input(bundle, &none));
  json m = json::parse(a.manifest);
  const json& layers = m["layers"];
  REQUIRE(layers.size() == bundle.layers.size());
  std::map<std::string, std::string> types;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Descriptor& b = bundle.layers[i];
    INFO(b.title);
    CHECK(layers[i]["digest"] == b.digest.str());
    CHECK(layers[i]["size"] == b.size);
    CHECK(layers[i]["annotations"][kModelPackFilepathAnnotation] == b.title);
    CHECK(layers[i]["annotations"][kOciTitleAnnotation] == b.title);
    CHECK(layers[i]["mediaType"] == ModelPackLayerMediaType(b.title));
    types[b.title] = layers[i]["mediaType"];
    // Only the file no rule knows is marked as a guess.
    CHECK(layers[i]["annotations"].contains(kModelPackUntestedAnnotation) == (b.title == "blob.xyz"));
  }
  CHECK(types["model.safetensors"] == "application/vnd.cncf.model.weight.v1.raw");
  CHECK(types["blob.xyz"] == "application/vnd.cncf.model.weight.v1.raw");
  CHECK(types["config.json"] == "application/vnd.cncf.model.weight.config.v1.raw");
  CHECK(types["tokenizer.json"] == "application/vnd.cncf.model.weight.config.v1.raw");
  CHECK(types["README.md"] == "application/vnd.cncf.model.doc.v1.raw");
  CHECK(types["LICENSE"] == "application/vnd.cncf.model.doc.v1.raw");
  CHECK(types["train.py"] == "application/vnd.cncf.model.code.v1.raw");
  CHECK(types["requirements.txt"] == "application/vnd.cncf.model.code.v1.raw");
  CHECK(types["data/eval.csv"] == "application/vnd.cncf.model.dataset.v1.raw");
  CHECK(layers[layers.size() - 1]["annotations"]["org.cncf.model.filepath"] == "train.py");  // bundle order kept
}

TEST_CASE("ModelPack: diffIds are the layer digests in layer order", "[core][modelpack]") {
  // Two files with the same content: each layer keeps its place and its diffId.
  Manifest bundle = Bundle({File("b.bin", "same"), File("a.bin", "same"), File("c.onnx", "other")});
  LineageRecord none;
  ModelPackArtifact a = Build(Input(bundle, &none));
  json m = json::parse(a.manifest);
  json c = json::parse(a.config);
  const json& ids = c["modelfs"]["diffIds"];
  REQUIRE(ids.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(ids[i] == m["layers"][i]["digest"]);
    CHECK(ids[i] == bundle.layers[i].digest.str());
  }
  CHECK(ids[0] == Digest::Of("same").str());
  CHECK(ids[1] == Digest::Of("same").str());
  CHECK(ids[2] == Digest::Of("other").str());
  CHECK(c["modelfs"]["type"] == "layers");
}

TEST_CASE("ModelPack: the manifest is an OCI image manifest with the ModelPack config", "[core][modelpack]") {
  Manifest bundle = SampleBundle();
  LineageRecord lineage = FullLineage();
  ModelPackArtifact a = Build(Input(bundle, &lineage));
  json m = json::parse(a.manifest);
  CHECK(m["schemaVersion"] == 2);
  CHECK(m["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(m["artifactType"] == "application/vnd.cncf.model.manifest.v1+json");
  CHECK(m["artifactType"] == kModelPackArtifactType);
  CHECK(m["config"]["mediaType"] == "application/vnd.cncf.model.config.v1+json");
  CHECK(m["config"]["digest"] == Digest::Of(a.config).str());
  CHECK(m["config"]["digest"] == a.config_digest.str());
  CHECK(m["config"]["size"] == a.config.size());
  CHECK(a.manifest_digest == Digest::Of(a.manifest));
  // Serialized like the bundle manifest: no whitespace, sorted keys (dump() gives the same).
  CHECK(m.dump() == a.manifest);
  CHECK(json::parse(a.config).dump() == a.config);
  // The bundle manifest is not a ModelPack manifest and stays what it was.
  CHECK(ParseManifest(a.manifest).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("ModelPack: the same input gives the same bytes", "[core][modelpack]") {
  Manifest bundle = SampleBundle();
  LineageRecord lineage = FullLineage();
  ModelPackArtifact a = Build(Input(bundle, &lineage));
  Manifest bundle2 = SampleBundle();
  LineageRecord lineage2 = FullLineage();
  ModelPackArtifact b = Build(Input(bundle2, &lineage2));
  CHECK(a.config == b.config);
  CHECK(a.manifest == b.manifest);
  CHECK(a.manifest_digest == b.manifest_digest);
  // And every fact changes the bytes.
  ModelPackInput in = Input(bundle, &lineage);
  in.version = 4;
  CHECK(Build(in).manifest_digest != a.manifest_digest);
  in = Input(bundle, &lineage);
  in.bundle_digest = kBracesSha;
  CHECK(Build(in).manifest_digest != a.manifest_digest);
}

TEST_CASE("ModelPack: the lineage fills descriptor and annotations", "[core][modelpack]") {
  Manifest bundle = SampleBundle();
  LineageRecord lineage = FullLineage();
  ModelPackArtifact a = Build(Input(bundle, &lineage));
  json c = json::parse(a.config);
  const json& d = c["descriptor"];
  CHECK(d["name"] == "churn");
  CHECK(d["version"] == "3");
  CHECK(d["createdAt"] == "2026-12-06T10:00:00.123Z");
  CHECK(d["authors"] == json::array({"alice"}));
  CHECK(d["sourceURL"] == "https://github.com/acme/churn");
  CHECK(d["revision"] == kCommit);
  CHECK(d["datasetsURL"] == json::array({"s3://bucket/eval.parquet", "s3://bucket/train.parquet"}));
  CheckAgainstConfigSchema(c);

  json ann = json::parse(a.manifest)["annotations"];
  CHECK(ann["org.opencontainers.image.source"] == "https://github.com/acme/churn");
  CHECK(ann["org.opencontainers.image.revision"] == kCommit);
  CHECK(ann["org.opencontainers.image.version"] == "3");
  CHECK(ann["org.opencontainers.image.created"] == "2026-12-06T10:00:00.123Z");
  CHECK(ann["org.opencontainers.image.authors"] == "alice");
  CHECK(ann["org.modelreg.bundle.digest"] == kBundleSha);
  CHECK(ann["org.modelreg.lineage.digest"] == bundle.config.digest.str());
  CHECK(ann["org.modelreg.code.dirty"] == "true");
  CHECK(ann["org.modelreg.code.branch"] == "main");
  CHECK(ann["org.modelreg.code.entrypoint"] == "train.py");
  CHECK(ann["org.modelreg.parent"] == Digest::Of("parent").str());
  // Params and metrics: the config schema has no place for them; a JSON object as a string.
  REQUIRE(ann[kModelPackParamsAnnotation].is_string());
  CHECK(json::parse(ann[kModelPackParamsAnnotation].get<std::string>()) ==
        json{{"lr", 0.1}, {"epochs", 6}, {"opt", "adam"}, {"warm", true}});
  REQUIRE(ann[kModelPackMetricsAnnotation].is_string());
  CHECK(json::parse(ann[kModelPackMetricsAnnotation].get<std::string>()) == json{{"auc", 0.93}, {"loss", 0.25}});
  for (const auto& [k, v] : ann.items()) CHECK(v.is_string());  // OCI annotations are string-string
}

TEST_CASE("ModelPack: without lineage facts only the version facts are filled", "[core][modelpack]") {
  Manifest bundle = SampleBundle();
  const LineageRecord empty;
  for (const LineageRecord* lineage : {static_cast<const LineageRecord*>(nullptr), &empty}) {
    ModelPackInput in = Input(bundle, lineage);
    in.created_at_ms = 0;
    in.created_by.clear();
    ModelPackArtifact a = Build(in);
    json c = json::parse(a.config);
    CHECK(c["descriptor"] == json{{"name", "churn"}, {"version", "3"}});
    CheckAgainstConfigSchema(c);
    json ann = json::parse(a.manifest)["annotations"];
    std::set<std::string> keys;
    for (const auto& [k, v] : ann.items()) keys.insert(k);
    CHECK(keys == std::set<std::string>{"org.modelreg.bundle.digest", "org.modelreg.lineage.digest",
                                        "org.opencontainers.image.version"});
  }
}

TEST_CASE("ModelPack: config.format only when every weight agrees", "[core][modelpack]") {
  LineageRecord none;
  auto format = [&](std::vector<BundleFile> files) {
    Manifest bundle = Bundle(std::move(files));
    json c = json::parse(Build(Input(bundle, &none)).config);
    CheckAgainstConfigSchema(c);
    return c["config"].contains("format") ? c["config"]["format"].get<std::string>() : std::string("-");
  };
  CHECK(format({File("a.safetensors", "1"), File("b.safetensors", "2"), File("config.json", "{}")}) == "safetensors");
  CHECK(format({File("model.gguf", "1"), File("README.md", "r")}) == "gguf");
  CHECK(format({File("model.onnx", "1"), File("model.onnx_data", "2")}) == "onnx");
  CHECK(format({File("model.pth", "1")}) == "pt");
  CHECK(format({File("a.safetensors", "1"), File("b.onnx", "2")}) == "-");
  CHECK(format({File("model.pkl", "1")}) == "-");
  CHECK(format({File("a.safetensors", "1"), File("mystery", "2")}) == "-");
  CHECK(format({File("README.md", "r")}) == "-");
}

TEST_CASE("ModelPack: a version without files has no ModelPack form", "[core][modelpack]") {
  // modelfs.diffIds has minItems 1 in the ModelPack config schema: no valid artifact exists.
  Manifest bundle = Bundle({});
  LineageRecord none;
  auto a = BuildModelPack(Input(bundle, &none));
  REQUIRE(!a.ok());
  CHECK(a.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(a.status().message(), Catch::Contains("no files"));
}

TEST_CASE("ModelPack: bad input is refused with a clear error", "[core][modelpack]") {
  Manifest bundle = SampleBundle();
  LineageRecord none;
  auto code = [](const ModelPackInput& in) { return BuildModelPack(in).status().code(); };
  auto message = [](const ModelPackInput& in) { return BuildModelPack(in).status().message(); };

  ModelPackInput in = Input(bundle, &none);
  in.bundle = nullptr;
  CHECK(code(in) == StatusCode::kInvalidArgument);

  Manifest dataset = bundle;
  dataset.artifact_type = kDatasetArtifactType;
  in = Input(dataset, &none);
  CHECK(code(in) == StatusCode::kInvalidArgument);
  CHECK_THAT(message(in), Catch::Contains("not a model"));

  in = Input(bundle, &none);
  in.model.clear();
  CHECK(code(in) == StatusCode::kInvalidArgument);

  in = Input(bundle, &none);
  in.version = -1;
  CHECK(code(in) == StatusCode::kInvalidArgument);

  in = Input(bundle, &none);
  in.created_at_ms = -5;
  CHECK(code(in) == StatusCode::kInvalidArgument);

  for (const char* bad :
       {"", "sha256:abc", "md5:0123", "SHA256:1111111111111111111111111111111111111111111111111111111111111111"}) {
    in = Input(bundle, &none);
    in.bundle_digest = bad;
    INFO(bad);
    CHECK(code(in) == StatusCode::kInvalidArgument);
    CHECK_THAT(message(in), Catch::Contains("bundle_digest"));
  }

  Manifest untitled = bundle;
  untitled.layers[2].title.clear();
  in = Input(untitled, &none);
  CHECK(code(in) == StatusCode::kInvalidArgument);
  CHECK_THAT(message(in), Catch::Contains("layer 2 has no path"));
}

TEST_CASE("ModelPackLayerMediaType: the documented table", "[core][modelpack]") {
  const std::string weight = "application/vnd.cncf.model.weight.v1.raw";
  const std::string wconfig = "application/vnd.cncf.model.weight.config.v1.raw";
  const std::string doc = "application/vnd.cncf.model.doc.v1.raw";
  const std::string code = "application/vnd.cncf.model.code.v1.raw";
  const std::string dataset = "application/vnd.cncf.model.dataset.v1.raw";
  const std::vector<std::pair<std::string, std::string>> table = {
      // weights
      {"model.safetensors", weight},
      {"shards/model-00001-of-00002.safetensors", weight},
      {"pytorch_model.bin", weight},
      {"model.pt", weight},
      {"model.PTH", weight},
      {"model.onnx", weight},
      {"model.gguf", weight},
      {"model.pkl", weight},
      {"model.joblib", weight},
      {"model.h5", weight},
      {"saved_model/saved_model.pb", weight},
      {"saved_model/variables/variables.data-00000-of-00001", weight},
      {"saved_model/variables/variables.index", weight},
      {"model.tflite", weight},
      {"arrays.npz", weight},
      {"model.xgb.ubj", weight},
      {"weights/custom.model", weight},
      // weight configs
      {"config.json", wconfig},
      {"generation_config.json", wconfig},
      {"tokenizer.json", wconfig},
      {"tokenizer_config.json", wconfig},
      {"params.yaml", wconfig},
      {"hparams.yml", wconfig},
      {"vocab.txt", wconfig},
      {"merges.txt", wconfig},
      {"tokenizer.model", wconfig},
      {"sentencepiece.bpe.model", wconfig},
      {"cl100k.tiktoken", wconfig},
      {"chat_template.jinja", wconfig},
      {"MLmodel", wconfig},
      // docs
      {"README", doc},
      {"README.md", doc},
      {"readme.rst", doc},
      {"LICENSE", doc},
      {"LICENSE-APACHE", doc},
      {"COPYING.LESSER", doc},
      {"NOTICE", doc},
      {"docs/usage.md", doc},
      {"notes.txt", doc},
      {"paper.pdf", doc},
      // code
      {"train.py", code},
      {"readme.py", code},
      {"scripts/run.sh", code},
      {"analysis.ipynb", code},
      {"requirements.txt", code},
      {"requirements-dev.txt", code},
      {"conda.yaml", code},
      {"python_env.yaml", code},
      {"Dockerfile", code},
      {"pyproject.toml", code},
      // datasets
      {"data/eval.csv", dataset},
      {"data/train.parquet", dataset},
      {"samples.jsonl", dataset},
      // anything else: weight (untested)
      {"mystery", weight},
      {"model.xyz", weight},
      {".gitattributes", weight},
      {"dir.v2/noext", weight},
  };
  for (const auto& [path, type] : table) {
    INFO(path);
    CHECK(ModelPackLayerMediaType(path) == type);
  }
  CHECK(ClassifyModelPackLayer("mystery").untested);
  CHECK(ClassifyModelPackLayer("dir.v2/noext").untested);
  CHECK(!ClassifyModelPackLayer("model.safetensors").untested);
  CHECK(!ClassifyModelPackLayer("README").untested);
}

}  // namespace
}  // namespace modelreg
