// A shipped toolchain family built from its releases.yaml in the source tree, as its plugin builds
// it (rocky on the dnf library, the others on the apt one), for tests that make image requests
// without loading plugins.
#pragma once

#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "sf_toolchain/apt.hpp"
#include "sf_toolchain/dnf.hpp"

namespace sf::test {

inline std::shared_ptr<const ToolchainFamily> shipped_family(const std::string& family) {
  std::ifstream in(std::string(SF_TEST_SOURCE_DIR) + "/plugins/toolchains/" + family +
                   "/releases.yaml");
  const std::string yaml{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::string origin = "toolchain-" + family + "/releases.yaml";
  if (family == "rocky") return std::make_shared<DnfToolchainFamily>(family, yaml, origin);
  return std::make_shared<AptToolchainFamily>(family, yaml, origin);
}

}  // namespace sf::test
