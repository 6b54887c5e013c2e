// The pipeline tests' shared fixture: stand-in recipes (plain make) whose source tarballs are made
// in a temporary folder and placed, verified, in the source cache; a throwaway signing key; a
// config that loads the plugins from the build tree; the CLI run in process with its output
// captured. The real trixie build image on docker builds them in seconds.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "gpg_home.hpp"
#include "requirement.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/http_client.hpp"
#include "temp_dir.hpp"

namespace sf::test {

// Exit status of a shell command (-1 when it did not exit).
inline int sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Standard output of a shell command.
inline std::string capture(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// JSON lines of a --json run.
inline std::vector<nlohmann::json> events(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '{') v.push_back(nlohmann::json::parse(line));
  }
  return v;
}

// The first event `event` of kind `kind`, or nullptr.
inline const nlohmann::json* find_event(const std::vector<nlohmann::json>& v,
                                        const std::string& event, const std::string& kind) {
  for (const auto& e : v) {
    if (e.value("event", "") == event && e.value("kind", "") == kind) return &e;
  }
  return nullptr;
}

// A recipe's `versions:` item for src/<dirname>.tar.gz (its mirror never answers: the source
// cache must hold it).
inline std::string version_entry(const std::string& v, const std::string& sha,
                                 const std::string& dirname) {
  return "  - version: \"" + v + "\"\n    sha256: " + sha + "\n    file: " + dirname +
         ".tar.gz\n    strip_dir: " + dirname + "\n    mirrors:\n      - http://127.0.0.1:9/" +
         dirname + ".tar.gz\n";
}

// A make recipe built from source; `more` (dependencies:, system_dependencies: ...) goes before
// its build steps.
inline std::string make_recipe(const std::string& name, const std::string& description,
                               const std::string& versions, const std::string& more = "") {
  return "name: " + name + "\ndescription: " + description +
         "\nhomepage: https://example.invalid\nlicense: MIT\nbuild_system: make\nfrom: source\n"
         "versions:\n" +
         versions + more +
         "build:\n  - PREFIX=${prefix}\n"
         "install:\n  - install\n  - PREFIX=${prefix}\n";
}

class PipelineFixture : public ::testing::Test {
 protected:
  PipelineFixture(const std::string& tag, std::string key_uid)
      : dir_(tag), key_uid_(std::move(key_uid)) {}

  // Skips without docker; the environment points at this test's folders; a fresh key.
  void SetUp() override {
    if (sh("docker info >/dev/null 2>&1") != 0) SF_REQUIRE_OR_SKIP("docker does not answer");
    ::setenv("XDG_CONFIG_HOME", (dir_ / "xdg").c_str(), 1);
    ::unsetenv("SLURM_FACTORY_PLUGIN_PATH");
    ::unsetenv("SLURM_FACTORY_CACHE_DIR");
    ::setenv("SLURM_FACTORY_RECIPE_DIR", recipes_.c_str(), 1);
    fpr_ = GpgSigner::generate_key(gpg_.path(), key_uid_);
  }
  void TearDown() override {
    ::unsetenv("SLURM_FACTORY_RECIPE_DIR");
    ::unsetenv("XDG_CONFIG_HOME");
  }

  // Packs src/<dirname> and places it, verified, in the source cache; returns its sha256.
  std::string pack(const std::string& dirname) {
    const std::filesystem::path tarball = dir_ / (dirname + ".tar.gz");
    EXPECT_EQ(
        sh("tar -C '" + (dir_ / "src").string() + "' -czf '" + tarball.string() + "' " + dirname),
        0);
    auto sha = sha256_file_hex(tarball);
    if (!sha) {
      ADD_FAILURE() << tarball << ": " << sha.error().message;
      return "";
    }
    const std::filesystem::path cached = cache_ / "sourcecache" / *sha / tarball.filename();
    std::filesystem::create_directories(cached.parent_path());
    std::filesystem::copy_file(tarball, cached, std::filesystem::copy_options::overwrite_existing);
    return *sha;
  }

  // The stand-in "slurm" 24.11.5 (src/slurm-fake-24.11.5, packed into the source cache, and its
  // recipe): bin/sinfo from `sinfo_c` (linked with `ldlibs`), the plugin lib/slurm/auth_fake.so
  // (naming "libjson-c.so" as a dlopen name),
  // and what `more_dirs` / `more_install` (Makefile text) add to its install; `recipe_more` goes
  // before the recipe's build steps. Returns false (with a failure recorded) when packing failed.
  bool add_stand_in_slurm(const std::string& description, const std::string& sinfo_c,
                          const std::string& ldlibs = "", const std::string& more_dirs = "",
                          const std::string& more_install = "",
                          const std::string& recipe_more = "") {
    const std::filesystem::path src = dir_ / "src" / "slurm-fake-24.11.5";
    write_file(src / "sinfo.c", sinfo_c);
    // The plugin names a library it would dlopen, unversioned like Slurm 22.05's mpi_pmix
    // ("libpmix.so"): a view that carries libjson-c.so.5 gets the link libjson-c.so to it.
    write_file(src / "plugin.c",
               "int init(void) { return 0; }\n"
               "const char *dlopen_name(void) { return \"libjson-c.so\"; }\n");
    write_file(src / "Makefile",
               "PREFIX ?= /opt/slurm/view\n"
               "all: sinfo auth_fake.so\n"
               "sinfo: sinfo.c\n\t$(CC) -O2 -o $@ sinfo.c" +
                   ldlibs +
                   "\n"
                   "auth_fake.so: plugin.c\n\t$(CC) -O2 -shared -fPIC -o $@ plugin.c\n"
                   "install: all\n"
                   "\tinstall -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/slurm" +
                   more_dirs +
                   "\n"
                   "\tinstall -m 755 sinfo $(DESTDIR)$(PREFIX)/bin/sinfo\n"
                   "\tinstall -m 755 auth_fake.so $(DESTDIR)$(PREFIX)/lib/slurm/auth_fake.so\n" +
                   more_install);
    const std::string sha = pack("slurm-fake-24.11.5");
    if (sha.empty()) return false;
    write_file(recipes_ / "slurm.yaml",
               make_recipe("slurm", description,
                           version_entry("24.11.5", sha, "slurm-fake-24.11.5"), recipe_more));
    return true;
  }

  // The config: this cache, the plugins `load` (a YAML list's items) from the build tree, the
  // throwaway key; `more` (YAML, top level or continuing `plugins:`) at the end.
  void write_config(const std::string& load, const std::string& more = "") {
    write_file(config_, "cache_dir: " + cache_.string() +
                            "\n"
                            "plugins:\n  search_paths: [" SF_TEST_PLUGIN_DIR "]\n  load: [" +
                            load + "]\nsigning:\n  key_id: \"" + fpr_ + "\"\n  keyring: \"" +
                            gpg_.path() + "\"\n" + more);
  }

  // `slurm-factory --config <config> ARGS...`, output in out_ / err_.
  int cli(const std::vector<std::string>& args) { return run_cli(config_, args, out_, err_); }
  // `--json build-slurm` of the stand-in 24.11.5 for trixie on docker into output_, plus ARGS.
  int build_slurm(std::vector<std::string> args) {
    std::vector<std::string> full{"--json",      "build-slurm",   "--slurm-version", "24.11.5",
                                  "--toolchain", "trixie",        "--backend",       "docker",
                                  "--output",    output_.string()};
    full.insert(full.end(), args.begin(), args.end());
    return cli(full);
  }

  TempDir dir_;
  GpgHome gpg_;
  std::string key_uid_;
  std::filesystem::path cache_ = dir_ / "cache";
  std::filesystem::path recipes_ = dir_ / "recipes";
  std::filesystem::path config_ = dir_ / "config.yaml";
  std::filesystem::path output_ = dir_ / "out";
  std::string fpr_;
  std::ostringstream out_, err_;
};

}  // namespace sf::test
