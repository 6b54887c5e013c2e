// Sonames handed to the export container's shell must be plain file names.
#include "containers/system_library_export.hpp"

#include <gtest/gtest.h>

namespace sf {
namespace {

TEST(SystemLibraryExport, PlainSonames) {
  for (const char* ok :
       {"libpmix.so.2", "libstdc++.so.6", "libevent_core-2.1.so.7", "ld-linux-x86-64.so.2"}) {
    EXPECT_TRUE(is_plain_soname(ok)) << ok;
  }
  for (const char* bad : {"", ".", "..", "../libc.so.6", "/usr/lib/libc.so.6", "lib c.so",
                          "libx.so;rm -rf /", "lib$(id).so", "libx.so\n", "lib'x'.so"}) {
    EXPECT_FALSE(is_plain_soname(bad)) << bad;
  }
}

}  // namespace
}  // namespace sf
