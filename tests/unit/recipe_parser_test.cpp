#include "recipes/recipe_parser.hpp"

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

TEST(RecipeParser, IncrementalAndMakeShell) {
  const Recipe r = parse_recipe(minimal("incremental: true\nmake_shell: dash\n"), "demo.yaml");
  EXPECT_TRUE(r.incremental);
  EXPECT_EQ(r.make_shell, "dash");
  const Recipe plain = parse_recipe(minimal(), "demo.yaml");
  EXPECT_FALSE(plain.incremental);
  EXPECT_EQ(plain.make_shell, "");
  // A shell is a name in /bin: no path, nothing the script would run from elsewhere.
  for (const std::string bad : {"../../tmp/x", "/bin/dash", "da sh", "DASH"}) {
    const auto [where, what] = error_of(minimal("make_shell: \"" + bad + "\"\n"));
    EXPECT_EQ(where, "demo.yaml:7:13") << bad;
    EXPECT_NE(what.find("is not a shell's name"), std::string::npos) << what;
  }
  const auto [where, what] = error_of(minimal("incremental: sometimes\n"));
  EXPECT_EQ(where, "demo.yaml:7:14");
  EXPECT_NE(what.find("incremental must be true or false"), std::string::npos) << what;
}

TEST(RecipeParser, AVersionMayHaveItsOwnMakeShell) {
  // The recipe's shell for every version but one whose Makefiles need configure's (bash).
  const std::string yaml =
      "name: demo\nbuild_system: autotools\nmake_shell: dash\nversions:\n"
      "  - version: \"1.2.3\"\n    sha256: " +
      kSha +
      "\n    mirrors: [https://example.org/a.tar.gz]\n"
      "    make_shell: \"\"\n"
      "  - version: \"1.2.4\"\n    sha256: " +
      kSha + "\n    mirrors: [https://example.org/b.tar.gz]\n";
  const Recipe r = parse_recipe(yaml, "demo.yaml");
  EXPECT_EQ(r.make_shell, "dash");
  ASSERT_TRUE(r.find_version("1.2.3")->make_shell.has_value());
  EXPECT_EQ(*r.find_version("1.2.3")->make_shell, "");
  EXPECT_FALSE(r.find_version("1.2.4")->make_shell.has_value());
  const auto [where, what] = error_of(
      "name: demo\nbuild_system: autotools\nversions:\n  - version: \"1.2.3\"\n    sha256: " +
      kSha + "\n    mirrors: [https://example.org/a.tar.gz]\n    make_shell: /bin/sh\n");
  EXPECT_EQ(where, "demo.yaml:7:17");
  EXPECT_NE(what.find("is not a shell's name"), std::string::npos) << what;
}

TEST(RecipeParser, PublicProgramsAllNoneOrAListOfNames) {
  EXPECT_EQ(parse_recipe(minimal("public_programs: all\n"), "demo.yaml").public_programs,
            std::vector<std::string>{"*"});
  EXPECT_EQ(parse_recipe(minimal("public_programs: none\n"), "demo.yaml").public_programs,
            std::vector<std::string>{});
  EXPECT_EQ(
      parse_recipe(minimal("public_programs: [munge, 'hwloc-*']\n"), "demo.yaml").public_programs,
      (std::vector<std::string>{"munge", "hwloc-*"}));
  EXPECT_FALSE(parse_recipe(minimal(), "demo.yaml").public_programs.has_value())
      << "unset: the planner decides (all for the root, none for a dependency)";
  auto [where, what] = error_of(minimal("public_programs: some\n"));
  EXPECT_EQ(where, "demo.yaml:7:18");
  EXPECT_NE(what.find("not all, none or a list"), std::string::npos) << what;
  std::tie(where, what) = error_of(minimal("public_programs: [munge, bin/curl]\n"));
  EXPECT_EQ(where, "demo.yaml:7:26");
  EXPECT_NE(what.find("'bin/curl' is not a program name"), std::string::npos) << what;
}

TEST(RecipeParser, SystemVersionAndVersionConstraints) {
  const Recipe r =
      parse_recipe(minimal("system_version: {debian/trixie: \"5.0.7\", rocky: \"3.2.3\"}\n"
                           "version_constraints:\n"
                           "  - versions: \">=2,<6\"\n"
                           "    when: {slurm: \"<25.11\"}\n"
                           "    why: old configure\n"),
                   "demo.yaml");
  EXPECT_EQ(r.system_version_for("debian", "trixie"), "5.0.7");
  EXPECT_EQ(r.system_version_for("debian", "bookworm"), "");
  EXPECT_EQ(r.system_version_for("rocky", "rockylinux9"), "3.2.3");
  ASSERT_EQ(r.version_constraints.size(), 1u);
  EXPECT_EQ(r.version_constraints[0].why, "old configure");
  EXPECT_EQ(r.version_constraints[0].where.str(), "demo.yaml:9:5");
  EXPECT_TRUE(r.version_constraints[0].versions.contains("5.0.7"));
  EXPECT_FALSE(r.version_constraints[0].versions.contains("6.0.0"));
  const auto [where, what] = error_of(minimal("version_constraints:\n  - versions: \">>2\"\n"));
  EXPECT_EQ(where, "demo.yaml:8:15");
  EXPECT_NE(what.find("bad versions range"), std::string::npos) << what;
  const auto [where2, what2] =
      error_of(minimal("version_constraints:\n  - {when: {slurm: \"<25\"}}\n"));
  EXPECT_NE(what2.find("needs 'versions'"), std::string::npos) << what2;
  const auto [where3, what3] = error_of(minimal("system_version: [5.0.7]\n"));
  EXPECT_NE(what3.find("'system_version' must be a mapping"), std::string::npos) << what3;
}

TEST(RecipeParser, ExtraInstallAndExpectedPlugins) {
  Recipe r = parse_recipe(
      minimal("extra_install:\n"
              "  - -C contribs/pmi2 install\n"
              "  - {arg: \"-C x install PAM_DIR=${prefix}/lib\", when: {slurm: \">=24.11\"}}\n"
              "expected_plugins:\n"
              "  - {plugin: acct_gather_energy/ipmi, provided_by: freeipmi}\n"
              "  - {plugin: contribs/pmi2, file: lib/libpmi2.so.0}\n"
              "  - {plugin: tls/s2n, provided_by: s2n, when: {system_has: s2n}}\n"),
      "demo.yaml");
  ASSERT_EQ(r.extra_install.size(), 2U);
  EXPECT_EQ(r.extra_install[0].value, "-C contribs/pmi2 install");
  EXPECT_TRUE(r.extra_install[1].when.slurm.has_value());
  ASSERT_EQ(r.expected_plugins.size(), 3U);
  EXPECT_EQ(r.expected_plugins[0].file, "lib/slurm/acct_gather_energy_ipmi.so");
  EXPECT_EQ(r.expected_plugins[0].provided_by, "freeipmi");
  EXPECT_EQ(r.expected_plugins[1].file, "lib/libpmi2.so.0");
  EXPECT_EQ(r.expected_plugins[1].provided_by, "");
  EXPECT_EQ(r.expected_plugins[2].when.system_has, std::vector<std::string>{"s2n"});
  EXPECT_EQ(r.expected_plugins[2].where.line, 13);

  // Refusals at their line: a plugin not TYPE/NAME without a file, a file out of the view, an
  // unknown key, and extra_install for a build system that does not run make.
  EXPECT_EQ(error_of(minimal("expected_plugins:\n  - {plugin: ipmi}\n")).first, "demo.yaml:8:14");
  EXPECT_EQ(error_of(minimal("expected_plugins:\n  - {plugin: a/b, file: ../etc/x.so}\n")).first,
            "demo.yaml:8:25");
  EXPECT_EQ(error_of(minimal("expected_plugins:\n  - {plugin: a/b, file: /lib/x.so}\n")).first,
            "demo.yaml:8:25");
  EXPECT_NE(error_of(minimal("expected_plugins:\n  - {plugin: a/b, so: x}\n"))
                .second.find("unknown key 'so'"),
            std::string::npos);
  std::string cmake = minimal("extra_install: [install]\n");
  cmake.replace(cmake.find("autotools"), 9, "cmake");
  EXPECT_NE(error_of(cmake).second.find("extra_install runs `make`"), std::string::npos);
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

namespace sf {
namespace {

// Values that reach file names, cache keys and build scripts: each refused at its line.
TEST(RecipeParser, HostileValuesAreRefusedAtTheirLine) {
  struct Case {
    std::string yaml;
    std::string location;
  };
  const std::string version_entry = "  - version: \"1.2.3\"\n    sha256: " + kSha +
                                    "\n    mirrors: [https://example.org/demo.tar.gz]\n";
  auto with_version = [&](const std::string& version) {
    return "name: demo\nversions:\n  - version: \"" + version + "\"\n    sha256: " + kSha +
           "\n    mirrors: [https://example.org/demo.tar.gz]\n";
  };
  const std::vector<Case> cases = {
      {with_version("1.0$(touch /tmp/x)"), "demo.yaml:3:14"},
      {with_version("1.0/../../../x"), "demo.yaml:3:14"},
      {with_version("1.0;reboot"), "demo.yaml:3:14"},
      {with_version("1.0`id`"), "demo.yaml:3:14"},
      {with_version("1..0"), "demo.yaml:3:14"},
      {minimal().replace(minimal().find("    mirrors"), 0, "    file: ../../x.tar.gz\n"),
       "demo.yaml:4:5"},
      {minimal().replace(minimal().find("    mirrors"), 0, "    file: -rf.tar.gz\n"),
       "demo.yaml:4:5"},
      {minimal().replace(minimal().find("    mirrors"), 0, "    strip_dir: ../../etc\n"),
       "demo.yaml:6:16"},
      {minimal().replace(minimal().find("    mirrors"), 0, "    strip_dir: /etc\n"),
       "demo.yaml:6:16"},
      {minimal("dependencies: [\"../evil\"]\n"), "demo.yaml:7:16"},
      {minimal("dependencies: [{name: \"x;id\"}]\n"), "demo.yaml:7:23"},
      {minimal("system_package: \"ssl$(id)\"\n"), "demo.yaml:7:17"},
      {minimal("patches:\n  - {file: ../../etc/shadow, sha256: " + kSha + "}\n"), "demo.yaml:8:12"},
      {minimal("patches:\n  - {file: /etc/shadow, sha256: " + kSha + "}\n"), "demo.yaml:8:12"},
      {minimal("patches:\n  - {file: \"a\\0b.patch\", sha256: " + kSha + "}\n"), "demo.yaml:8:12"},
      {"name: \"demo\\nx\"\nversions: []\n", "demo.yaml:1:7"},
  };
  (void)version_entry;
  int refused = 0;
  for (const auto& c : cases) {
    const auto [where, what] = error_of(c.yaml);
    EXPECT_EQ(where, c.location) << what << "\n---\n" << c.yaml;
    EXPECT_NE(what, "no error") << c.yaml;
    if (what != "no error") ++refused;
  }
  EXPECT_EQ(refused, 16);
}

TEST(RecipeParser, PatchRelocatesListsPathsRelativeToThePrefix) {
  Recipe r = parse_recipe(minimal("patches:\n  - {file: p/r.patch, sha256: " + kSha +
                                  ", relocates: [lib/slurm, sbin, bin/srun]}\n"),
                          "d.yaml");
  ASSERT_EQ(r.patches.size(), 1U);
  EXPECT_EQ(r.patches[0].relocates, (std::vector<std::string>{"lib/slurm", "sbin", "bin/srun"}));
  EXPECT_TRUE(
      parse_recipe(minimal("patches:\n  - {file: p/r.patch, sha256: " + kSha + "}\n"), "d.yaml")
          .patches[0]
          .relocates.empty());
  for (const std::string bad : {"/opt/slurm/view/lib/slurm", "../bin/srun", "lib//slurm", ""}) {
    const auto [where, what] = error_of(minimal("patches:\n  - {file: p/r.patch, sha256: " + kSha +
                                                ", relocates: [\"" + bad + "\"]}\n"));
    EXPECT_NE(what.find("bad relocated path"), std::string::npos) << bad << ": " << what;
    EXPECT_EQ(where.rfind("demo.yaml:8:", 0), 0U) << bad << ": " << where;
  }
}

TEST(RecipeParser, PatchesInASubfolderAndRealVersionsStillParse) {
  Recipe r = parse_recipe(
      minimal("patches:\n  - {file: patches/fix-build.patch, sha256: " + kSha + "}\n"), "d.yaml");
  ASSERT_EQ(r.patches.size(), 1U);
  EXPECT_EQ(r.patches[0].file, "patches/fix-build.patch");
}

TEST(RecipeParser, NestedAliasesAndHugeRecipesAreRefused) {
  std::string bomb = minimal("description: *i\n");
  bomb.insert(0,
              "x0: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
              "x1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
              "x2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
              "x3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
              "x4: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
              "x5: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
              "x6: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
              "x7: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
              "x8: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n");
  const auto [where, what] = error_of(bomb);
  EXPECT_NE(what.find("aliases are expanded"), std::string::npos) << what;
  EXPECT_EQ(where.rfind("demo.yaml:", 0), 0U) << where;
  EXPECT_EQ(what.rfind(where + ": ", 0), 0U) << what;

  const std::string huge = minimal("description: \"" + std::string(5u << 20, 'x') + "\"\n");
  EXPECT_NE(error_of(huge).second.find("more than the limit"), std::string::npos);
}

}  // namespace
}  // namespace sf
