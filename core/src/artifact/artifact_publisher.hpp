// Publishing a build (`build-slurm --publish cache|all`): every cache entry of the plan goes to
// every remote writable layer (a writable layer whose type is not `local`) that lacks it, and with
// `all` the artifact, its `.asc`, provenance.json, SHA256SUMS and SHA256SUMS.asc go under
// "<toolchain>/<version>/<arch>/<file>" on those layers (docs/cache-format.md, "Artifacts").
// Only what a layer lacks is uploaded: an entry is there once its manifest is (put_to writes the
// manifest last); the artifact files are there when the layer's SHA256SUMS has the same bytes as
// ours and every file has our size. A layer that fails is recorded (layer, object, reason) and
// skipped for the rest of the run; the others still get everything, and throw_if_failed() then
// reports all failures at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cache/cache_entry.hpp"
#include "cache/cache_manifest.hpp"
#include "config/build_request.hpp"
#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/expected.hpp"

namespace sf {

class CacheChain;
class GpgSigner;
struct CacheChainSetup;

// What one layer got.
struct LayerPublication {
  std::string layer;
  std::string location;                       // redacted URL
  std::vector<std::string> entries_uploaded;  // entry key bases
  std::vector<std::string> entries_present;
  std::vector<std::string> files_uploaded;  // artifact keys "<toolchain>/<version>/<arch>/<file>"
  std::vector<std::string> files_present;
  std::uint64_t bytes_uploaded = 0;
  std::string failed_object;  // the first failure (empty: none)
  std::string failure;
  bool off = false;  // the layer itself failed: nothing more went to it
};

struct PublishReport {
  std::vector<LayerPublication> layers;
  std::size_t uploaded() const;  // entries + artifact files uploaded, over all layers
  bool failed() const;
  nlohmann::json to_json() const;
};

// The layers `--publish` writes to: writable in the config, not of type `local`, and whose
// provider takes writes (an http layer never does). Order of the chain.
std::vector<CacheProvider*> publish_targets(const CacheChainSetup& setup);

// UsageError for `--publish POLICY` without any such layer: says how to add one (a config snippet
// for an s3 layer) and lists the configured layers.
[[noreturn]] void throw_no_publish_target(const CacheChainSetup& setup, PublishPolicy policy);

// "<toolchain>/<version>/<arch>/": where `--publish all` puts an artifact's files on a layer.
std::string artifact_publish_prefix(const std::string& toolchain, const std::string& version,
                                    const std::string& arch);

// The files `--publish all` uploads for `artifact`, in upload order: the artifact, "<artifact>.asc"
// when present, its provenance.json, SHA256SUMS, then SHA256SUMS.asc when present (the directory
// is complete once its signature is there).
std::vector<std::filesystem::path> artifact_publish_files(const std::filesystem::path& artifact);

class ArtifactPublisher {
 public:
  // Called for each upload: layer name, key, bytes.
  using UploadSink = std::function<void(const std::string&, const std::string&, std::uint64_t)>;
  // Entry files, asked for only when some layer lacks the entry (a Failure when there are none).
  using EntrySource = std::function<Expected<CacheEntryFiles>()>;

  // `chain` writes entries (CacheChain::put_to); `targets` are the layers to publish to;
  // `scratch` holds downloaded SHA256SUMS (created on demand, removed by the caller); `signer`
  // signs a SHA256SUMS merged with a layer's (nullptr: the merged list goes up unsigned).
  ArtifactPublisher(CacheChain& chain, std::vector<CacheProvider*> targets,
                    std::filesystem::path scratch, const GpgSigner* signer = nullptr,
                    UploadSink on_upload = {});

  // Uploads the entry to every target that has no manifest for it.
  void publish_entry(const CacheEntryKey& key, const EntrySource& files);
  // Uploads `files` (artifact_publish_files) under `prefix` to every target that does not hold
  // the same SHA256SUMS and files of the same sizes; without a SHA256SUMS among them every file
  // is uploaded. A layer's SHA256SUMS that lists other artifacts of the directory (still there)
  // is merged with ours (our lines win) and signed again with `signer`.
  void publish_files(const std::string& prefix, const std::vector<std::filesystem::path>& files);

  const PublishReport& report() const { return report_; }
  // CacheError (exit 8) naming every failed layer, the object that failed and the reason; the
  // remediation says the artifact stays at `artifact` and how to publish again.
  void throw_if_failed(const std::filesystem::path& artifact) const;

 private:
  LayerPublication& record(std::size_t i) { return report_.layers[i]; }
  void fail(std::size_t i, const std::string& object, const Failure& why, bool layer_off = true);

  CacheChain& chain_;
  std::vector<CacheProvider*> targets_;
  std::filesystem::path scratch_;
  const GpgSigner* signer_ = nullptr;
  UploadSink on_upload_;
  PublishReport report_;
};

// Publishes the plan's entries (`keys`, in plan order) with `publisher`: each from this run's
// verified copy under `local_entries` when it is there ("": no such copies), else fetched through
// `chain` into <scratch>/entries; an entry in neither is a failure naming how to rebuild it with
// `--publish policy`.
void publish_entries(ArtifactPublisher& publisher, CacheChain& chain,
                     const std::vector<CacheEntryKey>& keys,
                     const std::filesystem::path& local_entries,
                     const std::filesystem::path& scratch, PublishPolicy policy);

}  // namespace sf
