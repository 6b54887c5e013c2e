// Parses one recipe YAML file into a Recipe. Every error is a ConfigurationError whose message
// starts with "file:line:col:" (unknown key, wrong type, bad sha256, unknown variable, -z now,
// ...).
//
// Recipe file format (configs/recipes/<name>.yaml):
//   name: munge                     # must equal the file name without .yaml
//   description: ... homepage: ... license: ...
//   build_system: autotools         # autotools | cmake | meson | make
//   default_version: "0.5.16"       # optional, default: the newest
//   system_package: munge           # logical -dev name in the toolchain release's dev_packages
//   from: {default: source, rocky: system, debian/bookworm: system}   # or a scalar
//   system_prefix: {default: /usr, debian: /usr/lib/${multiarch}/pmix2}  # ${dep:NAME} if system
//   system_version: {debian/trixie: "5.0.7"}  # what a `from: system` origin ships, per release
//   version_constraints:            # checked at plan time (version_constraints.hpp)
//     - {versions: ">=2,<6", when: {slurm: "<25.11"}, why: "..."}
//   runtime_dlopen: [libpmix.so.2]  # this library is dlopened by dependents (dlopen_names.hpp)
//   autoreconf: false               # autotools: run autoreconf -fi first
//   incremental: true               # reuse the last build tree of this package on this image
//                                   # (same inputs but the source): make redoes what changed
//   make_shell: dash                # make's recipes and libtool run with /bin/dash if present
//   configure_command: ./config     # optional: the configure program (default per build system)
//   public_programs: all            # bin/ and sbin/ programs that go into the view (onto PATH):
//                                   # all | none | [munge, "hwloc-*"] (names, globs); default:
//                                   # all for the root (slurm), none for a dependency;
//                                   # the others, and the man pages of a package with none, are
//                                   # left out of the view (docs/artifact.md)
//   versions:
//     - version: "0.5.16"
//       sha256: <64 hex>
//       file: munge-0.5.16.tar.gz   # optional: default is the first mirror's last path part
//       strip_dir: munge-0.5.16     # optional
//       mirrors: [upstream URL, Debian pool URL, ...]
//   dependencies:                   # a name (type link) or {name, type: build|link|run|[..], when}
//   system_dependencies: [pam, {name: readline, when: {...}}]
//   configure: / build: / install:  # arguments: a string or {arg: ..., when: {...}}
//   extra_install:                  # autotools/make: one more `make DESTDIR=<stage> ARGS` per
//     - -C contribs/pmi2 install    #   entry after install (whitespace-separated; {arg, when})
//   expected_plugins:               # checked in the view after every build (required_plugins.hpp)
//     - {plugin: acct_gather_energy/ipmi, provided_by: freeipmi, when: {...}}
//     - {plugin: contribs/pmi2, file: lib/libpmi2.so.0}   # file default lib/slurm/TYPE_NAME.so
//   env: {LDFLAGS: "-Wl,-z,lazy"}   # a string, or a list of strings / {value, when}, joined by ' '
//   patches: [{file: patches/x.patch, sha256: <64 hex>, strip: 1, when: {...},
//              relocates: [lib/slurm, ...]}]   # compiled-in paths (relative to the build prefix)
//                                              # the patch makes fall back relative to the program
// Conditions (`when:`): slurm, version (ranges, see version_range.hpp), feature, not_feature,
// family, release, arch, system_has (a name or a list).
// Variables in arguments and env: ${prefix} ${jobs} ${name} ${version} ${slurm_version} ${arch}
// ${family} ${release} ${multiarch} (x86_64-linux-gnu, ...) ${dep:NAME} (the prefix a dependency is
// found under: the canonical prefix when built from source, /usr when it comes from the system).
#pragma once

#include <string>
#include <string_view>

#include "recipes/recipe.hpp"

namespace sf {

// `origin` is the file name used in error locations.
Recipe parse_recipe(std::string_view yaml_text, const std::string& origin);

// True for 64 lowercase hexadecimal characters.
bool is_sha256_hex(std::string_view s);

}  // namespace sf
