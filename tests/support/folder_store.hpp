// A RepositoryStore over a folder, for the unit tests of the package repositories' logic (the
// real layers, s3rver and local, are in tests/e2e/deb.sh and rpm.sh). It counts the writes.
#pragma once

#include <filesystem>
#include <string>

#include "slurm_factory/package_repository.hpp"

namespace sf::test {

namespace fs = std::filesystem;

class FolderStore : public sf::RepositoryStore {
 public:
  explicit FolderStore(fs::path root) : root_(std::move(root)) {}
  std::string location() const override { return root_.string(); }
  sf::Expected<bool> has(const std::string& key) override { return fs::exists(root_ / key); }
  sf::Expected<void> get(const std::string& key, const fs::path& dest,
                         std::uint64_t max_bytes) override {
    if (!fs::exists(root_ / key)) return sf::Failure::not_found(key);
    if (fs::file_size(root_ / key) > max_bytes) return sf::Failure::error("too large");
    fs::copy_file(root_ / key, dest, fs::copy_options::overwrite_existing);
    return {};
  }
  sf::Expected<void> put(const std::string& key, const fs::path& source) override {
    fs::create_directories((root_ / key).parent_path());
    fs::copy_file(source, root_ / key, fs::copy_options::overwrite_existing);
    ++puts;
    return {};
  }
  fs::path root_;
  int puts = 0;
};

}  // namespace sf::test
