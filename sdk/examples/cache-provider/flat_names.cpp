#include "flat_names.hpp"

#include <cctype>

namespace flat_example {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool kept(char c, bool first) {
  const auto u = static_cast<unsigned char>(c);
  if (first && c == '.') return false;
  return std::isalnum(u) != 0 || c == '.' || c == '_' || c == '+' || c == '~' || c == '-';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // file_name_of writes upper case only
}

}  // namespace

std::string file_name_of(const std::string& key) {
  std::string out;
  out.reserve(key.size() + 8);
  for (std::size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (kept(c, i == 0)) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

std::optional<std::string> key_of(const std::string& file_name) {
  if (file_name.empty() || file_name.front() == '.') return std::nullopt;
  std::string key;
  for (std::size_t i = 0; i < file_name.size(); ++i) {
    const char c = file_name[i];
    if (c != '%') {
      if (!kept(c, i == 0)) return std::nullopt;
      key += c;
      continue;
    }
    if (i + 2 >= file_name.size()) return std::nullopt;
    const int hi = hex_value(file_name[i + 1]);
    const int lo = hex_value(file_name[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  // Only the one spelling file_name_of makes is a key (so two files never hold one key).
  if (file_name_of(key) != file_name) return std::nullopt;
  return key;
}

}  // namespace flat_example
