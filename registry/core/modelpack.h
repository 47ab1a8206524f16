// A registered model version as a CNCF ModelPack artifact (docs/architecture.md): a second
// OCI image manifest over the very blobs of the version's bundle, with the ModelPack config.
//
// Contract. BuildModelPack is pure and deterministic: the same input always gives the same
// config and manifest bytes (nlohmann::json, sorted keys, no whitespace, like the bundle
// manifest), hence the same digests. Nothing is re-hashed and nothing is stored: each layer is
// the bundle's layer for the same file, with the same digest and size, in the bundle's order
// (sorted by path). The bundle and its digest are untouched: this is an extra, derived view.
// Thread-safe.
//
// What comes from where (CNCF ModelPack model-spec: docs/spec.md, docs/config.md,
// docs/annotations.md, specs-go/v1/*.go, schema/config-schema.json):
//   manifest  mediaType   application/vnd.oci.image.manifest.v1+json        (spec.md)
//             artifactType kModelPackArtifactType                            (spec.md, mediatype.go)
//             config      mediaType kModelPackConfigMediaType               (spec.md, config.md)
//             layers[i]   the bundle's layer i: digest, size; mediaType by ModelPackLayerMediaType;
//                         annotations org.cncf.model.filepath = the file's path (annotations.md)
//                         and org.opencontainers.image.title = the same path (as in the bundle);
//                         org.cncf.model.file.mediatype.untested = "true" when the path matched
//                         no rule of the table below (annotations.md: "inferred or assumed").
//             annotations org.opencontainers.image.created/.version/.authors/.source/.revision
//                         (OCI image-spec annotations) and org.modelreg.* below.
//   config    descriptor.name      = model            descriptor.version  = "<version>"
//             descriptor.createdAt = created_at_ms, RFC 3339 UTC with milliseconds (omitted if 0)
//             descriptor.authors   = [created_by] (omitted if empty)
//             descriptor.sourceURL = lineage.code.repo   descriptor.revision = lineage.code.commit
//             descriptor.datasetsURL = the lineage's dataset URIs, in the record's order (by name)
//             config.format        = the weights' format when every weight file says the same
//                                    one by its extension (safetensors, gguf, onnx, pt, tflite,
//                                    keras); omitted otherwise
//             modelfs.type = "layers", modelfs.diffIds = the layer digests in layer order (a raw
//                                    layer is not an archive: its content hash is its diffId;
//                                    modctl's builder writes its layer digests there too)
//   The config schema allows no extra properties, so what the ModelPack config has no place
//   for goes into manifest annotations, values as strings:
//     org.modelreg.bundle.digest    the version's bundle manifest digest (the governed artifact)
//     org.modelreg.lineage.digest   the lineage record's digest (the bundle's config blob)
//     org.modelreg.params+json      lineage.params as a JSON object (omitted if empty)
//     org.modelreg.metrics+json     lineage.metrics as a JSON object (omitted if empty)
//     org.modelreg.code.dirty       "true"/"false" (with code), .code.branch, .code.entrypoint
//                                   (when set), org.modelreg.parent (the parent's bundle digest)
//
// Errors (InvalidArgument unless said): no bundle; a bundle that is not a model
// (artifactType kModelArtifactType); an empty model name; a negative version or created_at_ms;
// a bundle_digest that is not a digest; a layer without a path. A bundle without files is
// FailedPrecondition: the ModelPack config schema requires at least one diffId
// (modelfs.diffIds minItems 1), so there is no valid ModelPack artifact to give. A null
// lineage is read as an empty record (a version registered without lineage facts).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/digest.h"
#include "core/lineage_record.h"
#include "core/manifest.h"
#include "core/status.h"

namespace modelreg {

inline constexpr char kModelPackArtifactType[] = "application/vnd.cncf.model.manifest.v1+json";
inline constexpr char kModelPackConfigMediaType[] = "application/vnd.cncf.model.config.v1+json";
// Layer media types for unarchived, uncompressed files (spec.md "layers", mediatype.go *Raw).
inline constexpr char kModelPackWeightMediaType[] = "application/vnd.cncf.model.weight.v1.raw";
inline constexpr char kModelPackWeightConfigMediaType[] = "application/vnd.cncf.model.weight.config.v1.raw";
inline constexpr char kModelPackDocMediaType[] = "application/vnd.cncf.model.doc.v1.raw";
inline constexpr char kModelPackCodeMediaType[] = "application/vnd.cncf.model.code.v1.raw";
inline constexpr char kModelPackDatasetMediaType[] = "application/vnd.cncf.model.dataset.v1.raw";
// Layer annotation keys (annotations.md, annotations.go).
inline constexpr char kModelPackFilepathAnnotation[] = "org.cncf.model.filepath";
inline constexpr char kModelPackUntestedAnnotation[] = "org.cncf.model.file.mediatype.untested";
// modelreg's own manifest annotation keys (see above).
inline constexpr char kModelPackBundleDigestAnnotation[] = "org.modelreg.bundle.digest";
inline constexpr char kModelPackLineageDigestAnnotation[] = "org.modelreg.lineage.digest";
inline constexpr char kModelPackParamsAnnotation[] = "org.modelreg.params+json";
inline constexpr char kModelPackMetricsAnnotation[] = "org.modelreg.metrics+json";

struct ModelPackInput {
  const Manifest* bundle = nullptr;        // the version's parsed bundle manifest
  const LineageRecord* lineage = nullptr;  // its parsed lineage record (the bundle's config)
  std::string model;                       // model name
  int64_t version = 0;                     // version number
  std::string bundle_digest;               // sha256:... of the bundle manifest
  int64_t created_at_ms = 0;
  std::string created_by;
};

struct ModelPackArtifact {
  std::string config;  // the ModelPack config JSON bytes
  Digest config_digest;
  std::string manifest;  // the OCI image manifest bytes (artifactType kModelPackArtifactType)
  Digest manifest_digest;
};

Result<ModelPackArtifact> BuildModelPack(const ModelPackInput& in);

// How a bundle file is classified. The rules look at the file's base name, ASCII
// case-insensitively; the first that matches wins:
//   1. code, by name: requirements*.txt, constraints*.txt, conda.yaml/.yml,
//      environment.yaml/.yml, python_env.yaml, pyproject.toml, setup.cfg, Pipfile*,
//      Dockerfile*, Makefile*, CMakeLists.txt
//   2. weight config, by name: tokenizer files that would otherwise look like docs or weights
//      (vocab.txt, merges.txt, added_tokens.txt, special_tokens_map.txt, labels.txt,
//      tokenizer.model, spiece.model, sentencepiece*.model, *.tiktoken, chat_template.jinja),
//      MLmodel (MLflow's model descriptor)
//   3. doc, by name: README*, LICENSE*, LICENCE*, NOTICE*, COPYING*, CHANGELOG*, MODEL_CARD*,
//      MODELCARD*, unless the extension below says otherwise (readme.py is code)
//   4. by extension:
//      weight:        safetensors bin pt pth pt2 ptl ckpt onnx onnx_data gguf ggml pkl pickle
//                     joblib h5 hdf5 keras pb tflite npz npy msgpack mlmodel engine plan trt
//                     model ot cbm ubj caffemodel index; also *.data-* (TensorFlow checkpoints)
//      weight config: json json5 yaml yml toml ini cfg conf jinja xml
//      doc:           md txt rst pdf html htm
//      code:          py ipynb sh bash r jl js ts go rs c cc cpp h hpp cu java scala lua sql
//                     patch
//      dataset:       csv tsv parquet arrow feather jsonl tfrecord avro
//   5. anything else: weight, marked untested. A modelreg bundle is a model's files; a file
//      no rule knows is most likely the model itself in a format the table lacks (a custom
//      serializer, a framework's own extension). Tools that select layers by type (a serving
//      runtime mounting only weights and their config) must not lose it, while a document
//      mistaken for a weight costs only its bytes. The untested annotation says it was a guess.
// The table follows modctl's (the ModelPack reference tool) where the two overlap.
struct ModelPackLayerClass {
  const char* media_type;  // one of kModelPack*MediaType above
  bool untested;           // true: no rule matched (rule 5)
};
ModelPackLayerClass ClassifyModelPackLayer(std::string_view path);

// The ModelPack media type a bundle file gets, by its path: ClassifyModelPackLayer's.
std::string ModelPackLayerMediaType(std::string_view path);

}  // namespace modelreg
