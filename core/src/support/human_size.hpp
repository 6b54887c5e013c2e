// Byte counts for people: "0 B", "512 B", "1.5 KiB", "3.2 GiB" (binary units, one decimal).
#pragma once

#include <cstdint>
#include <string>

namespace sf {

std::string human_size(std::uint64_t bytes);

}  // namespace sf
