#include "slurm_factory/core/recipe_parser.hpp"

#include <gtest/gtest.h>

#include <string>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

const std::string kSha = "fa240dbf262be053f3898006d502d514936c818e422afdcf33921c63bed9bf2e";

std::string minimal(const std::string& extra = "") {
  return "name: demo\n"
         "build_system: autotools\n"
         "versions:\n"
         "  - version: \"1.2.3\"\n"
         "    sha256: " +
         kSha +
         "\n"
         "    mirrors: [https://example.org/demo-1.2.3.tar.gz, "
         "http://deb.debian.org/debian/pool/main/d/demo/demo_1.2.3.orig.tar.gz]\n" +
         extra;
}

// Parses and returns the error's location ("file:line:col") and message.
std::pair<std::string, std::string> error_of(const std::string& yaml) {
  try {
    (void)parse_recipe(yaml, "demo.yaml");
  } catch (const ConfigurationError& e) {
    return {e.context_value("location"), e.what()};
  }
  return {"", "no error"};
}

TEST(RecipeParser, ParsesAFullRecipe) {
  Recipe r = parse_recipe(minimal("system_package: demo\n"
                                  "from: {default: source, rocky: system}\n"
                                  "dependencies:\n"
                                  "  - zlib\n"
                                  "  - {name: cmake, type: build}\n"
                                  "  - {name: other, type: [link, run], when: {slurm: '>=24.11'}}\n"
                                  "configure:\n"
                                  "  - --prefix=${prefix}\n"
                                  "  - arg: --with-zlib=${dep:zlib}\n"
                                  "    when: {feature: gpu-cuda, family: [debian, ubuntu]}\n"
                                  "env: {LDFLAGS: '-Wl,-z,lazy'}\n"
                                  "patches:\n"
                                  "  - file: patches/fix.patch\n"
                                  "    sha256: " +
                                  kSha + "\n"),
                          "demo.yaml");
  EXPECT_EQ(r.name, "demo");
  ASSERT_EQ(r.versions.size(), 1U);
  EXPECT_EQ(r.versions[0].filename, "demo-1.2.3.tar.gz");
  EXPECT_EQ(r.versions[0].mirrors.size(), 2U);
  EXPECT_EQ(r.versions[0].where.line, 4);
  EXPECT_EQ(r.origin_for("rocky", "rockylinux9"), Origin::kSystem);
  EXPECT_EQ(r.origin_for("debian", "trixie"), Origin::kSource);
  ASSERT_EQ(r.dependencies.size(), 3U);
  EXPECT_EQ(r.dependencies[0].types, std::vector<DependencyType>{DependencyType::kLink});
  EXPECT_EQ(r.dependencies[1].types, std::vector<DependencyType>{DependencyType::kBuild});
  EXPECT_EQ(r.dependencies[2].types.size(), 2U);
  ASSERT_EQ(r.configure_args.size(), 2U);
  EXPECT_EQ(r.configure_args[1].when.feature, std::vector<std::string>{"gpu-cuda"});
  EXPECT_EQ(r.configure_args[1].where.line, 15);
  EXPECT_EQ(r.env.at("LDFLAGS").at(0).value, "-Wl,-z,lazy");
  ASSERT_EQ(r.patches.size(), 1U);
  EXPECT_EQ(r.patches[0].strip, 1);
}

TEST(RecipeParser, RuntimeDlopenListsSonames) {
  EXPECT_EQ(parse_recipe(minimal("runtime_dlopen: [libpmix.so.2]\n"), "demo.yaml").runtime_dlopen,
            std::vector<std::string>{"libpmix.so.2"});
  EXPECT_EQ(parse_recipe(minimal("runtime_dlopen: libfoo.so\n"), "demo.yaml").runtime_dlopen,
            std::vector<std::string>{"libfoo.so"});
  EXPECT_TRUE(parse_recipe(minimal(), "demo.yaml").runtime_dlopen.empty());
  const auto [where, what] = error_of(minimal("runtime_dlopen: [/usr/lib/libpmix.so.2]\n"));
  EXPECT_EQ(where, "demo.yaml:7:17");
  EXPECT_NE(what.find("not a soname"), std::string::npos) << what;
}

TEST(RecipeParser, UnknownKeyCitesLineAndColumn) {
  auto [loc, what] = error_of(minimal("confgure: [--x]\n"));
  EXPECT_EQ(loc, "demo.yaml:7:1");
  EXPECT_NE(what.find("unknown key 'confgure'"), std::string::npos) << what;
  auto [loc2, what2] = error_of(minimal("dependencies:\n  - {name: x, tpye: build}\n"));
  EXPECT_EQ(loc2, "demo.yaml:8:15");
  EXPECT_NE(what2.find("'tpye'"), std::string::npos) << what2;
  auto [loc3, what3] = error_of(minimal("configure:\n  - arg: --x\n    when: {slrum: '>=1'}\n"));
  EXPECT_EQ(loc3, "demo.yaml:9:12");
}

TEST(RecipeParser, BadSha256IsRejectedWithItsLocation) {
  std::string yaml = minimal();
  yaml.replace(yaml.find(kSha), 64, "ABC123");
  auto [loc, what] = error_of(yaml);
  EXPECT_EQ(loc, "demo.yaml:5:13");
  EXPECT_NE(what.find("bad sha256 'ABC123'"), std::string::npos) << what;
  std::string upper = minimal();
  upper.replace(upper.find(kSha), 1, "F");
  EXPECT_EQ(error_of(upper).first, "demo.yaml:5:13");
}

TEST(RecipeParser, UnknownVariableAndZNowAreRejected) {
  auto [loc, what] = error_of(minimal("configure: ['--prefix=${prefx}']\n"));
  EXPECT_EQ(loc, "demo.yaml:7:13");
  EXPECT_NE(what.find("${prefx}"), std::string::npos);
  for (const char* bad : {"-Wl,-z,now", "-z now", "-Wl,-z,relro,-z,now"}) {
    auto [l, w] = error_of(minimal(std::string("env: {LDFLAGS: '") + bad + "'}\n"));
    EXPECT_EQ(l, "demo.yaml:7:16") << bad;
    EXPECT_NE(w.find("-z now"), std::string::npos) << w;
  }
  EXPECT_EQ(error_of(minimal("env: {LDFLAGS: '-Wl,-z,lazy -Wl,-z,relro'}\n")).second, "no error");
}

TEST(RecipeParser, StructuralErrors) {
  EXPECT_NE(error_of("name: demo\nversions: []\n").second.find("non-empty 'versions'"),
            std::string::npos);
  EXPECT_NE(error_of(minimal("build_system: scons\n")).second.find("'build_system' is given twice"),
            std::string::npos);  // YAML-level: a key given twice
  std::string bs = minimal();
  bs.replace(bs.find("autotools"), 9, "scons");
  EXPECT_NE(error_of(bs).second.find("unknown build_system 'scons'"), std::string::npos);
  EXPECT_NE(error_of(minimal("from: {rocky: system}\n")).second.find("system_package"),
            std::string::npos);
  EXPECT_NE(error_of(minimal("dependencies: [demo]\n")).second.find("depends on itself"),
            std::string::npos);
  EXPECT_NE(error_of(minimal("dependencies: [{name: x, type: static}]\n"))
                .second.find("unknown dependency type 'static'"),
            std::string::npos);
  EXPECT_NE(error_of(minimal("configure:\n  - arg: --x\n    when: {slurm: '>=abc'}\n"))
                .second.find("bad slurm range"),
            std::string::npos);
  auto [loc, what] = error_of("name: demo\nversions:\n  - version: 1\n    sha256: x\n   bad");
  EXPECT_NE(what.find("YAML syntax error"), std::string::npos) << what;
  EXPECT_FALSE(loc.empty());
}

TEST(RecipeParser, Sha256Syntax) {
  EXPECT_TRUE(is_sha256_hex(kSha));
  EXPECT_FALSE(is_sha256_hex(kSha.substr(1)));
  EXPECT_FALSE(is_sha256_hex(std::string(64, 'g')));
}

}  // namespace
}  // namespace sf
