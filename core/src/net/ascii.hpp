// ASCII lower case for header names and query parameter names (never locale-dependent).
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

namespace sf::http {

inline std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace sf::http
