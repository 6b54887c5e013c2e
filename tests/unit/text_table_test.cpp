#include "support/text_table.hpp"

#include <gtest/gtest.h>

namespace sf::cli {
namespace {

TEST(TextTable, ColumnsArePaddedToTheWidestCellAndTheLastIsNot) {
  auto lines = format_table({"NAME", "V", "FILE"}, {{"debian", "1.0.0", "/a"}, {"x", "2", "/bb"}});
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0], "NAME    V      FILE");
  EXPECT_EQ(lines[1], "debian  1.0.0  /a");
  EXPECT_EQ(lines[2], "x       2      /bb");
}

TEST(TextTable, NoRowsGivesTheHeaderOnly) {
  auto lines = format_table({"LAYER", "ENTRY"}, {});
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0], "LAYER  ENTRY");
}

}  // namespace
}  // namespace sf::cli
