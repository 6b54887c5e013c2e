// What an integration test does when something it needs (a container engine, s3rver, chromium)
// is missing: in CI it FAILS, on a developer machine it skips with the reason.
//
// CI is recognised by CI=true (or 1), as CI systems set it, or by SF_REQUIRE_ALL=1 (a developer
// who wants CI's strictness). A skip on a developer machine is counted and summarised at the end
// of the test program, so that a green run that skipped is never mistaken for a full one.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace sf::test {

// True when a missing engine, server or browser must fail the test (CI) instead of skipping it.
inline bool missing_requirement_is_failure() {
  auto is_on = [](const char* v) {
    if (v == nullptr) return false;
    const std::string s(v);
    return s == "true" || s == "1" || s == "yes" || s == "TRUE" || s == "True";
  };
  return is_on(std::getenv("CI")) || is_on(std::getenv("SF_REQUIRE_ALL"));
}

}  // namespace sf::test

// SF_REQUIRE_OR_SKIP(message): ends the current test (from SetUp or the body) because a
// requirement is missing: a fatal failure in CI, a skip elsewhere. `message` is streamed, so it may
// chain values: SF_REQUIRE_OR_SKIP("docker does not answer: " << e.what()).
#define SF_REQUIRE_OR_SKIP(message)                                                         \
  do {                                                                                      \
    if (::sf::test::missing_requirement_is_failure()) {                                     \
      GTEST_FAIL() << "required in CI (CI=true): " << message                               \
                   << " (tests/support/start-engines.sh and .ci/run start what is needed)"; \
    } else {                                                                                \
      GTEST_SKIP() << message << " (skipped on a developer machine; CI fails here)";        \
    }                                                                                       \
  } while (0)
