// The example provider's layout: one flat directory, one file per key. A key
// ("debian-bookworm/x86_64/hello-1.0-aaaaaaaaaaaa.tar.zst") becomes one file name by
// percent-encoding every byte outside [A-Za-z0-9._+~-], and a leading '.':
// "debian-bookworm%2Fx86_64%2Fhello-1.0-aaaaaaaaaaaa.tar.zst". Since '/' is always encoded, no key
// can name a file outside the directory, and a name starting with '.' (the provider's temporary
// files) is never a key.
#pragma once

#include <optional>
#include <string>

namespace flat_example {

// The file name that stores `key` ("" for an empty key, which is refused by the caller).
std::string file_name_of(const std::string& key);

// The key stored in `file_name`, or nullopt when the name is not one file_name_of() makes (a
// temporary file, something else dropped into the directory).
std::optional<std::string> key_of(const std::string& file_name);

}  // namespace flat_example
