// The registry client's parsing: packagers.oci.registry, and the WWW-Authenticate challenges of
// real registries (docker.io, ghcr.io, distribution with htpasswd). The pushes themselves go to a
// real registry: tests/integration/oci_registry_test.cpp and tests/e2e/oci.sh.
#include "oci_registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "slurm_factory/errors.hpp"

namespace {

using ::testing::HasSubstr;

TEST(OciRegistry, LocationSplitsHostAndNamespace) {
  auto l = sf::oci::parse_registry("registry.example.org:5000/hpc/slurm", std::nullopt);
  EXPECT_EQ(l.host, "registry.example.org:5000");
  EXPECT_EQ(l.namespace_, "hpc/slurm");
  EXPECT_FALSE(l.plain_http);
  l = sf::oci::parse_registry("ghcr.io", std::nullopt);
  EXPECT_EQ(l.namespace_, "");
}

TEST(OciRegistry, LoopbackIsPlainHttpUnlessSaidOtherwise) {
  EXPECT_TRUE(sf::oci::parse_registry("127.0.0.1:5000/x", std::nullopt).plain_http);
  EXPECT_TRUE(sf::oci::parse_registry("localhost:5000", std::nullopt).plain_http);
  EXPECT_FALSE(sf::oci::parse_registry("127.0.0.1:5000/x", false).plain_http);
  EXPECT_TRUE(sf::oci::parse_registry("registry.example.org/x", true).plain_http);
}

TEST(OciRegistry, RefusesSchemesCredentialsAndOddNames) {
  for (const char* bad : {"https://ghcr.io/x", "user:pw@ghcr.io/x", "ghcr.io/X", "ghcr.io/a//b",
                          "ghcr.io/a/../b", "", "ghcr.io/a b", "reg;rm -rf /"}) {
    try {
      sf::oci::parse_registry(bad, std::nullopt);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const sf::ConfigurationError& e) {
      EXPECT_THAT(e.what(), HasSubstr("packagers.oci.registry")) << bad;
    }
  }
}

TEST(OciRegistry, ParsesBearerAndBasicChallenges) {
  auto c = sf::oci::parse_challenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull")");
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_EQ(c.params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c.params["service"], "registry.docker.io");
  EXPECT_EQ(c.params["scope"], "repository:library/debian:pull");
  c = sf::oci::parse_challenge(R"(Basic realm="Registry Realm")");
  EXPECT_EQ(c.scheme, "basic");
  EXPECT_EQ(c.params["realm"], "Registry Realm");
  EXPECT_EQ(sf::oci::parse_challenge("").scheme, "");
}

}  // namespace
