// Test helper: an ELF file relabelled for another machine (e_machine rewritten in place), so a
// test on an amd64 host can hold an "arm64" file without a cross compiler. libelf reads it like
// any other; only its machine differs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>

namespace sf::test {

// e_machine sits at offset 18 of every ELF header (16 bytes of e_ident, 2 of e_type), little
// endian on the machines we build for.
inline void set_elf_machine(const std::filesystem::path& file, std::uint16_t machine) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(18);
  const char bytes[2] = {static_cast<char>(machine & 0xff), static_cast<char>(machine >> 8)};
  f.write(bytes, 2);
}

}  // namespace sf::test
