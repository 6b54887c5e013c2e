#include "cache/cache_chain.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/file_io.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

bool breaks_layer(const Failure& f) {
  return f.kind == Failure::Kind::kError || f.kind == Failure::Kind::kTimeout ||
         f.kind == Failure::Kind::kUnauthorized;
}

// A private staging folder (mkdtemp, 0700) under `base` (the temp directory when empty); stale
// ones of killed runs beside it are removed first.
fs::path fresh_dir(const fs::path& base_in) {
  const fs::path base = base_in.empty() ? fs::temp_directory_path() : base_in;
  remove_stale_temps(base, false);
  auto made = make_private_dir(base);
  if (!made) {
    throw CacheError(made.error().message, {{"folder", base.string()}},
                     "check that the folder is writable and has room (cache_dir in the config)");
  }
  return *made;
}

}  // namespace

struct CacheChain::Impl {
  std::vector<std::unique_ptr<CacheProvider>> layers;
  std::vector<bool> on;
  CacheChainOptions options;
};

CacheChain::CacheChain(std::vector<std::unique_ptr<CacheProvider>> layers,
                       CacheChainOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->on.assign(layers.size(), true);
  impl_->layers = std::move(layers);
  impl_->options = std::move(options);
}
CacheChain::~CacheChain() = default;

const CacheChainOptions& CacheChain::options() const { return impl_->options; }

std::vector<CacheProvider*> CacheChain::layers() const {
  std::vector<CacheProvider*> out;
  for (auto& l : impl_->layers) out.push_back(l.get());
  return out;
}

CacheProvider* CacheChain::layer(const std::string& name) const {
  for (auto& l : impl_->layers)
    if (l->name() == name) return l.get();
  return nullptr;
}

bool CacheChain::enabled(const std::string& name) const {
  for (std::size_t i = 0; i < impl_->layers.size(); ++i)
    if (impl_->layers[i]->name() == name) return impl_->on[i];
  return false;
}

void CacheChain::switch_off(std::size_t i, const Failure& why) {
  if (!impl_->on[i]) return;
  impl_->on[i] = false;
  sf::log().warn("cache layer '{}' ({}) switched off for the rest of this run: {}",
                 impl_->layers[i]->name(), impl_->layers[i]->location(), why.message);
}

Expected<CacheEntryFiles> CacheChain::fetch_from(CacheProvider& layer, const CacheEntryKey& key,
                                                 const fs::path& dir) {
  auto files = CacheEntryFiles::under(dir, key);
  // Every body is capped: the manifest and its signature by fixed bounds, the tarball by the size
  // the manifest declares (a layer that sends more is refused before the disk fills up; the
  // signature and sha256 are checked afterwards by verify_cache_entry).
  if (auto r = layer.get_at_most(key.manifest(), files.manifest, kMaxManifestBytes); !r)
    return r.error();
  if (auto r = layer.get_at_most(key.signature(), files.signature, kMaxSignatureBytes); !r) {
    if (r.error().kind != Failure::Kind::kNotFound) return r.error();
    files.signature.clear();
  }
  std::uint64_t declared = 0;
  {
    auto m = CacheManifest::parse(read_file(files.manifest));
    if (!m) {
      return Failure::error("cache layer '" + layer.name() + "': manifest of " + key.base() +
                            " is unreadable: " + m.error().message);
    }
    declared = m->tarball_size;
  }
  if (auto r = layer.get_at_most(key.tarball(), files.tarball, declared); !r) return r.error();
  return files;
}

Expected<void> CacheChain::put_to(CacheProvider& layer, const CacheEntryKey& key,
                                  const CacheEntryFiles& files) {
  std::error_code ec;
  if (auto r = layer.put(key.tarball(), files.tarball); !r) return r;
  if (!files.signature.empty() && fs::exists(files.signature, ec)) {
    if (auto r = layer.put(key.signature(), files.signature); !r) return r;
  }
  return layer.put(key.manifest(), files.manifest);  // last: the entry becomes visible
}

std::optional<CacheHit> CacheChain::get(const CacheEntryKey& key, const fs::path& dir) {
  if (impl_->options.no_cache) return std::nullopt;
  const auto& layers = impl_->layers;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (!impl_->on[i]) continue;
    auto& layer = *layers[i];
    auto has = layer.has(key.manifest());
    if (!has) {
      if (breaks_layer(has.error())) switch_off(i, has.error());
      continue;
    }
    if (!*has) continue;
    // Staged beside the destination (same file system) unless a staging folder is configured.
    fs::path staging =
        fresh_dir(impl_->options.staging_dir.empty() ? dir : impl_->options.staging_dir);
    auto fetched = fetch_from(layer, key, staging);
    if (!fetched) {
      fs::remove_all(staging);
      if (breaks_layer(fetched.error())) switch_off(i, fetched.error());
      continue;
    }
    auto manifest = verify_cache_entry(*fetched, impl_->options.trust, key);
    if (!manifest) {
      fs::remove_all(staging);
      if (impl_->options.require_signed) {
        throw CacheError("cache entry refused: " + manifest.error().message,
                         {{"entry", key.base()}, {"layer", layer.name()}},
                         "remove the entry (slurm-factory cache verify --layer " + layer.name() +
                             "), trust its signer (slurm-factory cache keys import FILE), or set "
                             "signing.require_signed: false");
      }
      sf::log().warn("skipping cache entry {} from layer '{}': {}", key.base(), layer.name(),
                     manifest.error().message);
      continue;
    }
    // Move into place: every move checked, copied when the staging folder is on another file
    // system, the signature and tarball before the manifest.
    auto files = CacheEntryFiles::under(dir, key);
    std::error_code ec;
    fs::create_directories(files.tarball.parent_path(), ec);
    std::string problem;
    if (fetched->signature.empty()) {
      fs::remove(files.signature, ec);
      files.signature.clear();
    } else {
      problem = rename_or_copy(fetched->signature, files.signature);
    }
    if (problem.empty()) problem = rename_or_copy(fetched->tarball, files.tarball);
    if (problem.empty()) problem = rename_or_copy(fetched->manifest, files.manifest);
    fs::remove_all(staging, ec);
    if (!problem.empty()) {
      fs::remove(files.manifest, ec);
      throw CacheError("cannot move the cache hit into place: " + problem,
                       {{"entry", key.base()}, {"layer", layer.name()}, {"folder", dir.string()}},
                       "check the free space and permissions of " + dir.string());
    }
    // Copy into the faster writable layers.
    for (std::size_t j = 0; j < i; ++j) {
      if (!impl_->on[j] || !layers[j]->writable()) continue;
      if (auto r = put_to(*layers[j], key, files); !r) {
        if (breaks_layer(r.error())) switch_off(j, r.error());
      }
    }
    sf::log().debug("cache hit {} in layer '{}'", key.base(), layer.name());
    return CacheHit{std::move(*manifest), files, layer.name()};
  }
  return std::nullopt;
}

std::vector<std::string> CacheChain::put(const CacheEntryKey& key, const CacheEntryFiles& files) {
  std::vector<std::string> written;
  for (std::size_t i = 0; i < impl_->layers.size(); ++i) {
    if (!impl_->on[i] || !impl_->layers[i]->writable()) continue;
    if (auto r = put_to(*impl_->layers[i], key, files); !r) {
      if (r.error().kind == Failure::Kind::kReadOnly) continue;
      switch_off(i, r.error());
      continue;
    }
    written.push_back(impl_->layers[i]->name());
  }
  return written;
}

void apply_local_cache_override(std::vector<CacheLayerSpec>& layers, const std::string& dir) {
  if (dir.empty()) return;
  const std::string url = "file://" + fs::absolute(dir).string();
  for (auto& l : layers) {
    if (l.type == "local") {
      l.url = url;
      l.writable = true;
      return;
    }
  }
  CacheLayerSpec spec;
  spec.name = "local";
  spec.type = "local";
  spec.url = url;
  spec.writable = true;
  layers.insert(layers.begin(), spec);
}

Expected<std::size_t> rebuild_cache_index(CacheProvider& layer, const fs::path& scratch) {
  auto objects = layer.list("");
  if (!objects) return objects.error();
  std::map<std::string, nlohmann::json> per_dir;  // "<toolchain>/<arch>" -> entries
  std::map<std::string, std::uint64_t> sizes;
  std::set<std::string> signed_keys;
  for (const auto& o : *objects) {
    if (o.key.size() > 4 && o.key.compare(o.key.size() - 4, 4, ".asc") == 0)
      signed_keys.insert(o.key.substr(0, o.key.size() - 4));
    if (o.key.size() > 8 && o.key.compare(o.key.size() - 8, 8, ".tar.zst") == 0)
      sizes[o.key.substr(0, o.key.size() - 8)] = o.size;
  }
  std::size_t count = 0;
  fs::path dir = fresh_dir(scratch);
  for (const auto& o : *objects) {
    const std::string suffix = ".manifest.json";
    if (o.key.size() <= suffix.size() ||
        o.key.compare(o.key.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    auto key = CacheEntryKey::parse(o.key);
    if (!key) continue;
    const fs::path local = dir / "m.json";
    if (auto r = layer.get_at_most(o.key, local, kMaxManifestBytes); !r) return r.error();
    auto m = CacheManifest::parse(read_file(local));
    if (!m) continue;
    const std::string base = o.key.substr(0, o.key.size() - suffix.size());
    per_dir[key->toolchain + "/" + key->arch].push_back(
        {{"key", base},
         {"name", m->name},
         {"version", m->version},
         {"hash", m->hash},
         {"features", m->features},
         {"tarball_sha256", m->tarball_sha256},
         {"size", sizes.count(base) ? sizes[base] : m->tarball_size},
         {"build_time", m->build_time},
         {"signed", signed_keys.count(o.key) > 0},
         {"mtime", o.mtime}});
    ++count;
  }
  nlohmann::json top = nlohmann::json::array();
  for (const auto& [d, entries] : per_dir) {
    const fs::path f = dir / "index.json";
    std::ofstream(f, std::ios::trunc)
        << nlohmann::json{{"format", 1}, {"entries", entries}}.dump(2) << "\n";
    if (auto r = layer.put(d + "/index.json", f); !r) return r.error();
    top.push_back(d);
  }
  const fs::path f = dir / "top.json";
  std::ofstream(f, std::ios::trunc)
      << nlohmann::json{{"format", 1}, {"directories", top}}.dump(2) << "\n";
  if (auto r = layer.put("index.json", f); !r) return r.error();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return count;
}

}  // namespace sf
