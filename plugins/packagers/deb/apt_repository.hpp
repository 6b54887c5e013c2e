// The APT repository of the deb packager's files (package_repository.hpp): under the layer's
// "apt/" prefix, pool/main/<l>/<package>/<file>.deb and dists/<codename>/ with
// main/binary-<arch>/Packages(.gz), Release, Release.gpg and InRelease, the codename being the
// toolchain's (trixie, bookworm, noble). docs/packaging.md.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "slurm_factory/package_repository.hpp"

namespace sf::deb {

std::unique_ptr<SignedRepository> make_apt_repository(const nlohmann::json& settings);

// The control file inside a .deb (its ar member control.tar.*); a Failure naming what is wrong.
Expected<std::string> read_deb_control(const std::filesystem::path& deb);

}  // namespace sf::deb
