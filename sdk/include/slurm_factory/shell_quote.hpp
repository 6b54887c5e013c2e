// Quoting for the POSIX shell scripts the tool and its plugins generate (build scripts, image setup
// scripts, rerun commands). Implemented in the core library (core/src/support/shell_quote.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sf {

// One word, single-quoted where needed: "abc" -> abc, "a b" -> 'a b', "it's" -> 'it'\''s'.
std::string shell_quote(std::string_view word);
// Words quoted and joined with spaces (safe for `eval "set -- $LIST"`).
std::string shell_join(const std::vector<std::string>& words);

}  // namespace sf
