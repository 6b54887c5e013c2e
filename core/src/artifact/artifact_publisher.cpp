#include "artifact/artifact_publisher.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <map>
#include <sstream>

#include "artifact/artifact_checksums.hpp"
#include "artifact/artifact_verifier.hpp"
#include "cache/cache_chain.hpp"
#include "cache/cache_chain_factory.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/file_io.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

std::uint64_t size_of(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::uint64_t>(n);
}

std::uint64_t entry_bytes(const CacheEntryFiles& f) {
  std::uint64_t n = size_of(f.tarball) + size_of(f.manifest);
  if (!f.signature.empty()) n += size_of(f.signature);
  return n;
}

}  // namespace

std::size_t PublishReport::uploaded() const {
  std::size_t n = 0;
  for (const auto& l : layers) n += l.entries_uploaded.size() + l.files_uploaded.size();
  return n;
}

bool PublishReport::failed() const {
  for (const auto& l : layers)
    if (!l.failure.empty()) return true;
  return false;
}

nlohmann::json PublishReport::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& l : layers) {
    nlohmann::json j{{"layer", l.layer},
                     {"location", l.location},
                     {"entries_uploaded", l.entries_uploaded},
                     {"entries_present", l.entries_present},
                     {"files_uploaded", l.files_uploaded},
                     {"files_present", l.files_present},
                     {"bytes_uploaded", l.bytes_uploaded}};
    if (!l.failure.empty()) j["failure"] = {{"object", l.failed_object}, {"reason", l.failure}};
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<CacheProvider*> publish_targets(const CacheChainSetup& setup) {
  std::vector<CacheProvider*> out;
  for (CacheProvider* p : setup.chain->layers()) {
    const CacheLayerSpec* spec = setup.spec(p->name());
    if (spec == nullptr || !spec->writable || spec->type == "local" || !p->writable()) continue;
    out.push_back(p);
  }
  return out;
}

void throw_no_publish_target(const CacheChainSetup& setup, PublishPolicy policy) {
  std::string layers;
  for (const auto& l : setup.layers) {
    layers += (layers.empty() ? "" : ", ") + l.name + " (" + l.type +
              (l.writable ? "" : ", read-only") + ")";
  }
  throw UsageError(
      "--publish " + to_string(policy) +
          " needs a writable remote cache layer, and none is configured (configured layers: " +
          (layers.empty() ? std::string("none") : layers) + ")",
      {{"key", "cache.layers"}, {"stage", "publish"}},
      "add a writable s3 layer after the local one in your config (--config FILE or "
      "~/.config/slurm-factory/config.yaml), e.g.\n"
      "  cache:\n"
      "    layers:\n"
      "      - {name: local, type: local, url: \"file://${cache_dir}/cache\"}\n"
      "      - name: site-s3\n"
      "        type: s3\n"
      "        url: s3://my-bucket/slurm-factory\n"
      "        writable: true\n"
      "        settings: {endpoint: \"https://s3.example.org\", region: us-east-1}\n"
      "with credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (docs/cache-format.md), or "
      "build without --publish");
}

std::string artifact_publish_prefix(const std::string& toolchain, const std::string& version,
                                    const std::string& arch) {
  return toolchain + "/" + version + "/" + arch + "/";
}

std::vector<fs::path> artifact_publish_files(const fs::path& artifact) {
  std::vector<fs::path> out{artifact};
  std::error_code ec;
  const fs::path asc = fs::path(artifact.string() + ".asc");
  if (fs::is_regular_file(asc, ec)) out.push_back(asc);
  out.push_back(provenance_path_for(artifact));
  const fs::path dir = artifact.parent_path();
  out.push_back(dir / kChecksumsFile);
  if (fs::is_regular_file(dir / kChecksumsSignatureFile, ec)) {
    out.push_back(dir / kChecksumsSignatureFile);
  }
  return out;
}

ArtifactPublisher::ArtifactPublisher(CacheChain& chain, std::vector<CacheProvider*> targets,
                                     fs::path scratch, const GpgSigner* signer,
                                     UploadSink on_upload)
    : chain_(chain),
      targets_(std::move(targets)),
      scratch_(std::move(scratch)),
      signer_(signer),
      on_upload_(std::move(on_upload)) {
  for (CacheProvider* t : targets_) {
    LayerPublication l;
    l.layer = t->name();
    l.location = t->location();
    report_.layers.push_back(std::move(l));
  }
}

void ArtifactPublisher::fail(std::size_t i, const std::string& object, const Failure& why,
                             bool layer_off) {
  LayerPublication& l = record(i);
  if (l.off) return;
  l.off = layer_off;
  if (l.failure.empty()) {
    l.failed_object = object;
    l.failure = why.message;
  }
  if (layer_off) {
    log().warn("publish: layer '{}' ({}) failed on {}: {}; nothing more goes to it in this run",
               l.layer, l.location, object, why.message);
  } else {
    log().warn("publish: {} cannot go to layer '{}': {}", object, l.layer, why.message);
  }
}

void ArtifactPublisher::publish_entry(const CacheEntryKey& key, const EntrySource& source) {
  std::optional<Expected<CacheEntryFiles>> files;  // fetched once, when first needed
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (record(i).off) continue;
    CacheProvider& layer = *targets_[i];
    auto has = layer.has(key.manifest());
    if (!has) {
      fail(i, key.base(), has.error());
      continue;
    }
    if (*has) {
      record(i).entries_present.push_back(key.base());
      continue;
    }
    if (!files) files = source();
    if (!*files) {
      fail(i, key.base(), files->error(), false);  // the entry's trouble, not the layer's
      continue;
    }
    if (auto r = chain_.put_to(layer, key, **files); !r) {
      fail(i, key.base(), r.error());
      continue;
    }
    const std::uint64_t bytes = entry_bytes(**files);
    record(i).entries_uploaded.push_back(key.base());
    record(i).bytes_uploaded += bytes;
    if (on_upload_) on_upload_(layer.name(), key.base(), bytes);
  }
}

void ArtifactPublisher::publish_files(const std::string& prefix,
                                      const std::vector<fs::path>& files) {
  std::string local_sums;
  std::vector<ChecksumLine> local_lines;
  for (const auto& f : files) {
    if (f.filename() == kChecksumsFile) {
      local_sums = read_file(f);
      local_lines = parse_sha256sums(local_sums, f.string());
    }
  }
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (record(i).off) continue;
    CacheProvider& layer = *targets_[i];
    auto listed = layer.list(prefix);
    if (!listed) {
      fail(i, prefix, listed.error());
      continue;
    }
    std::map<std::string, std::uint64_t> remote;
    for (const auto& o : *listed) remote[o.key] = o.size;
    // The layer's SHA256SUMS may list other artifacts of the directory (another GPU flavour,
    // published from elsewhere): their lines are kept, ours replace the rest.
    const std::string sums_key = prefix + kChecksumsFile;
    std::string remote_sums;
    bool has_remote_sums = false;
    std::string merged = local_sums;
    const fs::path dir = scratch_ / layer.name();
    std::error_code ec;
    if (!local_sums.empty() && remote.count(sums_key) != 0U) {
      fs::create_directories(dir, ec);
      if (auto r = layer.get(sums_key, dir / "remote-SHA256SUMS"); !r) {
        fail(i, sums_key, r.error());
        continue;
      }
      remote_sums = read_file(dir / "remote-SHA256SUMS");
      has_remote_sums = true;
      std::vector<ChecksumLine> lines = local_lines;
      try {
        for (auto& l : parse_sha256sums(remote_sums, layer.name() + ":" + sums_key)) {
          bool ours = false;
          for (const auto& m : local_lines) ours = ours || m.file == l.file;
          if (!ours && remote.count(prefix + l.file) != 0U) lines.push_back(std::move(l));
        }
      } catch (const SlurmFactoryError& e) {
        log().warn("publish: {} on layer '{}' is malformed ({}); replacing it", sums_key,
                   layer.name(), e.what());
      }
      merged = format_sha256sums(std::move(lines));
    }
    const bool same_sums = has_remote_sums && remote_sums == merged;
    std::vector<fs::path> upload = files;
    if (merged != local_sums) {
      // Our SHA256SUMS plus the other artifacts' lines, signed again when we can sign (and only
      // when the layer does not hold that very list already).
      const fs::path sums = dir / kChecksumsFile;
      std::ofstream(sums, std::ios::binary | std::ios::trunc) << merged;
      std::vector<fs::path> replaced;
      for (const auto& f : files) {
        if (f.filename() == kChecksumsFile) {
          replaced.push_back(sums);
        } else if (f.filename() != kChecksumsSignatureFile) {
          replaced.push_back(f);
        }
      }
      const std::string asc_key = prefix + kChecksumsSignatureFile;
      if (same_sums && remote.count(asc_key) != 0U) {
        record(i).files_present.push_back(asc_key);
      } else if (signer_ != nullptr) {
        std::ofstream(dir / kChecksumsSignatureFile, std::ios::binary | std::ios::trunc)
            << signer_->sign_detached(merged);
        replaced.push_back(dir / kChecksumsSignatureFile);
      } else {
        log().warn(
            "publish: {} on layer '{}' lists other artifacts; the merged list goes up unsigned "
            "(no signing key)",
            sums_key, layer.name());
      }
      upload = std::move(replaced);
    }
    for (const auto& f : upload) {
      const std::string key = prefix + f.filename().string();
      const std::uint64_t size = size_of(f);
      const auto it = remote.find(key);
      if (same_sums && it != remote.end() && it->second == size) {
        record(i).files_present.push_back(key);
        continue;
      }
      if (auto r = layer.put(key, f); !r) {
        fail(i, key, r.error());
        break;
      }
      record(i).files_uploaded.push_back(key);
      record(i).bytes_uploaded += size;
      if (on_upload_) on_upload_(layer.name(), key, size);
    }
  }
}

void ArtifactPublisher::throw_if_failed(const fs::path& artifact) const {
  if (!report_.failed()) return;
  std::string what;
  ErrorContext context{{"stage", "publish"}};
  std::size_t failed = 0;
  for (const auto& l : report_.layers) {
    if (l.failure.empty()) continue;
    ++failed;
    what +=
        "\n  layer '" + l.layer + "' (" + l.location + "): " + l.failed_object + ": " + l.failure;
    context.emplace_back("layer", l.layer + " (" + l.location + ")");
    context.emplace_back("object", l.failed_object);
  }
  context.emplace_back("artifact", artifact.string());
  throw CacheError(
      "publishing failed on " + std::to_string(failed) + " of " +
          std::to_string(report_.layers.size()) + " layer(s):" + what,
      context,
      "the artifact and the local entries are kept; fix the layer (endpoint, bucket, "
      "credentials, permissions) and run the same build-slurm command again: it returns at once "
      "and uploads only what the layer lacks ('slurm-factory cache push --all --to LAYER' pushes "
      "the entries alone)");
}

void publish_entries(ArtifactPublisher& publisher, CacheChain& chain,
                     const std::vector<CacheEntryKey>& keys, const fs::path& local_entries,
                     const fs::path& scratch, PublishPolicy policy) {
  for (const auto& key : keys) {
    publisher.publish_entry(key, [&]() -> Expected<CacheEntryFiles> {
      std::error_code ec;
      if (!local_entries.empty()) {
        // This run's verified copy (built, or fetched from a layer).
        auto files = CacheEntryFiles::under(local_entries, key);
        if (fs::is_regular_file(files.tarball, ec) && fs::is_regular_file(files.manifest, ec)) {
          if (!fs::is_regular_file(files.signature, ec)) files.signature.clear();
          return files;
        }
      }
      if (auto hit = chain.get(key, scratch / "entries")) return hit->files;
      return Failure::not_found(
          "the entry is in no readable cache layer (rebuild it: build-slurm --no-cache "
          "--publish " +
          to_string(policy) + ")");
    });
  }
}

}  // namespace sf
