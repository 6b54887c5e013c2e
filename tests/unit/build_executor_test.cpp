// The generated build script (pure: the real templates, no container): variables, ${jobs},
// recipe env, and valid POSIX shell for every build system.
#include "build/build_executor.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "slurm_factory/errors.hpp"
#include "slurm_factory/shell_quote.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

const fs::path kTemplates = fs::path(SF_TEST_SOURCE_DIR) / "templates" / "build";

PackageSpec spec(BuildSystem b) {
  PackageSpec s;
  s.name = "slurm";
  s.version = "24.11.5";
  s.build_system = b;
  s.prefix = "/opt/slurm/view";
  s.source.filename = "slurm-24.11.5.tar.gz";
  s.source.strip_dir = "slurm-slurm-24-11-5-1";
  s.configure_args = {"--prefix=/opt/slurm/view", "--with-x=a b", "-j${jobs}"};
  s.build_args = {"-j${jobs}"};
  s.env = {{"LDFLAGS", "-Wl,-z,lazy"}, {"FOO", "it's"}};
  s.toolchain = {"debian", "trixie", "amd64", "abc"};
  s.hash = std::string(64, 'a');
  return s;
}

bool shell_parses(const std::string& script) {
  const fs::path f = fs::temp_directory_path() / ("sf-script-" + std::to_string(::getpid()));
  std::ofstream(f) << script;
  const int rc = std::system(("/bin/sh -n " + shell_quote(f.string())).c_str());
  fs::remove(f);
  return rc == 0;
}

TEST(BuildScript, EveryBuildSystemRendersValidShell) {
  for (auto b :
       {BuildSystem::kAutotools, BuildSystem::kCmake, BuildSystem::kMeson, BuildSystem::kMake}) {
    const std::string s = render_build_script(spec(b), kTemplates, "/sources/x.tar.gz", 3);
    EXPECT_TRUE(shell_parses(s)) << to_string(b);
    EXPECT_NE(s.find("sf_configure()"), std::string::npos) << to_string(b);
    EXPECT_EQ(s.substr(s.size() - 8), "sf_main\n");
  }
}

TEST(BuildScript, JobsAreResolvedAndArgumentsQuoted) {
  const std::string s = render_build_script(spec(BuildSystem::kAutotools), kTemplates,
                                            "/sources/slurm-24.11.5.tar.gz", 3);
  EXPECT_EQ(s.find("${jobs}"), std::string::npos);
  EXPECT_NE(s.find("SF_JOBS=3\n"), std::string::npos);
  EXPECT_NE(s.find("SF_BUILD_ARGS=-j3\n"), std::string::npos);
  EXPECT_NE(s.find("SF_CONFIGURE_ARGS='--prefix=/opt/slurm/view '\\''--with-x=a b'\\'' -j3'"),
            std::string::npos)
      << s.substr(0, 1200);
  // Compiler flags from the recipe are appended to the prefix's, other variables exported.
  EXPECT_NE(s.find("SF_ENV_LDFLAGS=-Wl,-z,lazy\n"), std::string::npos);
  EXPECT_NE(s.find("export FOO='it'\\''s'\n"), std::string::npos);
  EXPECT_NE(s.find("SF_STRIP_DIR=slurm-slurm-24-11-5-1\n"), std::string::npos);
}

// The recipe's extra_install: one more real `make DESTDIR=<stage> ARGS` per entry after the install
// step (here with the work folder moved to a temporary one), and a failing one fails the step.
TEST(BuildScript, ExtraInstallRunsOneMakePerEntryAndFailsWithIt) {
  for (auto b : {BuildSystem::kAutotools, BuildSystem::kMake}) {
    const fs::path work =
        fs::temp_directory_path() / ("sf-extra-install-" + std::to_string(::getpid()));
    fs::remove_all(work);
    fs::create_directories(work / "src" / "contribs" / "pmi2");
    std::ofstream(work / "src" / "Makefile") << "install:\n\tmkdir -p $(DESTDIR)/lib\n"
                                                "\ttouch $(DESTDIR)/lib/libslurm.so\n";
    std::ofstream(work / "src" / "contribs" / "pmi2" / "Makefile")
        << "PAM_DIR = /lib/security\ninstall:\n\tmkdir -p $(DESTDIR)$(PAM_DIR)\n"
           "\ttouch '$(DESTDIR)$(PAM_DIR)/$(NAME)'\nfail:\n\tfalse\n";
    PackageSpec p = spec(b);
    p.extra_install = {"-C contribs/pmi2 install NAME=libpmi2.so.0",
                       "-C  contribs/pmi2   install PAM_DIR=/opt/slurm/view/lib/security "
                       "NAME=pam_slurm_adopt.so"};
    auto run = [&](const PackageSpec& ps) {
      std::string s = render_build_script(ps, kTemplates, "/sources/x.tar.gz", 1);
      const std::string from = "SF_WORK=/work\n";
      s.replace(s.find(from), from.size(), "SF_WORK=" + shell_quote(work.string()) + "\n");
      const std::string home = "export HOME=/work/home\n";
      s.replace(s.find(home), home.size(), "export HOME=\"$SF_WORK/home\"\n");
      std::ofstream(work / "build.sh") << s;
      return std::system(("SF_ONLY_STAGE=install /bin/sh " +
                          shell_quote((work / "build.sh").string()) + " >/dev/null 2>&1")
                             .c_str());
    };
    EXPECT_EQ(run(p), 0) << to_string(b);
    EXPECT_TRUE(fs::exists(work / "stage/lib/libslurm.so")) << to_string(b);
    EXPECT_TRUE(fs::exists(work / "stage/lib/security/libpmi2.so.0")) << to_string(b);
    EXPECT_TRUE(fs::exists(work / "stage/opt/slurm/view/lib/security/pam_slurm_adopt.so"))
        << to_string(b);
    p.extra_install.push_back("-C contribs/pmi2 fail");
    EXPECT_NE(run(p), 0) << to_string(b) << ": a failing extra install fails the step";
    fs::remove_all(work);
  }
  // Without extra_install the variable is empty and nothing more runs.
  EXPECT_NE(render_build_script(spec(BuildSystem::kAutotools), kTemplates, "/x", 1)
                .find("SF_EXTRA_INSTALL=''\n"),
            std::string::npos);
}

TEST(BuildScript, MissingTemplateIsABuildErrorNamingIt) {
  try {
    (void)render_build_script(spec(BuildSystem::kMake), "/nonexistent", "/sources/x", 1);
    FAIL();
  } catch (const BuildError& e) {
    EXPECT_EQ(e.context_value("file"), "/nonexistent/common.sh");
  }
}

TEST(BuildScript, EntryKeyNamesFamilyReleaseArchAndHash) {
  const auto key = entry_key_for(spec(BuildSystem::kAutotools));
  EXPECT_EQ(key.toolchain, "debian-trixie");
  EXPECT_EQ(key.arch, "amd64");
  EXPECT_EQ(key.name, "slurm");
}

// build.ccache: one compiler cache folder per toolchain image hash under <cache_dir>/ccache; a
// hash that is not plain hex (a stand-in, or anything with a slash) is hashed into a safe name.
TEST(CcacheDir, OneFolderPerImageHashUnderTheCacheDir) {
  const std::string h(64, 'b');
  EXPECT_EQ(ccache_dir_for("/c", h), fs::path("/c/ccache") / h);
  EXPECT_NE(ccache_dir_for("/c", h), ccache_dir_for("/c", std::string(64, 'c')));
  for (const std::string odd : {"", "../../etc", "ABC", "a/b"}) {
    const fs::path d = ccache_dir_for("/c", odd);
    EXPECT_EQ(d.parent_path(), fs::path("/c/ccache")) << odd;
    EXPECT_EQ(d.filename().string().size(), 64U) << odd;
  }
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// Runs the script's preamble (variables and common.sh, not sf_main) with /work moved to a
// temporary folder and returns what `probe` prints.
std::string run_preamble(std::string script, const std::string& probe) {
  const fs::path dir = fs::temp_directory_path() / ("sf-preamble-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (std::size_t pos = 0; (pos = script.find("/work", pos)) != std::string::npos;) {
    script.replace(pos, 5, dir.string());
    pos += dir.string().size();
  }
  script = script.substr(0, script.rfind("sf_main\n")) + probe + "\n";
  const fs::path f = dir / "script.sh";
  std::ofstream(f) << script;
  const fs::path out = dir / "out";
  const int rc = std::system(("env -u SOURCE_DATE_EPOCH /bin/sh " + shell_quote(f.string()) +
                              " > " + shell_quote(out.string()))
                                 .c_str());
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove_all(dir);
  EXPECT_EQ(rc, 0);
  return text;
}

TEST(BuildScript, ReproducibleEnvironment) {
  const std::string s = render_build_script(spec(BuildSystem::kAutotools), kTemplates,
                                            "/sources/x.tar.gz", 2, 1751371200);
  EXPECT_NE(s.find("SF_SOURCE_DATE_EPOCH=1751371200\n"), std::string::npos);
  const std::string env = run_preamble(
      s,
      R"sh(printf '%s|%s|%s|%s|%s\n' "$SOURCE_DATE_EPOCH" "$TZ" "$(umask)" "$CFLAGS" "$CXXFLAGS")sh");
  EXPECT_EQ(env.substr(0, env.find('|', env.find('|') + 1) + 1), "1751371200|UTC|") << env;
  EXPECT_NE(env.find("|0022|"), std::string::npos) << env;
  EXPECT_NE(env.find("-O2 -g -ffile-prefix-map="), std::string::npos) << env;
  const std::string locale = run_preamble(s, R"(printf '%s\n' "$LC_ALL")");
  EXPECT_TRUE(locale == "C.UTF-8\n" || locale == "C\n") << locale;
  // Without a value (an old caller) nothing is exported, and the rest still holds.
  const std::string none = run_preamble(
      render_build_script(spec(BuildSystem::kMake), kTemplates, "/sources/x.tar.gz", 2),
      R"(printf '%s|%s\n' "${SOURCE_DATE_EPOCH:-unset}" "$TZ")");
  EXPECT_EQ(none, "unset|UTC\n");
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// Incremental rebuilds, the script's half (common.sh: sf_source_list, sf_reuse_tree): a previous
// build's tree (sources dated 2020 and an object) and fresh sources in which `change` is run.
// Prints whether configure is skipped and what the merged /work/src holds.
std::string reuse(const std::string& change) {
  const std::string s = render_build_script(spec(BuildSystem::kAutotools), kTemplates,
                                            "/sources/x.tar.gz", 2, 1751371200);
  const std::string probe = R"sh(
W=$SF_WORK
sources() {
  rm -rf "$SF_SRC"; mkdir -p "$SF_SRC/lib"; cd "$SF_SRC"
  printf 'v1\n' > lib/a.c; printf 's\n' > lib/same.c; printf 'g\n' > lib/gone.c
  printf '24.11.5\n' > META; printf 'am\n' > Makefile.am; ln -s same.c lib/link.c
}
sources
SF_SOURCE_LIST=1 sf_source_list
# the previous build: its objects and config.status, everything dated 2020
printf 'obj\n' > lib/a.o; printf 'cs\n' > config.status
find . -exec touch -h -d '2020-01-01 00:00:00' {} +
mkdir -p $W/prev; mv "$SF_SRC" $W/prev/src; mv $W/source.sha256 $W/prev/source.sha256
sources
rm lib/gone.c
)sh" + change + R"sh(
SF_SOURCE_LIST=1 sf_source_list
SF_PREV_TREE=$W/prev sf_reuse_tree > $W/reuse.log
cd "$SF_SRC"
printf 'skip=%s a.c=%s' "$SF_SKIP_CONFIGURE" "$(cat lib/a.c)"
[ -e lib/a.o ] && printf ' a.o'
[ -e lib/gone.c ] && printf ' gone.c'
[ -e lib/new.h ] && printf ' new.h'
[ lib/a.c -nt lib/a.o ] && printf ' a.c-newer'
[ lib/same.c -nt lib/a.o ] && printf ' same.c-newer'
[ -L lib/link.c ] && printf ' link'
[ -e $W/prev ] && printf ' prev-left'
printf '\n'
)sh";
  return run_preamble(s, probe);
}

TEST(BuildScriptReuse, OnlyTheChangedSourcesAreNewAndConfigureIsSkipped) {
  // A one-line fix to a .c file (and a new header): the tree keeps its objects, only a.c is newer
  // than them, configure does not rerun.
  EXPECT_EQ(
      reuse("printf 'g\\n' > lib/gone.c; printf 'v2\\n' > lib/a.c; printf 'n\\n' > lib/new.h"),
      "skip=1 a.c=v2 a.o gone.c new.h a.c-newer link\n");
}

TEST(BuildScriptReuse, AGoneFileGoesAndAnythingButSourcesRerunsConfigure) {
  // A file the new release no longer has is removed from the tree; META changed: configure reads
  // it, so it reruns (in the tree, over its objects).
  EXPECT_EQ(reuse("printf '24.11.6\\n' > META"), "skip=0 a.c=v1 a.o link\n");
}

TEST(BuildScriptReuse, ChangedAutotoolsInputsBuildFromTheFreshSources) {
  // Makefile.am changed: make would rerun automake; the build goes on as a cold one.
  EXPECT_EQ(reuse("printf 'g\\n' > lib/gone.c; printf 'am2\\n' > Makefile.am"),
            "skip=0 a.c=v1 gone.c link\n");
}

TEST(BuildScriptReuse, NoPreviousTreeIsAColdBuild) {
  const std::string s = render_build_script(spec(BuildSystem::kAutotools), kTemplates,
                                            "/sources/x.tar.gz", 2, 1751371200);
  EXPECT_EQ(run_preamble(s, R"sh(mkdir -p "$SF_SRC"; echo x > "$SF_SRC/a.c"
sf_source_list; sf_reuse_tree; printf '%s %s %s\n' "$SF_SKIP_CONFIGURE" "$(cat "$SF_SRC/a.c")" "$(ls "$SF_WORK" | grep -c prev)")sh"),
            "0 x 0\n");
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// Issue 17: a cross build's script, run for real on stand-in tools (a ./configure and cmake that
// print what they were given, the triplet's compiler tools as empty scripts on PATH).
class CrossBuildScript : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fs::temp_directory_path() / ("sf-cross-script-" + std::to_string(::getpid()));
    fs::remove_all(work_);
    fs::create_directories(work_ / "src");
    fs::create_directories(work_ / "build");
    fs::create_directories(work_ / "bin");
    for (const char* tool :
         {"gcc", "g++", "ar", "ranlib", "nm", "strip", "objdump", "objcopy", "readelf", "ld"}) {
      stub(std::string("aarch64-linux-gnu-") + tool, "exit 0");
    }
    // What the configure step sees: its arguments and environment.
    const std::string report =
        "printf 'args=%s\\n' \"$*\"; printf 'CC=%s\\n' \"$CC\"; "
        "printf 'PKG_CONFIG_LIBDIR=%s\\n' \"$PKG_CONFIG_LIBDIR\"; "
        "printf 'LD_LIBRARY_PATH=%s\\n' \"${LD_LIBRARY_PATH-unset}\"";
    std::ofstream(work_ / "src/configure") << "#!/bin/sh\n" << report << "\n";
    fs::permissions(work_ / "src/configure", fs::perms::owner_all, fs::perm_options::add);
    std::ofstream(work_ / "src/Configure") << "#!/bin/sh\n" << report << "\n";
    fs::permissions(work_ / "src/Configure", fs::perms::owner_all, fs::perm_options::add);
    stub("cmake", report);
  }
  void TearDown() override { fs::remove_all(work_); }

  void stub(const std::string& name, const std::string& body) {
    std::ofstream(work_ / "bin" / name) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(work_ / "bin" / name, fs::perms::owner_all, fs::perm_options::add);
  }

  // Runs the configure step of `p`'s script in work_; returns {status, output}.
  std::pair<int, std::string> configure(const PackageSpec& p,
                                        const std::optional<CrossTriplets>& cross) {
    std::string s = render_build_script(p, kTemplates, "/sources/x.tar.gz", 1, std::nullopt, cross);
    const std::string from = "SF_WORK=/work\n";
    s.replace(s.find(from), from.size(), "SF_WORK=" + shell_quote(work_.string()) + "\n");
    const std::string home = "export HOME=/work/home\n";
    s.replace(s.find(home), home.size(), "export HOME=\"$SF_WORK/home\"\n");
    std::ofstream(work_ / "build.sh") << s;
    const fs::path out = work_ / "out.txt";
    const int rc = std::system(("PATH=" + shell_quote((work_ / "bin").string()) +
                                ":/usr/bin:/bin SF_ONLY_STAGE=configure /bin/sh " +
                                shell_quote((work_ / "build.sh").string()) + " > " +
                                shell_quote(out.string()) + " 2>&1")
                                   .c_str());
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    return {rc, text.str()};
  }

  fs::path work_;
  const CrossTriplets arm64_{"aarch64-linux-gnu", "x86_64-linux-gnu"};
};

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST_F(CrossBuildScript, AutotoolsConfigureGetsHostAndBuildAndTheCrossTools) {
  PackageSpec p = spec(BuildSystem::kAutotools);
  p.configure_args = {"--prefix=/opt/slurm/view"};
  const auto [rc, out] = configure(p, arm64_);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(has(out,
                  "args=--host=aarch64-linux-gnu --build=x86_64-linux-gnu "
                  "--prefix=/opt/slurm/view\n"))
      << out;
  EXPECT_TRUE(has(out, "CC=aarch64-linux-gnu-gcc\n")) << out;
  EXPECT_TRUE(
      has(out, "PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig"))
      << out;
  EXPECT_TRUE(has(out, "LD_LIBRARY_PATH=unset\n")) << "native tools must not load target libraries";
  EXPECT_TRUE(has(out, "cross build: x86_64-linux-gnu image, aarch64-linux-gnu target")) << out;

  // Native: no --host, the prefix's libraries on LD_LIBRARY_PATH as before.
  const auto [nrc, native] = configure(p, std::nullopt);
  ASSERT_EQ(nrc, 0) << native;
  EXPECT_TRUE(has(native, "args=--prefix=/opt/slurm/view\n")) << native;
  EXPECT_TRUE(has(native, "LD_LIBRARY_PATH=/opt/slurm/view/lib\n")) << native;
  EXPECT_FALSE(has(native, "--host=")) << native;
}

TEST_F(CrossBuildScript, ARecipesOwnConfigureCommandNamesItsTargetItself) {
  PackageSpec p = spec(BuildSystem::kAutotools);
  p.configure_command = "./Configure";
  p.configure_args = {"linux-aarch64", "--prefix=/opt/slurm/view"};
  const auto [rc, out] = configure(p, arm64_);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(has(out, "args=linux-aarch64 --prefix=/opt/slurm/view\n")) << out;
  EXPECT_TRUE(has(out, "CC=aarch64-linux-gnu-gcc\n")) << out;
}

TEST_F(CrossBuildScript, CmakeGetsAToolchainFileForTheTarget) {
  PackageSpec p = spec(BuildSystem::kCmake);
  p.configure_args = {"-DFOO=1"};
  const auto [rc, out] = configure(p, arm64_);
  ASSERT_EQ(rc, 0) << out;
  const std::string file = (work_ / "cross-toolchain.cmake").string();
  EXPECT_TRUE(has(out, "-DCMAKE_TOOLCHAIN_FILE=" + file + " -DFOO=1")) << out;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(has(text.str(), "set(CMAKE_SYSTEM_NAME Linux)\n")) << text.str();
  EXPECT_TRUE(has(text.str(), "set(CMAKE_SYSTEM_PROCESSOR aarch64)\n")) << text.str();
  EXPECT_TRUE(has(text.str(), "set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)\n")) << text.str();
}

TEST_F(CrossBuildScript, AMissingCrossToolStopsTheBuildNamingIt) {
  fs::remove(work_ / "bin/aarch64-linux-gnu-readelf");
  const auto [rc, out] = configure(spec(BuildSystem::kAutotools), arm64_);
  EXPECT_NE(rc, 0);
  EXPECT_TRUE(has(out, "the cross tool aarch64-linux-gnu-readelf is not in the image")) << out;
}

}  // namespace
}  // namespace sf
