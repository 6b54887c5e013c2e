// Reads what relocation and verification need from ELF files with libelf (elfutils): the dynamic
// section's NEEDED, RPATH, RUNPATH and SONAME, the program interpreter, and scans the file's bytes
// for embedded strings that name a path prefix (a build prefix compiled into a binary).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

struct ElfSection {
  std::string name;
  std::uint64_t offset = 0;  // in the file
  std::uint64_t size = 0;    // in the file (0 for SHT_NOBITS)
  bool alloc = false;        // SHF_ALLOC: loaded at run time (false for .debug_*, .comment, ...)
};

struct ElfInfo {
  std::filesystem::path path;
  bool is_64bit = true;
  std::uint16_t type = 0;     // ET_EXEC, ET_DYN, ET_REL, ...
  std::uint16_t machine = 0;  // EM_X86_64, EM_AARCH64, ...
  std::string soname;
  std::vector<std::string> needed;   // in order
  std::vector<std::string> rpath;    // DT_RPATH, split at ':'
  std::vector<std::string> runpath;  // DT_RUNPATH, split at ':'
  std::string interpreter;           // PT_INTERP, "" for libraries
  bool has_dynamic = false;          // false for static executables and object files
  std::vector<ElfSection> sections;  // in header order

  // The section holding file offset `offset`, or nullptr.
  const ElfSection* section_at(std::uint64_t offset) const;
};

// Whether `path` is a regular file starting with the ELF magic (cheap: reads 4 bytes).
bool is_elf_file(const std::filesystem::path& path);

// Reads `path`. Failure (naming the file) when it is not ELF or cannot be read.
Expected<ElfInfo> read_elf(const std::filesystem::path& path);

// A NUL-terminated string found in a file's bytes.
struct EmbeddedString {
  std::uint64_t offset = 0;  // where the string starts
  std::string value;         // the whole string, from the previous NUL to the next
};

// Every string in `path` that contains `needle` (e.g. "/opt/slurm/view"), in file order; a string
// containing the needle twice is reported once. Works on any file, ELF or not; with
// `skip_elf`, an ELF file is not read past its magic number (nothing found).
Expected<std::vector<EmbeddedString>> find_embedded_strings(const std::filesystem::path& path,
                                                            std::string_view needle,
                                                            bool skip_elf = false);

// Same over bytes already in memory.
std::vector<EmbeddedString> find_embedded_strings_in(std::string_view bytes,
                                                     std::string_view needle);

}  // namespace sf
