#include "recipes/recipe_book.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "recipes/package_hash.hpp"
#include "recipes/recipe_parser.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

const std::string kSha = "fa240dbf262be053f3898006d502d514936c818e422afdcf33921c63bed9bf2e";

class RecipeDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sf-recipe-book-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& body) {
    std::ofstream(dir_ / (name + ".yaml"))
        << "name: " << name << "\nversions:\n  - version: '1.0'\n"
        << "    sha256: " << kSha << "\n    mirrors: [https://example.org/" << name
        << "-1.0.tar.gz]\n"
        << body;
  }
  std::string load_error() {
    try {
      (void)RecipeBook::load_directory(dir_);
    } catch (const ConfigurationError& e) {
      return e.context_value("location") + " | " + e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

TEST(ShippedRecipes, LoadAndPinEverySource) {
  auto book = RecipeBook::load_directory(fs::path(SF_TEST_SOURCE_DIR) / "configs" / "recipes");
  for (const char* name : {"slurm", "munge", "json-c", "hwloc", "libjwt", "jansson", "libyaml",
                           "http-parser", "lz4", "curl", "openssl", "libevent", "pmix"}) {
    const Recipe* r = book.find(name);
    ASSERT_NE(r, nullptr) << name;
    for (const auto& v : r->versions) {
      EXPECT_TRUE(is_sha256_hex(v.sha256)) << name;
      EXPECT_FALSE(v.mirrors.empty()) << name;
    }
  }
  std::vector<std::string> slurm_versions = book.get("slurm").version_names();
  std::sort(slurm_versions.begin(), slurm_versions.end());
  EXPECT_EQ(slurm_versions, (std::vector<std::string>{"22.05.8", "23.11.11", "24.11.5", "24.11.6",
                                                      "25.11.6", "26.05.0"}));
  // The Debian pool copy is always the last mirror where Debian has one.
  EXPECT_EQ(book.get("libyaml").versions[0].mirrors.back(),
            "http://deb.debian.org/debian/pool/main/liby/libyaml/libyaml_0.2.5.orig.tar.gz");
  EXPECT_EQ(book.get("pmix").origin_for("debian", "trixie"), Origin::kSystem);
  EXPECT_EQ(book.get("munge").origin_for("rocky", "rockylinux9"), Origin::kSource);
}

TEST_F(RecipeDir, UnknownDependencyCitesTheLine) {
  write("a", "dependencies:\n  - b\n  - nope\n");
  write("b", "");
  auto err = load_error();
  EXPECT_NE(err.find("a.yaml:8:5 |"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown recipe 'nope'"), std::string::npos) << err;
}

TEST_F(RecipeDir, DependencyCycleCitesTheClosingEdge) {
  write("a", "dependencies: [b]\n");
  write("b", "dependencies: [c]\n");
  write("c", "dependencies:\n  - {name: a, type: build}\n");
  auto err = load_error();
  EXPECT_NE(err.find("dependency cycle: a -> b -> c -> a"), std::string::npos) << err;
  EXPECT_NE(err.find("c.yaml:7:5"), std::string::npos) << err;
}

TEST_F(RecipeDir, DepVariableMustNameADependency) {
  write("a", "dependencies: [b]\nconfigure:\n  - --with-b=${dep:b}\n  - --with-c=${dep:c}\n");
  write("b", "");
  auto err = load_error();
  EXPECT_NE(err.find("a.yaml:9:5"), std::string::npos) << err;
  EXPECT_NE(err.find("${dep:c}"), std::string::npos) << err;
}

TEST_F(RecipeDir, NameMustMatchFileAndPatchesMustExist) {
  std::ofstream(dir_ / "x.yaml") << "name: y\nversions:\n  - version: '1'\n    sha256: " << kSha
                                 << "\n    mirrors: [https://e.org/y.tgz]\n";
  EXPECT_NE(load_error().find("differs from its file name"), std::string::npos);
  fs::remove(dir_ / "x.yaml");
  write("a", "patches:\n  - file: patches/missing.patch\n    sha256: " + kSha + "\n");
  auto err = load_error();
  EXPECT_NE(err.find("a.yaml:7:5"), std::string::npos) << err;
  EXPECT_NE(err.find("missing.patch does not exist"), std::string::npos) << err;
}

TEST_F(RecipeDir, PatchChecksumIsVerified) {
  fs::create_directories(dir_ / "patches");
  std::ofstream(dir_ / "patches" / "fix.patch") << "--- a/x\n+++ b/x\n";
  write("a", "patches:\n  - file: patches/fix.patch\n    sha256: " + kSha + "\n");
  auto err = load_error();
  EXPECT_NE(err.find("a.yaml:7:5"), std::string::npos) << err;
  EXPECT_NE(err.find("the recipe pins " + kSha), std::string::npos) << err;
  write("a", "patches:\n  - file: patches/fix.patch\n    sha256: " +
                 sha256_hex("--- a/x\n+++ b/x\n") + "\n");
  EXPECT_EQ(load_error(), "no error");
}

TEST_F(RecipeDir, MissingDirectoryAndUnknownRecipe) {
  EXPECT_THROW((void)RecipeBook::load_directory(dir_ / "nope"), ConfigurationError);
  write("a", "");
  auto book = RecipeBook::load_directory(dir_);
  EXPECT_EQ(book.names(), std::vector<std::string>{"a"});
  try {
    (void)book.get("zz");
    FAIL();
  } catch (const ConfigurationError& e) {
    EXPECT_NE(e.remediation().find("known recipes: a"), std::string::npos);
  }
}

}  // namespace
}  // namespace sf
