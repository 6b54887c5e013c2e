#include "cli/cli.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "slurm_factory/abi.hpp"

namespace sf::cli {
namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result call(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(Cli, HelpListsTheCommandsAndAnExample) {
  auto r = call({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("build-slurm"), std::string::npos);
  EXPECT_NE(r.out.find("toolchains list"), std::string::npos);
  EXPECT_NE(r.out.find("Example: slurm-factory build-slurm"), std::string::npos);
}

TEST(Cli, NoArgumentsPrintsHelpAndIsAUsageError) {
  auto r = call({});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("Commands:"), std::string::npos);
}

TEST(Cli, UnknownCommandIsAUsageErrorPointingAtHelp) {
  auto r = call({"bild-slurm"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("usage error: unknown command 'bild-slurm'"), std::string::npos);
  EXPECT_NE(r.err.find("slurm-factory --help"), std::string::npos);
}

TEST(Cli, AGroupWithoutSubcommandListsTheDeepestGroup) {
  auto r = call({"cache", "keys"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'cache keys' needs a subcommand"), std::string::npos);
  EXPECT_NE(r.err.find("slurm-factory cache keys export"), std::string::npos);
  EXPECT_EQ(r.err.find("slurm-factory cache list"), std::string::npos);

  r = call({"cache", "bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'cache' needs a subcommand ('bogus' is not one)"), std::string::npos);
}

TEST(Cli, GlobalOptionsAreAcceptedAfterTheCommand) {
  auto r = call({"version", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["abi"], "3.2");
  EXPECT_EQ(j["toolchain"], sf::toolchain_fingerprint());
}

TEST(Cli, AGlobalOptionWithoutItsValueIsAUsageError) {
  auto r = call({"version", "--config"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--config needs a value"), std::string::npos);
}

TEST(Cli, BadCommandOptionNamesItAndTheCommandsHelp) {
  auto r = call({"build-slurm", "--gpu", "quantum"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("invalid --gpu value 'quantum'"), std::string::npos);
  EXPECT_NE(r.err.find("valid values: cuda, rocm, oneapi"), std::string::npos);
}

}  // namespace
}  // namespace sf::cli
