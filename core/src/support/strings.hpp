// Small string helpers the core shares: joining a list, trimming, replacing every occurrence.
#pragma once

#include <string>
#include <string_view>

namespace sf {

// The items with `sep` between them: {"a", "b"} -> "a, b". A separator is added only once the text
// so far is not empty, so leading empty items leave no separator behind ({"", "a"} -> "a").
template <typename Range>
std::string join(const Range& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// `s` without leading and trailing white space (std::isspace).
std::string_view trim(std::string_view s);

// `s` without the trailing characters that are in `chars`: trim_end("a \n", " \n") -> "a".
std::string_view trim_end(std::string_view s, std::string_view chars);

// `s` with every occurrence of `from` replaced by `to`, left to right; a replacement is never
// searched again. `from` must not be empty.
std::string replace_all(std::string s, std::string_view from, std::string_view to);

}  // namespace sf
