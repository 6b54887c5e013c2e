#include "support/text_table.hpp"

#include <algorithm>

namespace sf::cli {

std::vector<std::string> format_table(const std::vector<std::string>& header,
                                      const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) {
      if (c < r.size()) width[c] = std::max(width[c], r[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      s += cells[c];
      if (c + 1 < cells.size() && c < width.size()) {
        s += std::string(width[c] - std::min(width[c], cells[c].size()) + 2, ' ');
      }
    }
    return s;
  };
  std::vector<std::string> lines;
  lines.reserve(rows.size() + 1);
  lines.push_back(line(header));
  for (const auto& r : rows) lines.push_back(line(r));
  return lines;
}

}  // namespace sf::cli
