#include "support/host_arch.hpp"

#include <elf.h>
#include <sys/utsname.h>

namespace sf {

std::string debian_arch_name(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  return machine;
}

std::string host_arch() {
  struct utsname u {};
  if (::uname(&u) != 0) return "amd64";
  return debian_arch_name(u.machine);
}

const std::vector<std::string>& supported_arches() {
  static const std::vector<std::string> arches = {"amd64", "arm64"};
  return arches;
}

std::string dynamic_loader_soname(const std::string& arch) {
  if (arch == "amd64") return "ld-linux-x86-64.so.2";
  if (arch == "arm64") return "ld-linux-aarch64.so.1";
  return "";
}

std::optional<std::uint16_t> elf_machine_of(const std::string& arch) {
  if (arch == "amd64") return EM_X86_64;
  if (arch == "arm64") return EM_AARCH64;
  return std::nullopt;
}

std::string arch_of_elf_machine(std::uint16_t machine) {
  if (machine == EM_X86_64) return "amd64";
  if (machine == EM_AARCH64) return "arm64";
  return "";
}

std::string describe_elf_machine(std::uint16_t machine) {
  const std::string a = arch_of_elf_machine(machine);
  return a.empty() ? "machine " + std::to_string(machine) : a;
}

std::string elf_arch_mismatch(std::uint16_t machine, const std::string& arch) {
  const auto want = elf_machine_of(arch);
  if (!want || *want == machine) return "";
  const std::string other = arch_of_elf_machine(machine);
  return (other.empty() ? "an ELF file of machine " + std::to_string(machine)
                        : "an " + other + " ELF file") +
         " in an " + arch + " artifact";
}

std::string image_arch(const ToolchainRelease& release) {
  return is_cross_build(release) ? release.build_arch : release.arch;
}

}  // namespace sf
