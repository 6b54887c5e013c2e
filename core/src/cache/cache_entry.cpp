#include "cache/cache_entry.hpp"

#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "formats/archive_reader.hpp"
#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "support/file_io.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

Expected<std::string> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Failure::not_found("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Expected<void> write_atomic(const fs::path& p, const std::string& content) {
  if (auto problem = write_file_atomically(p, content); !problem.empty())
    return Failure::error(problem);
  return {};
}

// What a failed signature check means. "bad": the signature is there and proves the manifest was
// changed after signing (or it is no signature at all): the entry is proven bad. "untrusted": a
// good-looking signature by a key outside the trust anchor (unknown, or not among the trusted
// fingerprints): nothing is proven about the bytes. Anything else (expired, revoked, gpg could not
// run): not trusted, not proven bad.
enum class SignatureProblem { kBad, kUntrusted, kOther };

SignatureProblem classify(const Failure& f) {
  const std::string& m = f.message;
  if (m.find("bad signature") != std::string::npos ||
      m.find("holds no signature") != std::string::npos)
    return SignatureProblem::kBad;
  // The wording of GpgVerifier::verify_detached (gpg_verifier.cpp): unknown key, a key of the
  // keyring that is not trusted, or no keyring at all.
  if (m.find("(untrusted)") != std::string::npos ||
      m.find("but not trusted") != std::string::npos ||
      m.find("no keyring to check the signature") != std::string::npos ||
      m.find("not among the trusted fingerprints") != std::string::npos)
    return SignatureProblem::kUntrusted;
  return SignatureProblem::kOther;
}

}  // namespace

CacheEntryFiles CacheEntryFiles::under(const fs::path& dir, const CacheEntryKey& key) {
  return {dir / key.tarball(), dir / key.manifest(), dir / key.signature()};
}

Expected<CacheEntryFiles> pack_cache_entry(const fs::path& tree, CacheManifest& manifest,
                                           const fs::path& dir, const GpgSigner* signer) {
  if (!manifest.key().valid()) {
    return Failure::error("cannot pack an entry named '" + manifest.key().base() +
                          "': a key part is empty or holds characters other than letters, digits "
                          "and . _ + ~ - (or the hash is not hex)");
  }
  auto files = CacheEntryFiles::under(dir, manifest.key());
  std::error_code ec;
  fs::create_directories(files.tarball.parent_path(), ec);
  auto packed = write_archive(tree, files.tarball);
  if (!packed) return packed.error();
  manifest.files = std::move(*packed);
  auto sha = sha256_file_hex(files.tarball);
  if (!sha) return sha.error();
  manifest.tarball_sha256 = *sha;
  manifest.tarball_size = fs::file_size(files.tarball);
  if (manifest.build_time.empty()) manifest.build_time = utc_now_rfc3339();
  if (manifest.builder_version.empty()) manifest.builder_version = "slurm-factory " SF_VERSION;
  manifest.is_signed = signer != nullptr;
  const std::string text = manifest.to_json();
  if (auto w = write_atomic(files.manifest, text); !w) return w.error();
  if (signer) {
    std::string sig;
    try {
      sig = signer->sign_detached(text);
    } catch (const SlurmFactoryError& e) {
      return Failure::error(e.render());
    }
    if (auto w = write_atomic(files.signature, sig); !w) return w.error();
  } else {
    fs::remove(files.signature, ec);
  }
  return files;
}

namespace {

// Everything verify_cache_entry checks; the tarball's sha256 only when `hash_tarball` (unpacking
// hashes it while extracting instead, and accepts nothing before it matches). `expected` (when
// given) is the key the entry is stored as: its name, version, toolchain and arch must match the
// manifest's, and its hash too, in full when the caller knows the full hash.
// The Failure's kind says how sure the verdict is (see verify_cache_entry in the header).
Expected<CacheManifest> check_entry(const CacheEntryFiles& files, const EntryTrustPolicy& policy,
                                    const CacheEntryKey* expected, bool hash_tarball) {
  auto text = slurp(files.manifest);
  if (!text) return Failure::not_found("manifest missing (" + files.manifest.string() + ")");
  std::error_code ec;
  const bool has_sig = !files.signature.empty() && fs::exists(files.signature, ec);
  if (has_sig && policy.verifier) {
    auto sig = slurp(files.signature);
    if (!sig) return Failure::not_found("signature unreadable (" + files.signature.string() + ")");
    auto ok = policy.verifier->verify_detached(*text, *sig);
    if (!ok) {
      // allow_unsigned accepts a missing signature (and one whose signer is simply unknown here),
      // never a bad one: a manifest edited after signing is refused in every mode.
      const SignatureProblem problem = classify(ok.error());
      if (problem == SignatureProblem::kBad) return Failure::error(ok.error().message);
      if (problem == SignatureProblem::kOther || !policy.allow_unsigned)
        return Failure::unauthorized(ok.error().message);
    }
  } else if (!policy.allow_unsigned) {
    return Failure::unauthorized(
        has_sig ? "no trusted keyring configured to check the signature (set signing.keyring or "
                  "signing.trusted_fingerprints, or signing.allow_unsigned: true)"
                : "the entry is not signed (no .manifest.json.asc); set signing.allow_unsigned: "
                  "true for a private cache");
  }
  auto manifest = CacheManifest::parse(*text);
  if (!manifest) return Failure::error(manifest.error().message);
  if (!manifest->key().valid() || manifest->hash.size() != 64) {
    return Failure::error("the manifest names an invalid key (" + manifest->key().base() +
                          ", hash '" + manifest->hash + "')");
  }
  if (expected != nullptr) {
    const CacheEntryKey got = manifest->key();
    const bool full = expected->hash.size() == 64;
    const bool same =
        got.toolchain == expected->toolchain && got.arch == expected->arch &&
        got.name == expected->name && got.version == expected->version &&
        (full ? manifest->hash == expected->hash
              : manifest->hash.compare(0, expected->hash.size(), expected->hash) == 0);
    if (!same) {
      return Failure::error("the manifest describes " + got.base() + " (hash " + manifest->hash +
                            "), not the entry it is stored as (" + expected->base() +
                            (full ? ", hash " + expected->hash : std::string()) + ")");
    }
  }
  if (!fs::exists(files.tarball, ec)) return Failure::not_found("tarball missing");
  const auto size = fs::file_size(files.tarball, ec);
  if (size != manifest->tarball_size) {
    return Failure::error("tarball size " + std::to_string(size) + " differs from the manifest's " +
                          std::to_string(manifest->tarball_size) + " (truncated or replaced)");
  }
  if (!hash_tarball) return manifest;
  auto sha = sha256_file_hex(files.tarball);
  if (!sha) return sha.error();
  if (*sha != manifest->tarball_sha256) {
    return Failure::error("tarball sha256 " + *sha + " differs from the manifest's " +
                          manifest->tarball_sha256 + " (tampered or corrupt)");
  }
  if (policy.deep) {
    auto index = read_archive_index(files.tarball);
    if (!index) return index.error();
    std::map<std::string, const ArchiveEntryInfo*> want;
    for (const auto& f : manifest->files) want[f.path] = &f;
    if (index->size() != want.size())
      return Failure::error("the tarball holds " + std::to_string(index->size()) +
                            " entries, the manifest lists " + std::to_string(want.size()));
    for (const auto& e : *index) {
      auto it = want.find(e.path);
      if (it == want.end()) return Failure::error("file '" + e.path + "' is not in the manifest");
      if (it->second->sha256 != e.sha256)
        return Failure::error("file '" + e.path + "' sha256 differs from the manifest");
    }
  }
  return manifest;
}

// Moves the tree `from` into `to` (an existing directory), entry by entry: what `to` lacks is
// renamed in whole (one rename per new branch); a directory present in both is merged; a file or
// symlink in `to` is replaced by rename (never followed); a directory in `to` is never replaced by
// a non-directory. `from` holds a verified extraction on the same filesystem.
Expected<void> move_tree_into(const fs::path& from, const fs::path& to, const fs::path& top) {
  std::error_code ec;
  for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path src = it->path();
    const fs::path dst = to / src.filename();
    const auto src_status = fs::symlink_status(src, ec);
    const auto dst_status = fs::symlink_status(dst, ec);
    ec.clear();
    const bool src_dir = fs::is_directory(src_status);
    if (!fs::exists(dst_status)) {
      fs::rename(src, dst, ec);
    } else if (fs::is_directory(dst_status)) {
      if (!src_dir)
        return Failure::error("cannot unpack into " + top.string() + ": '" +
                              fs::relative(dst, top).string() +
                              "' is a directory there and a file in the entry; remove it first");
      fs::permissions(dst, src_status.permissions(), ec);
      if (auto r = move_tree_into(src, dst, top); !r) return r;
    } else {
      if (src_dir) fs::remove(dst, ec);  // a file or symlink where the entry has a directory
      fs::rename(src, dst, ec);
    }
    if (ec)
      return Failure::error("cannot move " + src.string() + " to " + dst.string() + ": " +
                            ec.message() + "; check the destination's permissions");
  }
  if (ec) return Failure::error("cannot list " + from.string() + ": " + ec.message());
  return {};
}

}  // namespace

Expected<CacheManifest> verify_cache_entry(const CacheEntryFiles& files,
                                           const EntryTrustPolicy& policy,
                                           const CacheEntryKey& expected) {
  return check_entry(files, policy, &expected, true);
}

Expected<CacheManifest> verify_cache_entry(const CacheEntryFiles& files,
                                           const EntryTrustPolicy& policy,
                                           const std::string& expected_key) {
  if (expected_key.empty()) return check_entry(files, policy, nullptr, true);
  auto key = CacheEntryKey::parse(expected_key);
  if (!key) return Failure::error("'" + expected_key + "' is not a cache entry key");
  return check_entry(files, policy, &*key, true);
}

Expected<CacheManifest> unpack_cache_entry(const CacheEntryFiles& files,
                                           const EntryTrustPolicy& policy,
                                           const fs::path& destination_in) {
  fs::path destination = fs::absolute(destination_in).lexically_normal();
  if (!destination.has_filename()) destination = destination.parent_path();
  // One pass over the tarball: the signature, manifest and size first, then the tarball's sha256
  // computed as it is extracted. Nothing is accepted before that hash and every extracted file's
  // sha256 match the signed manifest: a fresh (missing or empty) destination is extracted into and
  // emptied again on a mismatch; a destination with content gets a staging directory beside it,
  // moved in only after the checks pass.
  auto manifest = check_entry(files, policy, nullptr, policy.deep);
  if (!manifest) return manifest;
  std::map<std::string, std::string> want;
  for (const auto& f : manifest->files) want[f.path] = f.sha256;
  ExtractOptions options;
  options.archive_sha256 = manifest->tarball_sha256;
  // The signed manifest lists every entry of the tarball (files, folders, links) with its size:
  // nothing more may come out of it, so those totals are the extraction's caps.
  std::uint64_t declared_bytes = 0;
  for (const auto& f : manifest->files) declared_bytes += f.size;
  options.max_entries = manifest->files.size();
  options.max_bytes = declared_bytes;
  options.accept = [&](const ExtractResult& r) -> std::string {
    for (const auto& e : r.entries) {
      auto it = want.find(e.path);
      if (it == want.end() || it->second != e.sha256)
        return "extracted file '" + e.path + "' does not match the manifest of " +
               files.manifest.string();
    }
    return {};
  };
  std::error_code ec;
  const bool existed = fs::exists(destination, ec);
  const bool fresh = !existed || fs::is_empty(destination, ec);
  if (fresh) {
    auto extracted = extract_archive(files.tarball, destination, options);
    if (!extracted) {
      if (!existed) fs::remove_all(destination, ec);
      return extracted.error();
    }
    return manifest;
  }
  auto made = make_private_dir(destination.parent_path());
  if (!made) return made.error();
  const fs::path staging = *made / "tree";
  auto extracted = extract_archive(files.tarball, staging, options);
  if (!extracted) {
    fs::remove_all(*made, ec);
    return extracted.error();
  }
  auto moved = move_tree_into(staging, destination, destination);
  fs::remove_all(*made, ec);
  if (!moved) return moved.error();
  return manifest;
}

}  // namespace sf
