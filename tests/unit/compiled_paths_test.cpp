// Finding build-prefix strings in a view built here: a daemon with slurmstepd's path compiled in, a
// plugin with srun's, debug info naming the prefix, and a script naming it in text.
#include "artifact/compiled_paths.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "recipes/planner.hpp"
#include "recipes/recipe_book.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kPrefix = "/opt/slurm/view";

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

const sf::CompiledPath* find(const std::vector<sf::CompiledPath>& v, const std::string& file,
                             const std::string& value) {
  for (const auto& p : v)
    if (p.file == file && p.value == value) return &p;
  return nullptr;
}

}  // namespace

TEST(CompiledPathsTest, FindsAndClassifiesEveryPrefixString) {
  const fs::path dir =
      fs::temp_directory_path() / ("sf-compiled-paths-" + std::to_string(getpid()));
  fs::remove_all(dir);
  const fs::path view = dir / "view";
  fs::create_directories(view / "sbin");
  fs::create_directories(view / "lib/slurm");
  fs::create_directories(view / "bin");
  std::ofstream(dir / "slurmd.c")
      << "#include <stdio.h>\n"
         "const char* stepd = \"" +
             kPrefix +
             "/sbin/slurmstepd\";\n"
             "const char* plugins = \"" +
             kPrefix +
             "/lib/slurm\";\n"
             "int main(void) { puts(stepd); puts(plugins); return 0; }\n";
  std::ofstream(dir / "mpi_pmi2.c")
      << "const char* srun_path(void) { return \"" + kPrefix + "/bin/srun\"; }\n";
  const std::string d = dir.string();
  ASSERT_EQ(run("cc -O1 -o " + view.string() + "/sbin/slurmd " + d + "/slurmd.c"), 0);
  // Debug info naming the prefix (as a build under the prefix would have).
  ASSERT_EQ(run("cc -g -shared -fPIC -fdebug-prefix-map=" + d + "=" + kPrefix + "/src -o " +
                view.string() + "/lib/slurm/mpi_pmi2.so " + d + "/mpi_pmi2.c"),
            0);
  std::ofstream(view / "bin/seff") << "#!/usr/bin/perl\nuse lib \"" << kPrefix << "/lib/perl5\";\n";
  std::ofstream(view / "bin/clean") << "#!/bin/sh\necho nothing here\n";

  const auto paths = sf::scan_compiled_paths(view, kPrefix);

  const auto* stepd = find(paths, "sbin/slurmd", kPrefix + "/sbin/slurmstepd");
  ASSERT_NE(stepd, nullptr);
  EXPECT_TRUE(stepd->elf);
  EXPECT_TRUE(stepd->loaded);
  EXPECT_TRUE(stepd->handled);
  EXPECT_NE(stepd->handling.find("slurmd -d"), std::string::npos);

  const auto* plugindir = find(paths, "sbin/slurmd", kPrefix + "/lib/slurm");
  ASSERT_NE(plugindir, nullptr);
  EXPECT_NE(plugindir->handling.find("PluginDir"), std::string::npos);

  const auto* srun = find(paths, "lib/slurm/mpi_pmi2.so", kPrefix + "/bin/srun");
  ASSERT_NE(srun, nullptr);
  EXPECT_TRUE(srun->loaded);
  EXPECT_FALSE(srun->handled) << "no flag makes the pmi2 plugin's srun path follow the prefix";

  // With the plan's relocation patch, the same strings are handled by the patch.
  const sf::RelocationFallbacks patch{{"bin/srun", "patches/slurm-24.11-relocatable.patch"},
                                      {"lib/slurm", "patches/slurm-24.11-relocatable.patch"}};
  const auto patched = sf::scan_compiled_paths(view, kPrefix, sf::ScanScope::kElfFiles, patch);
  const auto* srun_patched = find(patched, "lib/slurm/mpi_pmi2.so", kPrefix + "/bin/srun");
  ASSERT_NE(srun_patched, nullptr);
  EXPECT_TRUE(srun_patched->handled);
  EXPECT_NE(srun_patched->handling.find("(patch patches/slurm-24.11-relocatable.patch)"),
            std::string::npos)
      << srun_patched->handling;
  const auto* plugindir_patched = find(patched, "sbin/slurmd", kPrefix + "/lib/slurm");
  ASSERT_NE(plugindir_patched, nullptr);
  EXPECT_NE(plugindir_patched->handling.find("fallback relative to the executable"),
            std::string::npos);
  // Not named by the patch: the unit flag, as before.
  EXPECT_NE(find(patched, "sbin/slurmd", kPrefix + "/sbin/slurmstepd")->handling.find("slurmd -d"),
            std::string::npos);

  bool saw_debug = false;
  for (const auto& p : paths) {
    if (p.file == "lib/slurm/mpi_pmi2.so" && !p.loaded) {
      saw_debug = true;
      EXPECT_TRUE(p.handled);
      EXPECT_NE(p.section.find(".debug"), std::string::npos) << p.section;
    }
  }
  EXPECT_TRUE(saw_debug) << "the -g build's debug strings name the prefix";

  const auto* seff = find(paths, "bin/seff", "use lib \"" + kPrefix + "/lib/perl5\";");
  ASSERT_NE(seff, nullptr);
  EXPECT_FALSE(seff->elf);
  EXPECT_TRUE(seff->handled);
  EXPECT_EQ(sf::text_files_naming_prefix(paths), std::vector<std::string>{"bin/seff"});

  const auto json = sf::compiled_paths_json(paths);
  ASSERT_EQ(json.size(), paths.size());
  EXPECT_EQ(json[0]["file"], paths[0].file);
  EXPECT_TRUE(json[0].contains("handling"));

  // Packaging scans the text files first and feeds the ELF files to a collector as the packager
  // reads them (paths relative to the staged root, whole contents): together, the same result.
  const auto text = sf::scan_compiled_paths(view, kPrefix, sf::ScanScope::kTextFiles);
  const auto elf = sf::scan_compiled_paths(view, kPrefix, sf::ScanScope::kElfFiles);
  EXPECT_EQ(text.size() + elf.size(), paths.size());
  sf::CompiledPathCollector collector(view, kPrefix);
  EXPECT_FALSE(collector.fed());
  for (const char* f : {"bin/clean", "bin/seff", "lib/slurm/mpi_pmi2.so", "sbin/slurmd"}) {
    std::ifstream in(view / f, std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), {});
    collector.add(std::string("view/") + f, content);
  }
  collector.add("modules/slurm/x.lua", "-- " + kPrefix + " in a modulefile is not the view's");
  EXPECT_TRUE(collector.fed());
  const auto collected = collector.result();
  ASSERT_EQ(collected.size(), elf.size());
  for (std::size_t i = 0; i < elf.size(); ++i) {
    EXPECT_EQ(collected[i].file, elf[i].file);
    EXPECT_EQ(collected[i].offset, elf[i].offset);
    EXPECT_EQ(collected[i].value, elf[i].value);
    EXPECT_EQ(collected[i].section, elf[i].section);
    EXPECT_EQ(collected[i].handled, elf[i].handled);
  }
  fs::remove_all(dir);
}

// OpenSSL's libcrypto names its MODULESDIR and ENGINESDIR (bare and in OpenSSL_version's
// "ENGINESDIR: ..." strings) and its build flags: harmless (providers built in), explained.
TEST(CompiledPathsTest, OpenSslModulesAndEnginesDirsAreExplained) {
  auto classify = [](const std::string& file, const std::string& value) {
    sf::CompiledPath p;
    p.file = file;
    p.value = value;
    p.elf = true;
    p.section = ".rodata";
    sf::classify_compiled_path(p, kPrefix);
    return p;
  };
  auto modules = classify("lib/libcrypto.so.3", "MODULESDIR: \"" + kPrefix + "/lib/ossl-modules\"");
  EXPECT_TRUE(modules.handled);
  EXPECT_NE(modules.handling.find("OPENSSL_MODULES"), std::string::npos);
  auto engines = classify("lib/libcrypto.so.3", kPrefix + "/lib/engines-3");
  EXPECT_TRUE(engines.handled);
  EXPECT_NE(engines.handling.find("OPENSSL_ENGINES"), std::string::npos);
  EXPECT_TRUE(classify("lib/libcrypto.so.3", "compiler: gcc -I" + kPrefix + "/include").handled);
  // The same string in another library is not OpenSSL's: still reported.
  EXPECT_FALSE(classify("lib/libother.so.1", kPrefix + "/lib/ossl-modules").handled);
}

namespace {

sf::CompiledPath classified(const std::string& file, const std::string& value,
                            const sf::RelocationFallbacks& fallbacks) {
  sf::CompiledPath p;
  p.file = file;
  p.value = value;
  p.elf = true;
  p.section = ".rodata";
  sf::classify_compiled_path(p, kPrefix, fallbacks);
  return p;
}

}  // namespace

// A relocation patch handles exactly the whole strings <prefix>/<path> it names, only when it is in
// the plan; any other string naming the prefix stays as it was (unknown ones unhandled).
TEST(CompiledPathsTest, RelocationPatchHandlesExactlyTheStringsItNames) {
  const std::string patch = "patches/slurm-24.11-relocatable.patch";
  const sf::RelocationFallbacks fallbacks{
      {"lib/slurm", patch}, {"sbin", patch}, {"bin/srun", patch}};
  for (const auto& [file, value] : std::vector<std::pair<std::string, std::string>>{
           {"lib/slurm/libslurmfull.so", kPrefix + "/lib/slurm"},
           {"lib/slurm/libslurmfull.so", kPrefix + "/sbin"},
           {"lib/libslurm.so.42", kPrefix + "/sbin"},
           {"lib/slurm/mpi_pmi2.so", kPrefix + "/bin/srun"}}) {
    const auto p = classified(file, value, fallbacks);
    EXPECT_TRUE(p.handled) << value;
    EXPECT_EQ(p.handling.rfind("fallback relative to the executable (patch " + patch + ")", 0), 0U)
        << p.handling;
  }
  // Without the patch in the plan: srun follows nothing, the other two follow our flags.
  EXPECT_FALSE(classified("lib/slurm/mpi_pmi2.so", kPrefix + "/bin/srun", {}).handled);
  EXPECT_NE(classified("lib/slurm/libslurmfull.so", kPrefix + "/sbin", {}).handling.find("-d"),
            std::string::npos);
  EXPECT_NE(classified("lib/slurm/libslurmfull.so", kPrefix + "/lib/slurm", {})
                .handling.find("PluginDir"),
            std::string::npos);
  // Unknown strings stay unhandled, even when they contain a relocated path.
  EXPECT_FALSE(classified("lib/libx.so", kPrefix + "/share/x", fallbacks).handled);
  EXPECT_FALSE(classified("lib/libx.so", kPrefix + "/bin/srun --mpi", fallbacks).handled);
  EXPECT_FALSE(classified("lib/libx.so", "-L" + kPrefix + "/bin/srun", fallbacks).handled);
  EXPECT_FALSE(classified("lib/libx.so", kPrefix + "/bin/sru", fallbacks).handled);
}

// Every Slurm version the shipped recipe pins gets its series' relocation patch, which names the
// three compiled-in paths (plugin directory, sbindir for slurmstepd, srun for pmi2).
TEST(CompiledPathsTest, ShippedSlurmRecipeRelocatesEveryPinnedVersion) {
  const auto book =
      sf::RecipeBook::load_directory(fs::path(SF_TEST_SOURCE_DIR) / "configs" / "recipes");
  const sf::Recipe& slurm = book.get("slurm");
  ASSERT_GE(slurm.versions.size(), 5U);
  for (const auto& v : slurm.versions) {
    sf::ToolchainRelease t;
    t.name = "trixie";
    t.family = "debian";
    t.arch = "amd64";
    for (const char* k :
         {"munge", "json-c", "yaml", "jwt", "http-parser", "lz4", "hwloc", "pmix", "curl", "ssl",
          "pam", "dbus", "readline", "lua", "mysql", "numa", "rdkafka"}) {
      t.dev_packages[k] = {std::string("lib") + k + "-dev"};
    }
    sf::PlanRequest req;
    req.slurm_version = v.version;
    req.toolchain = t;
    req.toolchain_image_hash = "sha256:1111";
    const sf::Plan plan = sf::make_plan(book, req);
    const std::string series = v.version.substr(0, v.version.rfind('.'));
    const std::string file = "patches/slurm-" + series + "-relocatable.patch";
    ASSERT_EQ(plan.root().patches.size(), 1U) << v.version;
    EXPECT_EQ(plan.root().patches[0].file, file);
    EXPECT_TRUE(fs::is_regular_file(plan.root().patches[0].path)) << plan.root().patches[0].path;
    const auto fallbacks = sf::relocation_fallbacks(plan.packages);
    EXPECT_EQ(fallbacks,
              (sf::RelocationFallbacks{{"lib/slurm", file}, {"sbin", file}, {"bin/srun", file}}))
        << v.version;
  }
}
