// Architectures: uname names to Debian's, the loader and ELF machine of each target, and the
// message an ELF file of the wrong architecture gets.
#include "support/host_arch.hpp"

#include <elf.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>

namespace sf {
namespace {

TEST(HostArch, UnameNamesBecomeDebianNames) {
  EXPECT_EQ(debian_arch_name("x86_64"), "amd64");
  EXPECT_EQ(debian_arch_name("aarch64"), "arm64");
  EXPECT_EQ(debian_arch_name("arm64"), "arm64");
  EXPECT_EQ(debian_arch_name("riscv64"), "riscv64");
  struct utsname u {};
  ASSERT_EQ(::uname(&u), 0);
  EXPECT_EQ(host_arch(), debian_arch_name(u.machine));
}

TEST(HostArch, EachSupportedArchHasALoaderAndAnElfMachine) {
  for (const auto& a : supported_arches()) {
    EXPECT_FALSE(dynamic_loader_soname(a).empty()) << a;
    ASSERT_TRUE(elf_machine_of(a).has_value()) << a;
    EXPECT_EQ(arch_of_elf_machine(*elf_machine_of(a)), a);
  }
  EXPECT_EQ(dynamic_loader_soname("arm64"), "ld-linux-aarch64.so.1");
  EXPECT_EQ(dynamic_loader_soname("amd64"), "ld-linux-x86-64.so.2");
  EXPECT_EQ(elf_machine_of("arm64"), EM_AARCH64);
  EXPECT_FALSE(elf_machine_of("sparc").has_value());
}

TEST(HostArch, AnElfFileOfAnotherArchitectureIsNamed) {
  EXPECT_EQ(elf_arch_mismatch(EM_AARCH64, "arm64"), "");
  EXPECT_EQ(elf_arch_mismatch(EM_X86_64, "arm64"), "an amd64 ELF file in an arm64 artifact");
  EXPECT_EQ(elf_arch_mismatch(EM_AARCH64, "amd64"), "an arm64 ELF file in an amd64 artifact");
  EXPECT_EQ(elf_arch_mismatch(EM_PPC64, "amd64"), "an ELF file of machine 21 in an amd64 artifact");
  EXPECT_EQ(elf_arch_mismatch(EM_X86_64, ""), "") << "no arch: nothing checked";
}

TEST(HostArch, TheImageOfACrossBuildIsTheHosts) {
  ToolchainRelease r;
  r.arch = "arm64";
  EXPECT_FALSE(is_cross_build(r));
  EXPECT_EQ(image_arch(r), "arm64");
  r.build_arch = "arm64";
  EXPECT_FALSE(is_cross_build(r));
  r.build_arch = "amd64";
  EXPECT_TRUE(is_cross_build(r));
  EXPECT_EQ(image_arch(r), "amd64");
}

}  // namespace
}  // namespace sf
