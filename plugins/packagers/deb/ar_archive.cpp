#include "ar_archive.hpp"

#include <cstdio>
#include <fstream>
#include <vector>

namespace sf::deb {

namespace {

std::string field(const std::string& value, std::size_t width) {
  std::string f = value.substr(0, width);
  f.resize(width, ' ');
  return f;
}

}  // namespace

std::string write_ar(const std::filesystem::path& out, const std::vector<ArMember>& members,
                     std::int64_t mtime) {
  std::ofstream o(out, std::ios::binary | std::ios::trunc);
  if (!o) return "cannot create " + out.string();
  o << "!<arch>\n";
  std::vector<char> buf(1 << 20);
  for (const auto& m : members) {
    if (m.name.empty() || m.name.size() > 16) return "ar member name too long: " + m.name;
    std::uint64_t size = m.content.size();
    std::ifstream in;
    if (!m.from_file.empty()) {
      std::error_code ec;
      size = std::filesystem::file_size(m.from_file, ec);
      in.open(m.from_file, std::ios::binary);
      if (ec || !in) return "cannot read " + m.from_file.string();
    }
    o << field(m.name, 16) << field(std::to_string(mtime), 12) << field("0", 6) << field("0", 6)
      << field("100644", 8) << field(std::to_string(size), 10) << "`\n";
    if (m.from_file.empty()) {
      o << m.content;
    } else {
      std::uint64_t copied = 0;
      while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto got = in.gcount();
        if (got <= 0) break;
        o.write(buf.data(), got);
        copied += static_cast<std::uint64_t>(got);
      }
      if (copied != size) return "short read of " + m.from_file.string();
    }
    if (size % 2 == 1) o << '\n';
  }
  o.flush();
  if (!o) return "cannot write " + out.string() + " (disk full?)";
  return "";
}

}  // namespace sf::deb
