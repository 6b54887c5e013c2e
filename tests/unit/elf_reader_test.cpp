// The ELF reader on real ELF files built here with the system compiler, with RUNPATHs set by
// patchelf, and the embedded-string scan on a binary that compiles a path in.
#include "formats/elf_reader.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

class ElfReaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("sf-elf-reader-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "lib");
    fs::create_directories(dir_ / "bin");
    std::ofstream(dir_ / "foo.c") << "int foo(void) { return 42; }\n";
    std::ofstream(dir_ / "main.c")
        << "#include <stdio.h>\nint foo(void);\n"
           "static const char stepd[] = \"/opt/slurm/view/sbin/slurmstepd\";\n"
           "int main(void) { puts(stepd); return foo() == 42 ? 0 : 1; }\n";
    const std::string d = dir_.string();
    ASSERT_EQ(run("cc -shared -fPIC -Wl,-soname,libfoo.so.1 -o " + d + "/lib/libfoo.so.1 " + d +
                  "/foo.c"),
              0);
    ASSERT_EQ(run("cc -o " + d + "/bin/main " + d + "/main.c -L" + d + "/lib -l:libfoo.so.1"), 0);
    ASSERT_EQ(run("patchelf --set-rpath '$ORIGIN/../lib' " + d + "/bin/main"), 0);
    ASSERT_EQ(run("cp " + d + "/bin/main " + d + "/bin/main-abs && patchelf --set-rpath " + d +
                  "/lib:/opt/build/lib " + d + "/bin/main-abs"),
              0);
    ASSERT_EQ(run("cp " + d + "/bin/main " + d + "/bin/main-rpath && patchelf --force-rpath " +
                  "--set-rpath /old/lib " + d + "/bin/main-rpath"),
              0);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
};
fs::path ElfReaderTest::dir_;

}  // namespace

TEST_F(ElfReaderTest, ReadsSonameOfASharedLibrary) {
  auto info = sf::read_elf(dir_ / "lib/libfoo.so.1");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->soname, "libfoo.so.1");
  EXPECT_EQ(info->type, ET_DYN);
  EXPECT_TRUE(info->interpreter.empty());
  EXPECT_TRUE(info->has_dynamic);
}

TEST_F(ElfReaderTest, ReadsNeededRunpathAndInterpreterOfAnExecutable) {
  auto info = sf::read_elf(dir_ / "bin/main");
  ASSERT_TRUE(info) << info.error().message;
  ASSERT_GE(info->needed.size(), 2u);
  EXPECT_EQ(info->needed[0], "libfoo.so.1");
  EXPECT_NE(std::find(info->needed.begin(), info->needed.end(), "libc.so.6"), info->needed.end());
  EXPECT_EQ(info->runpath, std::vector<std::string>{"$ORIGIN/../lib"});
  EXPECT_TRUE(info->rpath.empty());
  EXPECT_NE(info->interpreter.find("ld-linux"), std::string::npos) << info->interpreter;
}

TEST_F(ElfReaderTest, SplitsAnAbsoluteRunpathList) {
  auto info = sf::read_elf(dir_ / "bin/main-abs");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->runpath,
            (std::vector<std::string>{(dir_ / "lib").string(), std::string("/opt/build/lib")}));
}

TEST_F(ElfReaderTest, ReadsALegacyRpath) {
  auto info = sf::read_elf(dir_ / "bin/main-rpath");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->rpath, std::vector<std::string>{"/old/lib"});
  EXPECT_TRUE(info->runpath.empty());
}

TEST_F(ElfReaderTest, RefusesNonElfFilesNamingThem) {
  std::ofstream(dir_ / "script.sh") << "#!/bin/sh\necho hi\n";
  EXPECT_FALSE(sf::is_elf_file(dir_ / "script.sh"));
  EXPECT_TRUE(sf::is_elf_file(dir_ / "bin/main"));
  auto info = sf::read_elf(dir_ / "script.sh");
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("script.sh"), std::string::npos);
  EXPECT_FALSE(sf::read_elf(dir_ / "does-not-exist"));
}

TEST_F(ElfReaderTest, FindsACompiledInPathInTheBinary) {
  auto found = sf::find_embedded_strings(dir_ / "bin/main", "/opt/slurm/view");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].value, "/opt/slurm/view/sbin/slurmstepd");
  // The offset points at the string's first byte.
  std::ifstream in(dir_ / "bin/main", std::ios::binary);
  in.seekg(static_cast<std::streamoff>((*found)[0].offset));
  std::string head(15, '\0');
  in.read(head.data(), 15);
  EXPECT_EQ(head, "/opt/slurm/view");
  // ... inside .rodata, a section loaded at run time.
  auto info = sf::read_elf(dir_ / "bin/main");
  ASSERT_TRUE(info);
  const sf::ElfSection* sec = info->section_at((*found)[0].offset);
  ASSERT_NE(sec, nullptr);
  EXPECT_EQ(sec->name, ".rodata");
  EXPECT_TRUE(sec->alloc);
  auto none = sf::find_embedded_strings(dir_ / "lib/libfoo.so.1", "/opt/slurm/view");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(EmbeddedStrings, ReportsEachStringOnceAndTrimsAtNonPrintableBytes) {
  using namespace std::string_literals;
  const std::string bytes = "\x01\x02/p/bin/srun\0junk\0x=/p/a:/p/b\0"s;
  auto found = sf::find_embedded_strings_in(bytes, "/p/");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].value, "/p/bin/srun");
  EXPECT_EQ(found[0].offset, 2u);
  EXPECT_EQ(found[1].value, "x=/p/a:/p/b");
}
