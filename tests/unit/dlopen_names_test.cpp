// dlopen names read from real plugins compiled here (host cc): a plugin built like Slurm 22.05's
// mpi_pmix (dlopen("libpmix.so"), RUNPATH $ORIGIN/..) next to a view that carries only
// libpmix.so.2 gets the libpmix.so link, and then really loads the library; 24.11's
// dlopen("libpmix.so.2") needs nothing; a version the view lacks fails naming the plugin.
#include "artifact/dlopen_names.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "../support/temp_dir.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using sf::test::TempDir;
using sf::test::write_file;

namespace {

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

// A plugin whose load_pmix() dlopens `name` the way Slurm's mpi_pmix does; the string also sits
// inside a longer message, and a driver library's name is there too.
void make_plugin(const fs::path& out, const std::string& name) {
  const fs::path c = out.parent_path() / (out.filename().string() + ".c");
  write_file(c,
             "#include <dlfcn.h>\n#include <stdio.h>\n"
             "int load_pmix(void) {\n"
             "  void *h = dlopen(\"" +
                 name +
                 "\", RTLD_LAZY | RTLD_GLOBAL);\n"
                 "  if (!h) fprintf(stderr, \"mpi/pmix: can not load " +
                 name +
                 ": %s\\n\", dlerror());\n"
                 "  return h != NULL;\n}\n"
                 "void *load_nvml(void) { return dlopen(\"libnvidia-ml.so.1\", RTLD_LAZY); }\n");
  ASSERT_EQ(run("cc -O2 -shared -fPIC -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/..:$ORIGIN' -o " +
                out.string() + " " + c.string()),
            0);
  fs::remove(c);
}

// view/lib/libpmix.so.2.1.3 (SONAME libpmix.so.2) with the link libpmix.so.2 -> it (a recipe's
// install) or, with `bundled`, one regular file libpmix.so.2 (a from: system library bundled).
void make_pmix(const fs::path& lib, bool bundled) {
  fs::create_directories(lib);
  write_file(lib / "pmix.c", "int PMIx_Init(void) { return 0; }\n");
  const std::string file = bundled ? "libpmix.so.2" : "libpmix.so.2.1.3";
  ASSERT_EQ(run("cc -shared -fPIC -Wl,-soname,libpmix.so.2 -o " + (lib / file).string() + " " +
                (lib / "pmix.c").string()),
            0);
  fs::remove(lib / "pmix.c");
  if (!bundled) fs::create_symlink("libpmix.so.2.1.3", lib / "libpmix.so.2");
}

// Loads the plugin and calls load_pmix(): what slurmd/srun do on `--mpi=pmix`.
bool plugin_loads_pmix(const fs::path& plugin) {
  void* h = dlopen(plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) return false;
  auto* fn = reinterpret_cast<int (*)()>(dlsym(h, "load_pmix"));
  const bool ok = fn != nullptr && fn() == 1;
  dlclose(h);
  return ok;
}

const std::vector<sf::DlopenedLibrary> kDeclared = {{"libpmix.so.2", "pmix"}};

}  // namespace

TEST(DlopenNames, RecognisesLibraryFileNamesOnly) {
  EXPECT_TRUE(sf::is_library_file_name("libpmix.so"));
  EXPECT_TRUE(sf::is_library_file_name("libpmix.so.2"));
  EXPECT_TRUE(sf::is_library_file_name("libpmix.so.2.1.3"));
  EXPECT_TRUE(sf::is_library_file_name("libstdc++.so.6"));
  EXPECT_TRUE(sf::is_library_file_name("libfoo.so.bar.so"));
  EXPECT_FALSE(sf::is_library_file_name("libpmix.so.2a"));
  EXPECT_FALSE(sf::is_library_file_name("libpmix.so."));
  EXPECT_FALSE(sf::is_library_file_name("/usr/lib/libpmix.so"));
  EXPECT_FALSE(sf::is_library_file_name("can not load libpmix.so"));
  EXPECT_FALSE(sf::is_library_file_name("pmix.so"));
  EXPECT_FALSE(sf::is_library_file_name("libpmix.sock"));
}

TEST(DlopenNames, ReadsTheNamesAPluginPassesToDlopenFromItsRodata) {
  TempDir dir("sf-dlopen");
  make_plugin(dir / "mpi_pmix_v4.so", "libpmix.so");
  auto names = sf::read_dlopen_names(dir / "mpi_pmix_v4.so");
  ASSERT_TRUE(names) << names.error().message;
  EXPECT_EQ(*names, (std::vector<std::string>{"libnvidia-ml.so.1", "libpmix.so"}));

  write_file(dir / "not-elf.so", "libpmix.so");
  auto bad = sf::read_dlopen_names(dir / "not-elf.so");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not-elf.so"), std::string::npos);
}

// Slurm 22.05: dlopen("libpmix.so") and a view with libpmix.so.2 only ("Invalid MPI type 'pmix'").
TEST(DlopenNames, LinksTheUnversionedNameA2205PluginDlopensToTheRealLibrary) {
  TempDir dir("sf-dlopen");
  const fs::path view = dir / "view";
  make_pmix(view / "lib", false);
  fs::create_directories(view / "lib/slurm");
  make_plugin(view / "lib/slurm/mpi_pmix_v4.so", "libpmix.so");
  fs::create_symlink("mpi_pmix_v4.so", view / "lib/slurm/mpi_pmix.so");
  ASSERT_FALSE(plugin_loads_pmix(view / "lib/slurm/mpi_pmix.so"));  // as built: fails

  sf::DlopenNameOptions o;
  o.declared = kDeclared;
  const auto report = sf::provide_dlopen_names(view, o);

  ASSERT_EQ(report.names.size(), 1u);  // the symlinked mpi_pmix.so is read once, as its file
  EXPECT_EQ(report.names[0].plugin, "lib/slurm/mpi_pmix_v4.so");
  EXPECT_EQ(report.names[0].name, "libpmix.so");
  EXPECT_EQ(report.names[0].target, "lib/libpmix.so.2.1.3");
  EXPECT_EQ(report.names[0].package, "pmix");
  EXPECT_TRUE(report.names[0].linked);
  ASSERT_TRUE(fs::is_symlink(view / "lib/libpmix.so"));
  EXPECT_EQ(fs::read_symlink(view / "lib/libpmix.so"), "libpmix.so.2.1.3");  // relative
  EXPECT_FALSE(fs::exists(view / "lib/libnvidia-ml.so.1"));  // the driver's: left alone
  EXPECT_TRUE(plugin_loads_pmix(view / "lib/slurm/mpi_pmix.so"));
  fs::rename(view, dir / "moved");  // relocatable: the link is relative
  EXPECT_TRUE(plugin_loads_pmix(dir / "moved/lib/slurm/mpi_pmix.so"));
}

// A from: system pmix bundled as the regular file libpmix.so.2: the link points at it.
TEST(DlopenNames, LinksToABundledLibrary) {
  TempDir dir("sf-dlopen");
  const fs::path view = dir / "view";
  make_pmix(view / "lib", true);
  fs::create_directories(view / "lib/slurm");
  make_plugin(view / "lib/slurm/mpi_pmix_v4.so", "libpmix.so");
  sf::DlopenNameOptions o;
  o.declared = kDeclared;
  const auto report = sf::provide_dlopen_names(view, o);
  ASSERT_EQ(report.names.size(), 1u);
  EXPECT_EQ(fs::read_symlink(view / "lib/libpmix.so"), "libpmix.so.2");
  EXPECT_TRUE(plugin_loads_pmix(view / "lib/slurm/mpi_pmix_v4.so"));
  EXPECT_EQ(report.to_json()[0]["target"], "lib/libpmix.so.2");
}

// Slurm 24.11: dlopen("libpmix.so.2"), which the view carries: nothing to add.
TEST(DlopenNames, KeepsANameTheViewAlreadyCarries) {
  TempDir dir("sf-dlopen");
  const fs::path view = dir / "view";
  make_pmix(view / "lib", false);
  fs::create_directories(view / "lib/slurm");
  make_plugin(view / "lib/slurm/mpi_pmix_v5.so", "libpmix.so.2");
  sf::DlopenNameOptions o;
  o.declared = kDeclared;
  const auto report = sf::provide_dlopen_names(view, o);
  ASSERT_EQ(report.names.size(), 1u);
  EXPECT_FALSE(report.names[0].linked);
  EXPECT_EQ(report.names[0].target, "lib/libpmix.so.2.1.3");
  EXPECT_FALSE(fs::exists(fs::symlink_status(view / "lib/libpmix.so")));
  EXPECT_TRUE(plugin_loads_pmix(view / "lib/slurm/mpi_pmix_v5.so"));
}

// A plugin built for another soname than the library the view carries: never linked across
// majors, the build fails naming the plugin, the name and what the view has.
TEST(DlopenNames, RefusesAVersionTheViewDoesNotCarry) {
  TempDir dir("sf-dlopen");
  const fs::path view = dir / "view";
  make_pmix(view / "lib", false);
  fs::create_directories(view / "lib/slurm");
  make_plugin(view / "lib/slurm/mpi_pmix_v6.so", "libpmix.so.3");
  sf::DlopenNameOptions o;
  o.declared = kDeclared;
  try {
    (void)sf::provide_dlopen_names(view, o);
    FAIL() << "expected a PackagingError";
  } catch (const sf::PackagingError& e) {
    const std::string what = e.render();
    EXPECT_NE(what.find("lib/slurm/mpi_pmix_v6.so"), std::string::npos) << what;
    EXPECT_NE(what.find("libpmix.so.3"), std::string::npos) << what;
    EXPECT_NE(what.find("libpmix.so.2.1.3"), std::string::npos) << what;
    EXPECT_NE(what.find("--from pmix=source"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(view / "lib/libpmix.so.3")));
}

namespace {

// A plugin that tries several names for one library, like Slurm's lua plugins.
void make_lua_plugin(const fs::path& out) {
  const fs::path c = out.parent_path() / "lua.c";
  write_file(c,
             "#include <dlfcn.h>\n"
             "static const char *names[] = {\"liblua.so\", \"liblua-5.4.so\", \"liblua5.4.so\",\n"
             "  \"liblua5.4.so.0\", \"liblua5.4.so.9\", \"liblua.so.5.4\", 0};\n"
             "int load_lua(void) {\n"
             "  for (int i = 0; names[i]; i++) if (dlopen(names[i], RTLD_LAZY)) return 1;\n"
             "  return 0;\n}\n");
  ASSERT_EQ(run("cc -O2 -shared -fPIC -o " + out.string() + " " + c.string()), 0);
  fs::remove(c);
}

}  // namespace

// One name of a stem that resolves is enough: the others (another version) are no error, and
// the unversioned alternative of the library the view carries gets its link.
TEST(DlopenNames, APluginTryingSeveralNamesNeedsOneOfThem) {
  TempDir dir("sf-dlopen");
  const fs::path view = dir / "view";
  fs::create_directories(view / "lib/slurm");
  write_file(view / "lib/lua.c", "int lua_stub(void) { return 0; }\n");
  ASSERT_EQ(run("cc -shared -fPIC -Wl,-soname,liblua5.4.so.0 -o " +
                (view / "lib/liblua5.4.so.0").string() + " " + (view / "lib/lua.c").string()),
            0);
  fs::remove(view / "lib/lua.c");
  make_lua_plugin(view / "lib/slurm/job_submit_lua.so");
  const auto report = sf::provide_dlopen_names(view, sf::DlopenNameOptions{});
  ASSERT_EQ(report.names.size(), 2u);
  EXPECT_EQ(report.names[0].name, "liblua5.4.so");
  EXPECT_TRUE(report.names[0].linked);
  EXPECT_EQ(report.names[1].name, "liblua5.4.so.0");
  EXPECT_FALSE(report.names[1].linked);
  EXPECT_EQ(fs::read_symlink(view / "lib/liblua5.4.so"), "liblua5.4.so.0");
  EXPECT_FALSE(fs::exists(fs::symlink_status(view / "lib/liblua5.4.so.9")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(view / "lib/liblua.so")));  // another stem
}
