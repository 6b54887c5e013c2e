// What the package repositories (APT, YUM/DNF) do with a layer, the same way: fetch an object
// (absent is an answer, any other trouble a PackagingError naming the layer and object), upload
// and record it, and refuse what no trusted key signed (a VerificationError saying that nothing
// was published). One object per repository and layer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "slurm_factory/package_repository.hpp"

namespace sf::pkg {

class RepositoryIo {
 public:
  // `repository` names it in messages ("apt", "rpm"); `report` receives the uploaded keys.
  RepositoryIo(std::string repository, RepositoryStore& store, RepositoryReport& report)
      : repository_(std::move(repository)), store_(store), report_(report) {}

  // The object `key` into `dest` (at most `cap` bytes): true when there, false when the layer has
  // none. Throws PackagingError for any other failure.
  bool fetch(const std::string& key, const std::filesystem::path& dest, std::uint64_t cap);
  // Uploads `source` as `key` and records it; PackagingError when the layer refuses.
  void upload(const std::string& key, const std::filesystem::path& source);
  // Whether the layer has `key`; PackagingError when it cannot say.
  bool has(const std::string& key);

  [[noreturn]] void layer_failed(const std::string& key, const std::string& why) const;
  [[noreturn]] void untrusted(const std::string& key, const std::string& why) const;

 private:
  std::string repository_;
  RepositoryStore& store_;
  RepositoryReport& report_;
};

// A file's whole content ("" when it cannot be read: callers check sizes and digests).
std::string read_whole_file(const std::filesystem::path& path);

}  // namespace sf::pkg
