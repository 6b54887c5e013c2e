// View assembly on real entry trees built here: hardlinks, dev files dropped, a conflict refused,
// a library bundled because an ELF needs it (with RUNPATH $ORIGIN), system and GPU driver libraries
// left to the host, a library found nowhere reported.
#include "artifact/view_assembler.hpp"

#include <elf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../support/elf_machine.hpp"
#include "formats/elf_reader.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace {

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

const fs::path kSystemLibDir = "/usr/lib/x86_64-linux-gnu";

class ViewAssemblerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sf-view-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    slurm_ = dir_ / "entries/slurm";
    munge_ = dir_ / "entries/munge";
    stubs_ = dir_ / "stubs";
    for (const auto& d : {slurm_ / "bin", slurm_ / "lib/pkgconfig", slurm_ / "include/slurm",
                          slurm_ / "share/doc", munge_ / "lib", munge_ / "share/doc", stubs_}) {
      fs::create_directories(d);
    }
    const std::string s = stubs_.string();
    std::ofstream(stubs_ / "stub.c") << "int stub(void) { return 1; }\n";
    ASSERT_EQ(run("cc -shared -fPIC -Wl,-soname,libnvidia-ml.so.1 -o " + s + "/libnvidia-ml.so.1 " +
                  s + "/stub.c"),
              0);
    ASSERT_EQ(run("cc -shared -fPIC -Wl,-soname,libmissing.so.1 -o " + s + "/libmissing.so.1 " + s +
                  "/stub.c"),
              0);
    ASSERT_EQ(run("cc -shared -fPIC -Wl,-soname,libmunge.so.2 -o " + munge_.string() +
                  "/lib/libmunge.so.2 " + s + "/stub.c"),
              0);
    std::ofstream(stubs_ / "main.c") << "int main(void) { return 0; }\n";
    ASSERT_EQ(run("cc -o " + slurm_.string() + "/bin/sinfo " + s + "/main.c -Wl,--no-as-needed -L" +
                  s + " -L" + munge_.string() + "/lib -l:libmunge.so.2 -l:libnvidia-ml.so.1 " +
                  "-l:libmissing.so.1 -l:libz.so.1 && patchelf --set-rpath '$ORIGIN/../lib' " +
                  slurm_.string() + "/bin/sinfo"),
              0);
    std::ofstream(slurm_ / "include/slurm/slurm.h") << "/* header */\n";
    std::ofstream(slurm_ / "lib/libslurm.a") << "!<arch>\n";
    std::ofstream(slurm_ / "lib/libslurm.la") << "# libtool\n";
    std::ofstream(slurm_ / "lib/pkgconfig/slurm.pc") << "prefix=/opt/slurm/view\n";
    std::ofstream(slurm_ / "share/doc/COPYING") << "GPL\n";
    std::ofstream(munge_ / "share/doc/COPYING") << "GPL\n";  // same bytes: fine
    fs::create_symlink("libmunge.so.2", munge_ / "lib/libmunge.so");
    view_ = dir_ / "view";
    options_.system_libraries = {"libc.so.*", "libm.so.*", "ld-linux-*.so.*"};
    options_.system_library_dirs = {kSystemLibDir};
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<sf::ViewEntry> entries() const {
    return {{"slurm", "24.11.5", slurm_}, {"munge", "0.5.16", munge_}};
  }

  fs::path dir_, slurm_, munge_, stubs_, view_;
  sf::ViewAssemblyOptions options_;
};

}  // namespace

TEST_F(ViewAssemblerTest, LinksRuntimeFilesAndDropsDevFiles) {
  const auto report = sf::assemble_view(entries(), view_, options_);
  EXPECT_TRUE(fs::exists(view_ / "bin/sinfo"));
  EXPECT_TRUE(fs::exists(view_ / "lib/libmunge.so.2"));
  EXPECT_TRUE(fs::is_symlink(view_ / "lib/libmunge.so"));
  EXPECT_TRUE(fs::exists(view_ / "share/doc/COPYING"));
  EXPECT_FALSE(fs::exists(view_ / "include"));
  EXPECT_FALSE(fs::exists(view_ / "lib/libslurm.a"));
  EXPECT_FALSE(fs::exists(view_ / "lib/libslurm.la"));
  EXPECT_FALSE(fs::exists(view_ / "lib/pkgconfig"));
  EXPECT_EQ(report.dropped,
            (std::vector<std::string>{"include/slurm/slurm.h", "lib/libslurm.a", "lib/libslurm.la",
                                      "lib/pkgconfig/slurm.pc"}));
  struct stat st {};
  ASSERT_EQ(stat((view_ / "bin/sinfo").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u) << "same filesystem: the view hardlinks the entry's file";
  EXPECT_EQ(report.hardlinked, report.files - 1);  // all but the symlink
}

TEST_F(ViewAssemblerTest, KeepDevKeepsHeadersAndStaticLibraries) {
  options_.keep_dev = true;
  sf::assemble_view(entries(), view_, options_);
  EXPECT_TRUE(fs::exists(view_ / "include/slurm/slurm.h"));
  EXPECT_TRUE(fs::exists(view_ / "lib/libslurm.a"));
  EXPECT_TRUE(fs::exists(view_ / "lib/pkgconfig/slurm.pc"));
}

TEST_F(ViewAssemblerTest, BundlesWhatElfNeedsLeavesSystemAndDriverLibrariesAndReportsTheRest) {
  const auto report = sf::assemble_view(entries(), view_, options_);
  ASSERT_EQ(report.bundled.size(), 1u) << report.to_json().dump(2);
  EXPECT_EQ(report.bundled[0].soname, "libz.so.1");
  EXPECT_EQ(report.bundled[0].needed_by, "bin/sinfo");
  ASSERT_TRUE(fs::exists(view_ / "lib/libz.so.1"));
  EXPECT_FALSE(fs::is_symlink(view_ / "lib/libz.so.1"));
  auto z = sf::read_elf(view_ / "lib/libz.so.1");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->runpath, std::vector<std::string>{"$ORIGIN"});

  EXPECT_EQ(report.skipped_driver, std::vector<std::string>{"libnvidia-ml.so.1"});
  EXPECT_FALSE(fs::exists(view_ / "lib/libnvidia-ml.so.1"));
  EXPECT_NE(std::find(report.skipped_system.begin(), report.skipped_system.end(), "libc.so.6"),
            report.skipped_system.end());
  ASSERT_EQ(report.unresolved.size(), 1u);
  EXPECT_EQ(report.unresolved[0].soname, "libmissing.so.1");
  EXPECT_EQ(report.unresolved[0].needed_by, "bin/sinfo");
  // libmunge.so.2 comes from the munge entry: provided, not bundled, not unresolved.
  for (const auto& b : report.bundled) EXPECT_NE(b.soname, "libmunge.so.2");
}

TEST_F(ViewAssemblerTest, BundleOnlyRestrictsBundlingToTheSystemDependencies) {
  options_.bundle_only = {"libssl.so.*"};
  const auto report = sf::assemble_view(entries(), view_, options_);
  EXPECT_TRUE(report.bundled.empty());
  EXPECT_EQ(report.unresolved.size(), 2u);  // libz and libmissing
}

// A library no NEEDED entry names (Slurm's mpi_pmix dlopens libpmix.so.2): bundled when declared,
// with its own NEEDED closure; a declared soname the view provides is left alone; one found
// nowhere is reported as needed by "<package> (dlopen)".
TEST_F(ViewAssemblerTest, BundlesDlopenedLibrariesWithTheirClosure) {
  const fs::path sys = dir_ / "image-lib";
  fs::create_directories(sys);
  ASSERT_EQ(run("cc -shared -fPIC -Wl,-soname,libplug.so.2 -Wl,--no-as-needed -o " +
                (sys / "libplug.so.2").string() + " " + (stubs_ / "stub.c").string() +
                " -l:libz.so.1 -l:liblzma.so.5"),
            0);
  options_.system_library_dirs = {sys, kSystemLibDir};
  options_.dlopened = {{"libplug.so.2", "pmix"}, {"libmunge.so.2", "munge"}, {"libgone.so.1", "x"}};
  const auto report = sf::assemble_view(entries(), view_, options_);
  auto find = [&](const std::string& so) {
    return std::find_if(report.bundled.begin(), report.bundled.end(),
                        [&](const sf::BundledLibrary& b) { return b.soname == so; });
  };
  ASSERT_NE(find("libplug.so.2"), report.bundled.end()) << report.to_json().dump(2);
  EXPECT_EQ(find("libplug.so.2")->needed_by, "pmix (dlopen)");
  EXPECT_EQ(find("libplug.so.2")->from, sys / "libplug.so.2");
  ASSERT_NE(find("liblzma.so.5"), report.bundled.end()) << "the dlopened library's NEEDED closure";
  EXPECT_EQ(find("liblzma.so.5")->needed_by, "lib/libplug.so.2");
  EXPECT_TRUE(fs::exists(view_ / "lib/libplug.so.2"));
  auto plug = sf::read_elf(view_ / "lib/libplug.so.2");
  ASSERT_TRUE(plug);
  EXPECT_EQ(plug->runpath, std::vector<std::string>{"$ORIGIN"});
  EXPECT_EQ(find("libmunge.so.2"), report.bundled.end()) << "provided by the munge entry";
  bool gone = false;
  for (const auto& u : report.unresolved) {
    if (u.soname == "libgone.so.1") gone = u.needed_by == "x (dlopen)";
  }
  EXPECT_TRUE(gone) << report.to_json().dump(2);
}

// Issue 13 item 3: view/bin and view/sbin hold only the programs of packages that make them
// public (Slurm, munge); a dependency's programs, links among them and man pages stay out, its
// libraries stay in and are still what the view's ELF files find.
TEST_F(ViewAssemblerTest, ADependencysProgramsAndManPagesStayOutOfTheView) {
  const fs::path curl = dir_ / "entries/curl";
  for (const auto& d : {curl / "bin", curl / "lib", curl / "share/man/man1", munge_ / "bin",
                        munge_ / "sbin", slurm_ / "sbin"}) {
    fs::create_directories(d);
  }
  ASSERT_EQ(run("cc -o " + (curl / "bin/curl").string() + " " + (stubs_ / "main.c").string() +
                " -Wl,--no-as-needed -l:liblzma.so.5"),
            0);
  std::ofstream(curl / "bin/curl-config") << "#!/bin/sh\necho /opt/slurm/view\n";
  std::ofstream(curl / "bin/wcurl") << "#!/bin/sh\n";
  fs::create_symlink("curl", curl / "bin/curl-alias");
  std::ofstream(curl / "share/man/man1/curl.1") << ".TH curl\n";
  ASSERT_EQ(run("cc -shared -fPIC -Wl,-soname,libcurl.so.4 -o " +
                (curl / "lib/libcurl.so.4").string() + " " + (stubs_ / "stub.c").string()),
            0);
  std::ofstream(munge_ / "bin/munge") << "#!/bin/sh\n";
  std::ofstream(munge_ / "bin/mungekey-helper") << "#!/bin/sh\n";
  std::ofstream(munge_ / "sbin/munged") << "#!/bin/sh\n";
  std::ofstream(slurm_ / "sbin/slurmd") << "#!/bin/sh\n";
  std::vector<sf::ViewEntry> list{{"slurm", "24.11.5", slurm_, {"*"}},
                                  {"munge", "0.5.16", munge_, {"munge", "munged"}},
                                  {"curl", "8.14.1", curl, {}}};
  const auto report = sf::assemble_view(list, view_, options_);
  EXPECT_TRUE(fs::exists(view_ / "bin/sinfo"));
  EXPECT_TRUE(fs::exists(view_ / "sbin/slurmd"));
  EXPECT_TRUE(fs::exists(view_ / "bin/munge"));
  EXPECT_TRUE(fs::exists(view_ / "sbin/munged"));
  EXPECT_TRUE(fs::exists(view_ / "lib/libcurl.so.4")) << "a dependency's libraries stay";
  for (const char* gone : {"bin/curl", "bin/curl-config", "bin/wcurl", "bin/mungekey-helper",
                           "share/man/man1/curl.1"}) {
    EXPECT_FALSE(fs::exists(view_ / gone)) << gone;
  }
  EXPECT_FALSE(fs::is_symlink(view_ / "bin/curl-alias"));
  std::vector<std::string> priv = report.private_files;
  std::sort(priv.begin(), priv.end());
  EXPECT_EQ(priv, (std::vector<std::string>{"bin/curl", "bin/curl-alias", "bin/curl-config",
                                            "bin/mungekey-helper", "bin/wcurl",
                                            "share/man/man1/curl.1"}));
  EXPECT_EQ(report.to_json()["private"].size(), 6u);
  // Only curl's program needed liblzma: nothing of the view needs it now.
  for (const auto& b : report.bundled) EXPECT_NE(b.soname, "liblzma.so.5");
  // The view's own ELF files still find their libraries (bundled or provided).
  EXPECT_EQ(report.bundled.size(), 1u) << report.to_json().dump(2);
}

TEST_F(ViewAssemblerTest, RefusesTwoPackagesShippingDifferentFilesAtOnePath) {
  std::ofstream(munge_ / "share/doc/COPYING") << "BSD\n";
  try {
    sf::assemble_view(entries(), view_, options_);
    FAIL() << "expected PackagingError";
  } catch (const sf::PackagingError& e) {
    EXPECT_EQ(e.context_value("file"), "share/doc/COPYING");
    EXPECT_EQ(e.context_value("package"), "slurm-24.11.5");
    EXPECT_EQ(e.context_value("other package"), "munge-0.5.16");
  }
}

TEST(ViewAssemblerRules, DevFileRules) {
  EXPECT_TRUE(sf::is_dev_file("include/slurm/slurm.h"));
  EXPECT_TRUE(sf::is_dev_file("lib/libslurm.a"));
  EXPECT_TRUE(sf::is_dev_file("lib/slurm/auth_munge.la"));
  EXPECT_TRUE(sf::is_dev_file("lib64/pkgconfig/slurm.pc"));
  EXPECT_TRUE(sf::is_dev_file("lib/cmake/Foo/FooConfig.cmake"));
  EXPECT_FALSE(sf::is_dev_file("lib/slurm/auth_munge.so"));
  EXPECT_FALSE(sf::is_dev_file("bin/sinfo"));
  EXPECT_FALSE(sf::is_dev_file("share/man/man1/sinfo.1"));
  EXPECT_TRUE(sf::is_dev_file("share/aclocal/libcurl.m4"));
  EXPECT_TRUE(sf::matches_any("libc.so.6", {"libc.so.*"}));
  EXPECT_FALSE(sf::matches_any("libcrypt.so.1", {"libc.so.*"}));
}

TEST(ViewAssemblerRules, PrivateFileRules) {
  const std::vector<std::string> none;
  const std::vector<std::string> munge{"munge", "un*"};
  EXPECT_TRUE(sf::is_private_file("bin/curl", none));
  EXPECT_TRUE(sf::is_private_file("sbin/helper", none));
  EXPECT_TRUE(sf::is_private_file("bin/tools/x", none)) << "a folder of bin/ goes with its name";
  EXPECT_TRUE(sf::is_private_file("share/man/man1/curl.1", none));
  EXPECT_FALSE(sf::is_private_file("bin", none)) << "the folder itself is not a program";
  EXPECT_FALSE(sf::is_private_file("lib/libcurl.so.4", none));
  EXPECT_FALSE(sf::is_private_file("libexec/curl/x", none));
  EXPECT_FALSE(sf::is_private_file("share/doc/curl/README", none));
  EXPECT_FALSE(sf::is_private_file("bin/munge", munge));
  EXPECT_FALSE(sf::is_private_file("bin/unmunge", munge));
  EXPECT_TRUE(sf::is_private_file("bin/remunge", munge));
  EXPECT_FALSE(sf::is_private_file("share/man/man1/remunge.1", munge))
      << "a package with public programs keeps its man pages";
  EXPECT_FALSE(sf::is_private_file("sbin/slurmd", {"*"}));
}

// An entry whose folder is a link to a host folder (in the view, from the first package) never
// lets a second package write through it; an entry tree that is itself a link is not walked.
TEST_F(ViewAssemblerTest, NothingIsWrittenThroughALinkAndALinkedTreeIsNotWalked) {
  const fs::path host = dir_ / "host";
  fs::create_directories(host);
  std::ofstream(host / "secret") << "host file\n";
  fs::create_symlink(host, munge_ / "share/host");
  const fs::path other = dir_ / "entries/other";
  fs::create_directories(other / "share/host");
  std::ofstream(other / "share/host/evil") << "written through the link\n";
  auto list = entries();
  list.push_back({"other", "1.0", other});
  EXPECT_THROW(sf::assemble_view(list, view_, options_), sf::PackagingError);
  EXPECT_FALSE(fs::exists(host / "evil")) << "a package wrote into the host folder";
  EXPECT_TRUE(fs::is_symlink(view_ / "share/host")) << "the link itself is kept as a link";

  const fs::path linked = dir_ / "entries/linked";
  fs::create_symlink(host, linked);
  fs::remove_all(view_);
  try {
    sf::assemble_view({{"linked", "1.0", linked}}, view_, options_);
    FAIL() << "walked a tree that is a link";
  } catch (const sf::PackagingError& e) {
    EXPECT_NE(std::string(e.what()).find("symlink"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(view_ / "secret"));
}

// Issue 17: every ELF file of an arm64 view is an aarch64 one; an amd64 file (a recipe that ignored
// the cross compiler) stops the assembly naming it, and so does a bundled library of the host's
// architecture.
TEST_F(ViewAssemblerTest, AnElfFileOfAnotherArchitectureIsRefusedNamingIt) {
  options_.arch = "amd64";
  EXPECT_NO_THROW(sf::assemble_view(entries(), view_, options_)) << "native files, native view";
  fs::remove_all(view_);
  options_.arch = "arm64";
  try {
    sf::assemble_view(entries(), view_, options_);
    FAIL() << "an amd64 view passed as arm64";
  } catch (const sf::PackagingError& e) {
    EXPECT_NE(std::string(e.what()).find("is an amd64 ELF file in an arm64 artifact"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ViewAssemblerTest, ABundledLibraryMustBeOfTheViewsArchitecture) {
  // Every file of the entries is relabelled aarch64; the libz found for bundling is still the
  // host's x86-64 one.
  for (const auto& f : fs::recursive_directory_iterator(dir_ / "entries")) {
    if (!f.is_symlink() && f.is_regular_file() && sf::is_elf_file(f.path())) {
      sf::test::set_elf_machine(f.path(), EM_AARCH64);
    }
  }
  options_.arch = "arm64";
  try {
    sf::assemble_view(entries(), view_, options_);
    FAIL() << "an x86-64 libz was bundled into an arm64 view";
  } catch (const sf::PackagingError& e) {
    EXPECT_NE(std::string(e.what()).find("libz.so.1 that bin/sinfo needs is an amd64 ELF file"),
              std::string::npos)
        << e.what();
  }
}
