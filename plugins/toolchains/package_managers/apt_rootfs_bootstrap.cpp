// How an apt family makes a base root filesystem without a registry: mmdebstrap (one step, writes
// the tarball) when the recipe allows it, else debootstrap into a directory and tar it.
#include <optional>
#include <string>
#include <vector>

#include "sf_toolchain/apt.hpp"

namespace sf {
namespace apt {
namespace {

std::string comma_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

}  // namespace

RootfsBootstrap rootfs_bootstrap(const BootstrapRecipe& recipe, const std::string& arch,
                                 const std::string& tarball, const std::string& work_dir) {
  const std::string components =
      comma_list(recipe.components.empty() ? std::vector<std::string>{"main"} : recipe.components);
  const std::string variant = recipe.variant.empty() ? "minbase" : recipe.variant;
  RootfsBootstrap out;
  out.install_hint = "apt-get install mmdebstrap (or debootstrap)";
  if (recipe.tool.empty() || recipe.tool == "mmdebstrap") {
    std::vector<std::string> argv{"mmdebstrap", "--variant=" + variant, "--format=tar",
                                  "--architectures=" + arch, "--components=" + components};
    if (!recipe.extra_packages.empty())
      argv.push_back("--include=" + comma_list(recipe.extra_packages));
    argv.insert(argv.end(), {recipe.suite, tarball, recipe.mirror});
    out.methods.push_back({"mmdebstrap", "a minute or two", {argv}, {}});
  }
  std::vector<std::string> argv{"debootstrap", "--variant=" + variant, "--arch=" + arch,
                                "--components=" + components};
  if (!recipe.extra_packages.empty())
    argv.push_back("--include=" + comma_list(recipe.extra_packages));
  argv.insert(argv.end(), {recipe.suite, work_dir, recipe.mirror});
  out.methods.push_back({"debootstrap",
                         "a few minutes",
                         {argv, {"tar", "--numeric-owner", "-C", work_dir, "-cf", tarball, "."}},
                         {work_dir}});
  return out;
}

}  // namespace apt

std::optional<RootfsBootstrap> AptToolchainFamily::rootfs_bootstrap(
    const BootstrapRecipe& recipe, const std::string& arch, const std::string& tarball,
    const std::string& work_dir) const {
  return apt::rootfs_bootstrap(recipe, arch, tarball, work_dir);
}

}  // namespace sf
