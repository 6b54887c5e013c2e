// The exact package list of a toolchain image ("name:arch=version", one a line, sorted), read in
// a container of the image with dpkg-query or rpm. The image's tag names its *definition* (base,
// setup script, package names: toolchain_image.hpp); this list says what the definition gave on
// the day the image was made. It is provenance data, never part of a tag or a package hash: the
// artifact's provenance.json records it and its sha256, and `slurm-factory rebuild` compares it
// with the image it would rebuild in (a rebuild is faithful only when they are equal).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"

namespace sf {

struct ImagePackageList {
  std::vector<std::string> packages;  // "name:arch=version", sorted, unique
  std::string sha256;                 // of the lines joined with "\n" (and a final "\n")
};

// The shell script that prints the list (dpkg-query on Debian/Ubuntu, rpm on Rocky and the like).
std::string image_package_query_script();

// The list from the script's output (blank lines dropped, sorted, unique) and its sha256.
ImagePackageList parse_image_package_list(const std::string& text);

// The identity provenance records for a toolchain image: sha256 of its definition hash and the
// package list's sha256 (so two images of one definition made months apart differ here).
std::string image_identity(const std::string& definition_hash, const ImagePackageList& list);

// The list of `image` (whose engine id is `image_id`), read once per image id and kept in
// <cache_dir>/toolchains/<id>.packages (an image id names its content, so the list never goes
// stale). Throws ContainerError when the container cannot run or prints nothing.
ImagePackageList image_package_list(ContainerBackend& backend, const std::string& image,
                                    const std::string& image_id,
                                    const std::filesystem::path& cache_dir);

// How `current` differs from `recorded`, by package ("name:arch"): "1.2-3 -> 1.2-4", "1.2-3 ->
// (absent)", "(absent) -> 1.0". Empty when the lists are equal.
std::map<std::string, std::string> package_list_changes(const std::vector<std::string>& recorded,
                                                        const std::vector<std::string>& current);

}  // namespace sf
