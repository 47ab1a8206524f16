#include "core/modelpack.h"

#include <array>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/clock.h"
#include "core/param_json.h"

namespace modelreg {
namespace {
using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

template <size_t N>
bool OneOf(std::string_view s, const std::array<std::string_view, N>& set) {
  for (auto x : set)
    if (s == x) return true;
  return false;
}

template <size_t N>
bool PrefixOneOf(std::string_view s, const std::array<std::string_view, N>& set) {
  for (auto x : set)
    if (StartsWith(s, x)) return true;
  return false;
}

// The base name, lowercased, and its extension (after the last dot; none for ".hidden").
struct Name {
  std::string base;
  std::string ext;
};

Name SplitName(std::string_view path) {
  size_t slash = path.rfind('/');
  Name n{Lower(slash == std::string_view::npos ? path : path.substr(slash + 1)), ""};
  size_t dot = n.base.rfind('.');
  if (dot != std::string::npos && dot != 0) n.ext = n.base.substr(dot + 1);
  return n;
}

constexpr std::array<std::string_view, 8> kCodeNames = {"conda.yaml",      "conda.yml",       "environment.yaml",
                                                        "environment.yml", "python_env.yaml", "pyproject.toml",
                                                        "setup.cfg",       "cmakelists.txt"};
constexpr std::array<std::string_view, 3> kCodePrefixes = {"pipfile", "dockerfile", "makefile"};
constexpr std::array<std::string_view, 8> kWeightConfigNames = {
    "vocab.txt",  "merges.txt",      "added_tokens.txt", "special_tokens_map.txt",
    "labels.txt", "tokenizer.model", "spiece.model",     "chat_template.jinja"};
constexpr std::array<std::string_view, 8> kDocPrefixes = {"readme",  "license",   "licence",    "notice",
                                                          "copying", "changelog", "model_card", "modelcard"};
constexpr std::array<std::string_view, 32> kWeightExts = {
    "safetensors", "bin",    "pt",     "pth", "pt2",   "ptl",   "ckpt", "onnx",   "onnx_data",  "gguf", "ggml",
    "pkl",         "pickle", "joblib", "h5",  "hdf5",  "keras", "pb",   "tflite", "npz",        "npy",  "msgpack",
    "mlmodel",     "engine", "plan",   "trt", "model", "ot",    "cbm",  "ubj",    "caffemodel", "index"};
constexpr std::array<std::string_view, 10> kWeightConfigExts = {"json", "json5", "yaml", "yml",   "toml",
                                                                "ini",  "cfg",   "conf", "jinja", "xml"};
constexpr std::array<std::string_view, 6> kDocExts = {"md", "txt", "rst", "pdf", "html", "htm"};
constexpr std::array<std::string_view, 21> kCodeExts = {"py",  "ipynb", "sh",   "bash",  "r",   "jl",  "js",
                                                        "ts",  "go",    "rs",   "c",     "cc",  "cpp", "h",
                                                        "hpp", "cu",    "java", "scala", "lua", "sql", "patch"};
constexpr std::array<std::string_view, 8> kDatasetExts = {"csv",     "tsv",   "parquet",  "arrow",
                                                          "feather", "jsonl", "tfrecord", "avro"};

bool IsCodeName(const Name& n) {
  if (OneOf(n.base, kCodeNames)) return true;
  // requirements*.txt / constraints*.txt only: "requirements.md" is a document.
  if ((StartsWith(n.base, "requirements") || StartsWith(n.base, "constraints")) && n.ext == "txt") return true;
  return PrefixOneOf(n.base, kCodePrefixes);
}

bool IsWeightConfigName(const Name& n) {
  if (OneOf(n.base, kWeightConfigNames) || n.ext == "tiktoken" || n.base == "mlmodel") return true;
  return StartsWith(n.base, "sentencepiece") && n.ext == "model";
}

// The format a weight file says by its extension (docs/config.md "format"), if it says one.
std::optional<std::string> WeightFormat(std::string_view path) {
  Name n = SplitName(path);
  if (n.ext == "safetensors") return "safetensors";
  if (n.ext == "gguf") return "gguf";
  if (n.ext == "onnx" || n.ext == "onnx_data") return "onnx";
  if (n.ext == "pt" || n.ext == "pth" || n.ext == "pt2") return "pt";
  if (n.ext == "tflite") return "tflite";
  if (n.ext == "keras") return "keras";
  return std::nullopt;
}

json DescriptorJson(const std::string& media_type, const Digest& digest, uint64_t size) {
  return json{{"mediaType", media_type}, {"digest", digest.str()}, {"size", size}};
}

}  // namespace

ModelPackLayerClass ClassifyModelPackLayer(std::string_view path) {
  const Name n = SplitName(path);
  if (IsCodeName(n)) return {kModelPackCodeMediaType, false};
  if (IsWeightConfigName(n)) return {kModelPackWeightConfigMediaType, false};
  const char* by_ext = nullptr;
  if (OneOf(n.ext, kWeightExts) || StartsWith(n.ext, "data-")) by_ext = kModelPackWeightMediaType;
  else if (OneOf(n.ext, kWeightConfigExts)) by_ext = kModelPackWeightConfigMediaType;
  else if (OneOf(n.ext, kDocExts)) by_ext = kModelPackDocMediaType;
  else if (OneOf(n.ext, kCodeExts)) by_ext = kModelPackCodeMediaType;
  else if (OneOf(n.ext, kDatasetExts)) by_ext = kModelPackDatasetMediaType;
  // README, LICENSE-APACHE, COPYING.LESSER, NOTICE.md: documents; readme.py is code.
  if (PrefixOneOf(n.base, kDocPrefixes) && (by_ext == nullptr || by_ext == kModelPackDocMediaType))
    return {kModelPackDocMediaType, false};
  if (by_ext != nullptr) return {by_ext, false};
  return {kModelPackWeightMediaType, true};
}

std::string ModelPackLayerMediaType(std::string_view path) { return ClassifyModelPackLayer(path).media_type; }

Result<ModelPackArtifact> BuildModelPack(const ModelPackInput& in) {
  if (in.bundle == nullptr) return Status::InvalidArgument("modelpack: no bundle manifest");
  const Manifest& bundle = *in.bundle;
  if (bundle.artifact_type != kModelArtifactType)
    return Status::InvalidArgument("modelpack: the bundle is a " + bundle.artifact_type + ", not a model (" +
                                   kModelArtifactType + ")");
  if (in.model.empty()) return Status::InvalidArgument("modelpack: empty model name");
  if (in.version < 0) return Status::InvalidArgument("modelpack: negative version " + std::to_string(in.version));
  if (in.created_at_ms < 0)
    return Status::InvalidArgument("modelpack: negative created_at_ms " + std::to_string(in.created_at_ms));
  auto bundle_digest = Digest::Parse(in.bundle_digest);
  if (!bundle_digest.ok()) return bundle_digest.status().WithContext("modelpack: bundle_digest");
  if (bundle.layers.empty())
    return Status::FailedPrecondition("modelpack: model " + in.model + " version " + std::to_string(in.version) +
                                      " has no files; a ModelPack artifact needs at least one layer");
  static const LineageRecord kNoLineage;
  const LineageRecord& lineage = in.lineage != nullptr ? *in.lineage : kNoLineage;

  // Layers: the bundle's blobs as they are, typed for ModelPack.
  json layers = json::array();
  json diff_ids = json::array();
  std::optional<std::string> format;
  bool one_format = true;
  for (size_t i = 0; i < bundle.layers.size(); ++i) {
    const Descriptor& l = bundle.layers[i];
    if (l.title.empty())
      return Status::InvalidArgument("modelpack: bundle layer " + std::to_string(i) + " has no path");
    const ModelPackLayerClass cls = ClassifyModelPackLayer(l.title);
    json d = DescriptorJson(cls.media_type, l.digest, l.size);
    d["annotations"] = {{kModelPackFilepathAnnotation, l.title}, {kOciTitleAnnotation, l.title}};
    if (cls.untested) d["annotations"][kModelPackUntestedAnnotation] = "true";
    layers.push_back(std::move(d));
    diff_ids.push_back(l.digest.str());
    if (std::string_view(cls.media_type) == kModelPackWeightMediaType) {
      auto f = cls.untested ? std::nullopt : WeightFormat(l.title);
      if (!f || (format && *format != *f)) one_format = false;
      else format = f;
    }
  }

  // The config (docs/config.md): descriptor, config, modelfs; all three are required.
  json descriptor = {{"name", in.model}, {"version", std::to_string(in.version)}};
  if (in.created_at_ms > 0) descriptor["createdAt"] = FormatIsoTime(in.created_at_ms);
  if (!in.created_by.empty()) descriptor["authors"] = json::array({in.created_by});
  if (lineage.code) {
    if (!lineage.code->repo.empty()) descriptor["sourceURL"] = lineage.code->repo;
    if (!lineage.code->commit.empty()) descriptor["revision"] = lineage.code->commit;
  }
  json datasets = json::array();
  for (const auto& d : lineage.data)
    if (!d.uri.empty()) datasets.push_back(d.uri);
  if (!datasets.empty()) descriptor["datasetsURL"] = std::move(datasets);
  json model_config = json::object();
  if (one_format && format) model_config["format"] = *format;
  json config = {{"descriptor", std::move(descriptor)},
                 {"config", std::move(model_config)},
                 {"modelfs", {{"type", "layers"}, {"diffIds", std::move(diff_ids)}}}};

  ModelPackArtifact out{config.dump(), Digest::Of(""), "", Digest::Of("")};
  out.config_digest = Digest::Of(out.config);

  // Manifest annotations: OCI's pre-defined keys, then what the config has no place for.
  json ann = json::object();
  ann["org.opencontainers.image.version"] = std::to_string(in.version);
  if (in.created_at_ms > 0) ann["org.opencontainers.image.created"] = FormatIsoTime(in.created_at_ms);
  if (!in.created_by.empty()) ann["org.opencontainers.image.authors"] = in.created_by;
  ann[kModelPackBundleDigestAnnotation] = bundle_digest->str();
  ann[kModelPackLineageDigestAnnotation] = bundle.config.digest.str();
  if (lineage.code) {
    const CodeRef& c = *lineage.code;
    if (!c.repo.empty()) ann["org.opencontainers.image.source"] = c.repo;
    if (!c.commit.empty()) ann["org.opencontainers.image.revision"] = c.commit;
    ann["org.modelreg.code.dirty"] = c.dirty ? "true" : "false";
    if (!c.branch.empty()) ann["org.modelreg.code.branch"] = c.branch;
    if (!c.entrypoint.empty()) ann["org.modelreg.code.entrypoint"] = c.entrypoint;
  }
  if (lineage.parent) ann["org.modelreg.parent"] = lineage.parent->str();
  if (!lineage.params.empty()) {
    json p = json::object();
    for (const auto& [k, v] : lineage.params) p[k] = ParamJson(v);
    ann[kModelPackParamsAnnotation] = p.dump();
  }
  if (!lineage.metrics.empty()) {
    json m = json::object();
    for (const auto& [k, v] : lineage.metrics) m[k] = v;
    ann[kModelPackMetricsAnnotation] = m.dump();
  }

  json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifestMediaType},
                   {"artifactType", kModelPackArtifactType},
                   {"config", DescriptorJson(kModelPackConfigMediaType, out.config_digest, out.config.size())},
                   {"layers", std::move(layers)},
                   {"annotations", std::move(ann)}};
  out.manifest = manifest.dump();
  out.manifest_digest = Digest::Of(out.manifest);
  return out;
}

}  // namespace modelreg
