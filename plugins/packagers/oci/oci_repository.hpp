// `--publish all` for the oci packager: the images of the build's OCI layout pushed to the
// registry of packagers.oci.registry (oci_registry.hpp) as <registry>/<name_prefix><role>:<tag>,
// every blob checked against its digest first (the layout file is read back, not trusted), then a
// record of what was pushed (each image's reference and manifest digest, with the artifact the
// labels name) written to the layer as oci/<toolchain>/<arch>/<tag>.json and signed with the site
// key (.json.asc): what `docker pull REF@DIGEST` should get, signed.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "slurm_factory/package_repository.hpp"

namespace sf::oci {

std::unique_ptr<SignedRepository> make_oci_repository(const nlohmann::json& settings);

}  // namespace sf::oci
