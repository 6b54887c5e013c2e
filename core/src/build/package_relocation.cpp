// The package builder's relocation step (package_builder.hpp): decided on the host, applied in
// the build image, checked on the host; and the host's checks of the staged tree around it.
#include <spdlog/spdlog.h>

#include "artifact/relocation.hpp"
#include "build/build_script.hpp"
#include "build/debug_bundle.hpp"
#include "build/package_builder.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/safe_walk.hpp"

namespace fs = std::filesystem;

namespace sf {

fs::path staged_tree(const fs::path& work, const PackageSpec& spec) {
  return work / "stage" / fs::path(spec.prefix).relative_path();
}

// Check the staged tree before the host reads it: reached from the work folder without
// following a link, and its links settled (settle_staged_links): one that points out of the
// tree fails the build, naming it; nothing is followed, packed or signed.
void PackageBuilder::check_stage(const PackageSpec& spec, const fs::path& work,
                                 const std::string& step, const fs::path& log) const {
  const std::string rel = "stage" + spec.prefix;
  auto dir = open_dir_beneath(work, rel);
  if (!dir && dir.error().kind == Failure::Kind::kNotFound) {
    throw BuildError(
        spec.name + " " + spec.version + ": the install step put nothing under " + spec.prefix,
        {{"package", spec.name},
         {"stage", "install"},
         {"log file", log.string()},
         {"staged", (work / "stage").string()}},
        "check the recipe's install arguments (prefix, DESTDIR support)");
  }
  if (!dir) {
    throw BuildError(
        spec.name + " " + spec.version + ": the staged tree is refused: " + dir.error().message,
        {{"package", spec.name}, {"stage", step}, {"log file", log.string()}},
        "a package installs real folders under " + spec.prefix +
            ", never a link to elsewhere; fix the recipe's install step (" + recipe_to_fix(spec) +
            ")");
  }
  auto links = settle_staged_links(work / rel, spec.prefix);
  if (!links) {
    throw BuildError("cannot read the staged tree of " + spec.name,
                     {{"package", spec.name}, {"stage", step}, {"reason", links.error().message}},
                     "look at the staged tree under " + (work / rel).string());
  }
  if (!links->refused.empty()) {
    throw BuildError(
        spec.name + " " + spec.version + ": the staged tree holds symlinks that point out of " +
            spec.prefix + " (not followed, nothing packed):\n" + join_lines(links->refused),
        {{"package", spec.name},
         {"stage", step},
         {"link", links->refused.front()},
         {"log file", log.string()}},
        "a package may link only inside its prefix (lib/libfoo.so -> libfoo.so.1, "
        "or an absolute link under " +
            spec.prefix + "); fix the recipe's install step (" + recipe_to_fix(spec) + ")");
  }
  for (const auto& r : links->rewritten) {
    sf::log().info("{}: absolute link made relative: {}", spec.name, r);
  }
}

fs::path PackageBuilder::relocate(const PackageSpec& spec, const fs::path& work,
                                  const fs::path& deps, const std::vector<Mount>& extra,
                                  const fs::path& build_log, const fs::path& bundle,
                                  ContainerBackend& backend) {
  // 2. relocation: decided on the host, applied in the build image, checked on the host. The
  // host reads the staged tree only as check_stage left it: reached without following a link,
  // no link in it pointing out of it.
  const fs::path tree = staged_tree(work, spec);
  check_stage(spec, work, "install", build_log);
  auto reloc = plan_relocation(tree);
  if (!reloc) {
    throw BuildError(
        "cannot read the staged tree of " + spec.name,
        {{"package", spec.name}, {"stage", "relocate"}, {"reason", reloc.error().message}},
        "look at the staged tree under " + tree.string());
  }
  remove_libtool_archives(tree, *reloc);
  if (!options.split_debug) {
    for (auto& f : reloc->elf_files) f.split_debug = false;
  }
  const std::string container_tree = "/work/stage" + spec.prefix;
  // The build may have left something at relocate.sh (a link to a host file): it goes first.
  if (auto r = remove_file_beneath(work, "relocate.sh");
      !r && r.error().kind != Failure::Kind::kNotFound) {
    throw BuildError(
        "cannot write the relocation script of " + spec.name + ": " + r.error().message,
        {{"package", spec.name}, {"stage", "relocate"}},
        "the build left a folder at /work/relocate.sh; fix the recipe");
  }
  write_text(work / "relocate.sh",
             relocation_script(*reloc, container_tree, "/work/debug" + spec.prefix,
                               options.cross ? options.cross->host + "-objcopy" : "objcopy"));
  const fs::path reloc_log = log_dir / (spec.name + "-relocate.log");
  auto rrun = run_spec(spec, work, deps, extra, reloc_log, "relocate");
  rrun.script = "exec /bin/sh /work/relocate.sh";
  auto rresult = run_hermetic(backend, rrun);
  if (rresult.exit_code != 0) {
    const auto debug = write_debug_bundle(options, spec, bundle, work, deps, extra, reloc_log,
                                          "relocate", "relocate.sh");
    fail_step(spec, "relocate", rresult.exit_code, rresult.tail, reloc_log, bundle, debug);
  }
  check_stage(spec, work, "relocate", reloc_log);
  if (auto problems = check_relocation(tree); !problems.empty()) {
    throw BuildError(
        spec.name + " " + spec.version + ": the staged tree is not relocatable:\n" +
            join_lines(problems),
        {{"package", spec.name}, {"stage", "relocate"}, {"log file", reloc_log.string()}},
        "the relocation step must set an $ORIGIN-relative RUNPATH on every ELF "
        "file; look at the relocate log");
  }
  // The debug tree (written by relocate.sh), read like the staged tree.
  fs::path debug_tree;
  if (options.split_debug) {
    const std::string rel = "debug" + spec.prefix;
    if (auto d = open_dir_beneath(work, rel); d) {
      debug_tree = work / rel;
    } else if (d.error().kind != Failure::Kind::kNotFound) {
      throw BuildError(spec.name + " " + spec.version +
                           ": the debug tree cannot be read safely: " + d.error().message,
                       {{"package", spec.name}, {"stage", "relocate"}},
                       "a build must not make links on the way to /work/debug" + spec.prefix +
                           "; fix the recipe (" + recipe_to_fix(spec) + ")");
    }
  }
  return debug_tree;
}

}  // namespace sf
