// The YUM/DNF repository of the rpm packager's files (package_repository.hpp): under the layer's
// "rpm/" prefix, one repository per toolchain and architecture,
// <toolchain>/<arch>/Packages/<file>.rpm and <toolchain>/<arch>/repodata/ with repomd.xml and its
// detached signature repomd.xml.asc (dnf's repo_gpgcheck). The metadata is made by createrepo_c
// and merged with what the layer lists by mergerepo_c (Debian's and EL's createrepo-c package).
// docs/packaging.md.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "slurm_factory/package_repository.hpp"

namespace sf::rpm {

std::unique_ptr<SignedRepository> make_rpm_repository(const nlohmann::json& settings);

struct RepomdEntry {
  std::string href;  // "repodata/<name>"
  std::string sha256;
  std::uint64_t size = 0;
};
// The <data> entries of a repomd.xml (href, sha256, size); nullopt when one is malformed: an href
// outside repodata/, a name with another character than [A-Za-z0-9._-], no sha256 checksum.
std::optional<std::vector<RepomdEntry>> parse_repomd(const std::string& xml);

}  // namespace sf::rpm
