// Architectures: the build host's, in Debian's names (what --arch takes), and what a target
// architecture implies (its dynamic loader, its ELF machine).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "slurm_factory/toolchain.hpp"

namespace sf {

// The machine this process runs on, in Debian's names: "amd64", "arm64" (uname's x86_64,
// aarch64); another machine's uname name as it is.
std::string host_arch();
// The same mapping for a uname machine name.
std::string debian_arch_name(const std::string& machine);

// The architectures --arch accepts: those the build scripts, the ELF checks and the recipes know.
const std::vector<std::string>& supported_arches();

// The dynamic loader of an architecture's glibc programs ("ld-linux-aarch64.so.1"); "" if unknown.
std::string dynamic_loader_soname(const std::string& arch);

// The ELF e_machine of an architecture (EM_X86_64, EM_AARCH64); nullopt if unknown.
std::optional<std::uint16_t> elf_machine_of(const std::string& arch);
// The architecture of an ELF e_machine, "" if none of supported_arches().
std::string arch_of_elf_machine(std::uint16_t machine);

// How an ELF machine reads in a message: "arm64", "amd64", else "machine 40".
std::string describe_elf_machine(std::uint16_t machine);
// Empty when an ELF file of `machine` belongs in an `arch` artifact (or `arch` is not one whose
// machine is known); else why not: "an amd64 ELF file in an arm64 artifact".
std::string elf_arch_mismatch(std::uint16_t machine, const std::string& arch);

// The architecture the build image runs: the host's for a cross build, else the target's.
std::string image_arch(const ToolchainRelease& release);

}  // namespace sf
