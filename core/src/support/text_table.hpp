// Aligned text tables for list commands: columns padded to their widest cell, two spaces apart,
// the last column unpadded.
#pragma once

#include <string>
#include <vector>

namespace sf::cli {

// One line per row (header first), without trailing newlines.
std::vector<std::string> format_table(const std::vector<std::string>& header,
                                      const std::vector<std::vector<std::string>>& rows);

}  // namespace sf::cli
