// The registry client's parsing: packagers.oci.registry, and the WWW-Authenticate challenges of
// real registries (docker.io, ghcr.io, distribution with htpasswd). The pushes themselves go to a
// real registry: tests/integration/oci_registry_test.cpp and tests/e2e/oci.sh.
#include "oci_registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>

#include "../support/temp_dir.hpp"
#include "../support/test_http_server.hpp"
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

namespace {

// The authentication flows against a scripted server (the real, open registry is the integration
// test's): a Bearer challenge is answered by a token from the realm, asked with the user's
// credentials, for the repository's pull,push scope; a Basic challenge by the credentials; no
// credential ever in a message.
class OciRegistryAuth : public ::testing::Test {
 protected:
  std::vector<sf::test::HttpRequestSeen> seen;
  std::mutex mu;
};

TEST_F(OciRegistryAuth, BearerTokenFromTheRealmWithTheCredentials) {
  std::unique_ptr<sf::test::TestHttpServer> server;
  server = std::make_unique<sf::test::TestHttpServer>([&](const sf::test::HttpRequestSeen& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(r);
    const std::string realm = "http://127.0.0.1:" + std::to_string(server->port()) + "/token";
    if (r.target.rfind("/token", 0) == 0) {
      return sf::test::HttpReply{
          200, {{"Content-Type", "application/json"}}, R"({"token":"tok-123"})"};
    }
    const auto auth = r.headers.find("authorization");
    if (auth == r.headers.end() || auth->second != "Bearer tok-123") {
      return sf::test::HttpReply{
          401, {{"WWW-Authenticate", "Bearer realm=\"" + realm + R"(",service="reg")"}}, ""};
    }
    return sf::test::HttpReply{404, {}, ""};
  });
  sf::oci::RegistryClient client(
      sf::oci::parse_registry("127.0.0.1:" + std::to_string(server->port()) + "/hpc", true),
      sf::RegistryCredentials{"alice", "s3cret"});
  EXPECT_FALSE(client.has_blob("hpc/slurm-factory-slurmd", "sha256:" + std::string(64, 'a')));
  EXPECT_FALSE(client.has_blob("hpc/slurm-factory-slurmd", "sha256:" + std::string(64, 'b')));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 4U);  // anonymous, token, with the token; then the token at once
  EXPECT_EQ(seen[1].target,
            "/token?scope=repository%3Ahpc%2Fslurm-factory-slurmd%3Apull%2Cpush&service=reg");
  EXPECT_EQ(seen[1].headers["authorization"], "Basic YWxpY2U6czNjcmV0");  // alice:s3cret
  EXPECT_EQ(seen[2].headers["authorization"], "Bearer tok-123");
  EXPECT_EQ(seen[3].headers["authorization"], "Bearer tok-123");
}

TEST_F(OciRegistryAuth, BasicChallengeWithoutCredentialsSaysWhatToDo) {
  sf::test::TestHttpServer server([&](const sf::test::HttpRequestSeen&) {
    return sf::test::HttpReply{401, {{"WWW-Authenticate", "Basic realm=\"r\""}}, ""};
  });
  sf::oci::RegistryClient client(
      sf::oci::parse_registry("127.0.0.1:" + std::to_string(server.port()), true), std::nullopt);
  try {
    client.has_blob("slurm-factory-login", "sha256:" + std::string(64, 'a'));
    FAIL() << "no refusal";
  } catch (const sf::PackagingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("asks for a user name and password"));
    EXPECT_THAT(e.remediation(), HasSubstr("docker login 127.0.0.1:"));
  }
}

TEST_F(OciRegistryAuth, ARefusedTokenNeverShowsThePassword) {
  sf::test::TestHttpServer server([&](const sf::test::HttpRequestSeen& r) {
    if (r.target.rfind("/token", 0) == 0) return sf::test::HttpReply{403, {}, "denied s3cret"};
    return sf::test::HttpReply{
        401,
        {{"WWW-Authenticate", "Bearer realm=\"http://" + r.headers.at("host") + "/token\""}},
        ""};
  });
  sf::oci::RegistryClient client(
      sf::oci::parse_registry("127.0.0.1:" + std::to_string(server.port()), true),
      sf::RegistryCredentials{"alice", "s3cret"});
  try {
    client.has_blob("slurm-factory-login", "sha256:" + std::string(64, 'a'));
    FAIL() << "no refusal";
  } catch (const sf::PackagingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("token service refused"));
    EXPECT_THAT(std::string(e.what()), ::testing::Not(HasSubstr("s3cret")));
  }
}

}  // namespace

namespace {

// An upload location on another host gets the blob but no credential (a registry may hand
// uploads to its blob store; the token is for the registry alone).
TEST(OciRegistryAuthScope, NoCredentialToAnotherHost) {
  std::mutex mu;
  std::vector<sf::test::HttpRequestSeen> store_seen;
  sf::test::TestHttpServer store([&](const sf::test::HttpRequestSeen& r) {
    std::lock_guard<std::mutex> lock(mu);
    store_seen.push_back(r);
    return sf::test::HttpReply{201, {}, ""};
  });
  sf::test::TestHttpServer registry([&](const sf::test::HttpRequestSeen& r) {
    if (r.headers.count("authorization") == 0U) {
      return sf::test::HttpReply{401, {{"WWW-Authenticate", R"(Basic realm="r")"}}, ""};
    }
    if (r.method == "HEAD") return sf::test::HttpReply{404, {}, ""};
    // "localhost" is another host than the registry's "127.0.0.1" for the client.
    return sf::test::HttpReply{
        202, {{"Location", "http://localhost:" + std::to_string(store.port()) + "/upload/1"}}, ""};
  });
  sf::test::TempDir dir("sf-oci-scope");
  sf::test::write_file(dir / "blob", "layer bytes");
  sf::oci::RegistryClient client(
      sf::oci::parse_registry("127.0.0.1:" + std::to_string(registry.port()), true),
      sf::RegistryCredentials{"alice", "s3cret"});
  EXPECT_EQ(client.push_blob("slurm-factory-login", "sha256:" + std::string(64, 'a'), dir / "blob"),
            "uploaded");
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(store_seen.size(), 1U);
  EXPECT_EQ(store_seen[0].method, "PUT");
  EXPECT_EQ(store_seen[0].body, "layer bytes");
  EXPECT_EQ(store_seen[0].headers.count("authorization"), 0U);
}

TEST(OciRegistryAuthScope, CredentialsGoToAClearTextTokenServiceOnlyForAPlainHttpRegistry) {
  EXPECT_TRUE(sf::oci::token_service_allowed("https://auth.docker.io/token", false));
  EXPECT_TRUE(sf::oci::token_service_allowed("https://auth.docker.io/token", true));
  EXPECT_TRUE(sf::oci::token_service_allowed("http://127.0.0.1:5001/token", true));
  EXPECT_FALSE(sf::oci::token_service_allowed("http://evil.example/token", false));
  EXPECT_FALSE(sf::oci::token_service_allowed("file:///etc/passwd", true));
  EXPECT_FALSE(sf::oci::token_service_allowed("", true));
}

}  // namespace
