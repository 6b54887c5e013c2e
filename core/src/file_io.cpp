#include "slurm_factory/core/file_io.hpp"

#include <fstream>
#include <system_error>

namespace sf {

std::string write_file_atomically(const std::filesystem::path& dest, const std::string& content) {
  const std::filesystem::path tmp = dest.string() + ".tmp";
  std::string problem;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) problem = "cannot write " + tmp.string();
  }
  if (problem.empty()) {
    std::error_code ec;
    std::filesystem::rename(tmp, dest, ec);
    if (!ec) return {};
    problem = "cannot rename " + tmp.string() + " to " + dest.string() + ": " + ec.message();
  }
  std::error_code ignored;
  std::filesystem::remove(tmp, ignored);
  return problem;
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

}  // namespace sf
