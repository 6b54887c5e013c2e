// Renders every artifact template for two toolchains and a GPU build and compares the result with
// the golden files in tests/unit/golden/templates/<case>/ (SF_UPDATE_GOLDEN=1 rewrites them).
#include "support/template_renderer.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "../support/golden.hpp"
#include "artifact/artifact_assets.hpp"
#include "config/build_request.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kTemplates = fs::path(SF_TEST_SOURCE_DIR) / "templates";
const fs::path kGolden = fs::path(SF_TEST_SOURCE_DIR) / "tests/unit/golden/templates";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Case {
  std::string name;
  sf::ArtifactInfo info;
};

std::vector<Case> cases() {
  sf::ArtifactInfo bookworm{"24.11.5", "bookworm", "debian",     "Debian GNU/Linux 12 (bookworm)",
                            "amd64",   {},         "/opt/slurm", "0.1.0"};
  sf::ArtifactInfo rocky{"23.02.7", "rockylinux9", "rocky", "Rocky Linux 9", "amd64",
                         {},        "/opt/slurm",  "0.1.0"};
  sf::ArtifactInfo gpu{"24.11.5", "trixie",         "debian",     "Debian GNU/Linux 13 (trixie)",
                       "amd64",   {"rocm", "cuda"}, "/opt/slurm", "0.1.0"};
  return {{"bookworm", bookworm}, {"rockylinux9", rocky}, {"trixie-gpu", gpu}};
}

}  // namespace

TEST(TemplateRendererTest, EveryTemplateMatchesItsGoldenFile) {
  const bool update = sf::test::update_golden_files();
  sf::TemplateRenderer renderer(kTemplates);
  for (const auto& c : cases()) {
    const auto data = sf::artifact_template_data(c.info);
    for (const auto& asset : sf::artifact_assets(c.info)) {
      const std::string got = renderer.render(asset.template_name, data);
      const fs::path golden = kGolden / c.name / asset.template_name;
      if (update) {
        fs::create_directories(golden.parent_path());
        std::ofstream(golden, std::ios::binary) << got;
        continue;
      }
      ASSERT_TRUE(fs::exists(golden)) << golden << " missing; run with SF_UPDATE_GOLDEN=1";
      EXPECT_EQ(got, read(golden)) << c.name << ": " << asset.template_name << " differs from "
                                   << golden << " (SF_UPDATE_GOLDEN=1 regenerates after review)";
      EXPECT_EQ(got.find("{{"), std::string::npos) << asset.template_name;
    }
  }
}

TEST(TemplateRendererTest, EveryTemplateFileIsPartOfTheArtifact) {
  // A template nobody renders is dead weight or a forgotten asset.
  sf::TemplateRenderer renderer(kTemplates);
  sf::ArtifactInfo gpu{"24.11.5", "trixie", "debian",     "Debian 13",
                       "amd64",   {"cuda"}, "/opt/slurm", "0.1.0"};
  std::set<std::string> rendered;
  for (const auto& a : sf::artifact_assets(gpu)) rendered.insert(a.template_name);
  for (const auto& t : renderer.list()) {
    // templates/build/ holds the recipe engine's build scripts and templates/index/ the published
    // artifacts' web page (artifact_index_html_test), not artifact assets.
    if (t.rfind("build/", 0) == 0 || t.rfind("index/", 0) == 0) continue;
    EXPECT_TRUE(rendered.count(t) == 1) << t << " is in templates/ but no artifact asset uses it";
  }
}

TEST(TemplateRendererTest, GpuBuildsGetGresConfAndCpuBuildsDoNot) {
  sf::ArtifactInfo cpu{"24.11.5", "bookworm", "debian", "Debian 12", "amd64", {}, "/opt/slurm", ""};
  sf::ArtifactInfo gpu = cpu;
  gpu.gpu = {"cuda"};
  auto has_gres = [](const sf::ArtifactInfo& i) {
    for (const auto& a : sf::artifact_assets(i))
      if (a.template_name == "slurm/gres.conf.template") return true;
    return false;
  };
  EXPECT_FALSE(has_gres(cpu));
  EXPECT_TRUE(has_gres(gpu));
  EXPECT_EQ(sf::artifact_basename(cpu), "slurm-24.11.5-bookworm-amd64-software");
  EXPECT_EQ(sf::artifact_basename(gpu), "slurm-24.11.5-bookworm-cuda-amd64-software");
  gpu.with_dev = true;  // build-slurm --with-dev: another artifact, another name
  EXPECT_EQ(sf::artifact_basename(gpu), "slurm-24.11.5-bookworm-cuda-amd64-dev");
  sf::BuildRequest request;
  request.toolchain = "bookworm";
  request.gpu = {"cuda"};
  EXPECT_EQ(request.artifact_basename("24.11.5"), "slurm-24.11.5-bookworm-cuda-amd64-software");
  request.with_dev = true;
  EXPECT_EQ(request.artifact_basename("24.11.5"), "slurm-24.11.5-bookworm-cuda-amd64-dev");
}

TEST(TemplateRendererTest, MissingKeyIsAnErrorNamingTemplateAndKey) {
  try {
    sf::TemplateRenderer::render_text("a {{present}} {{absent}} {{#nosection}}x{{/nosection}}",
                                      {{"present", "1"}}, "inline.tmpl");
    FAIL() << "expected PackagingError";
  } catch (const sf::PackagingError& e) {
    EXPECT_NE(std::string(e.what()).find("absent"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nosection"), std::string::npos) << e.what();
    EXPECT_EQ(e.context_value("template"), "inline.tmpl");
    EXPECT_FALSE(e.remediation().empty());
  }
}

TEST(TemplateRendererTest, SyntaxErrorIsReported) {
  EXPECT_THROW(sf::TemplateRenderer::render_text("{{#open}} never closed", {{"open", true}}, "x"),
               sf::PackagingError);
}

TEST(TemplateRendererTest, ValuesAreInsertedVerbatimNotHtmlEscaped) {
  EXPECT_EQ(sf::TemplateRenderer::render_text("{{v}}", {{"v", "a<b>&\"c\""}}, "x"), "a<b>&\"c\"");
}

TEST(TemplateRendererTest, MissingTemplateFileNamesThePath) {
  sf::TemplateRenderer renderer(kTemplates);
  try {
    (void)renderer.render("no/such.tmpl", nlohmann::json::object());
    FAIL();
  } catch (const sf::PackagingError& e) {
    EXPECT_NE(e.context_value("template").find("no/such.tmpl"), std::string::npos);
  }
}

TEST(TemplateRendererTest, ModulefileNeedsNoLibraryPath) {
  sf::TemplateRenderer renderer(kTemplates);
  const auto data = sf::artifact_template_data(cases()[0].info);
  const std::string lua = renderer.render("modules/modulefile.lua", data);
  EXPECT_EQ(lua.find("LD_LIBRARY_PATH\""), std::string::npos);
  EXPECT_NE(lua.find("family(\"workloadmanager\")"), std::string::npos);
  EXPECT_NE(lua.find("SLURM_INSTALL_PREFIX"), std::string::npos);
  EXPECT_NE(lua.find("/etc/slurm/slurm.conf"), std::string::npos);
}

// --- escaping: hostile values rendered into the real templates, then run by bash, lua and tclsh --

namespace {

std::pair<int, std::string> run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

class TemplateInjection : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-template-injection-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    canary_ = dir_ / "pwned";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The data of a real artifact with one value replaced.
  nlohmann::json data_with(const std::string& key, const std::string& value) const {
    sf::ArtifactInfo info{"24.11.5", "bookworm", "debian",     "Debian GNU/Linux 12 (bookworm)",
                          "amd64",   {"cuda"},   "/opt/slurm", "0.1.0"};
    auto data = sf::artifact_template_data(info);
    data[nlohmann::json::json_pointer(key)] = value;
    return data;
  }

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  // Injection payloads: each would create the canary if it ran as code.
  std::vector<std::string> payloads() const {
    const std::string c = canary_.string();
    return {
        "24.11.5$(touch " + c + ")",
        "24.11.5`touch " + c + "`",
        "24.11.5'$(touch " + c + ")'",
        "24.11.5\"; touch " + c + "; \"",
        "24.11.5'; touch " + c + "; '",
        "\"..os.execute(\"touch " + c + "\")..\"",
        "]]..os.execute('touch " + c + "')..[[",
        "\\\"..os.execute('touch " + c + "')..\"\\",
        "[exec touch " + c + "]",
        "\"; exec touch " + c + "; \"",
        "} ; exec touch " + c + " ; {",
        "$env(HOME)[exec touch " + c + "]\\",
        "${IFS}touch${IFS}" + c,
    };
  }

  fs::path dir_;
  fs::path canary_;
  sf::TemplateRenderer renderer_{kTemplates};
};

TEST_F(TemplateInjection, InstallScriptValuesStayOneShellWordAndRoundTrip) {
  int tried = 0;
  bool linted = false;
  for (const auto& value : payloads()) {
    // The payload as the Slurm version, the toolchain name and the install root at once.
    auto data = data_with("/slurm/version", value);
    data["toolchain"]["name"] = value;
    data["install_root"] = value;
    const fs::path script = write("slurm_install.sh", renderer_.render("slurm_install.sh", data));
    tried += 3;
    auto [syntax, syntax_out] = run_capture("bash -n " + quoted(script));
    EXPECT_EQ(syntax, 0) << value << ":\n" << syntax_out;
    if (!linted) {  // shellcheck is slow: once, on the first hostile rendering; SC2016
      // (info: "expressions do not expand in single quotes") is the point here
      linted = true;
      auto [lint, lint_out] = run_capture("shellcheck -s bash -S warning " + quoted(script));
      EXPECT_EQ(lint, 0) << value << ":\n" << lint_out;
    }
    // --help runs the top of the script (where the values are assigned) and prints them.
    auto [help, help_out] = run_capture("bash " + quoted(script) + " --help");
    EXPECT_EQ(help, 0) << help_out;
    EXPECT_NE(help_out.find("(Slurm " + value + ", " + value + ")"), std::string::npos) << help_out;
    EXPECT_FALSE(fs::exists(canary_)) << value << " ran as code";
    // The assignments, evaluated as the script does, give back the exact values.
    auto [code, got] =
        run_capture("bash -c 'eval \"$(sed -n \"/^SF_SLURM_VERSION=/,/^SF_GPU_AUTODETECT=/p\" " +
                    script.string() +
                    ")\"; printf \"%s|%s|%s|%s\" \"$SF_SLURM_VERSION\" \"$SF_TOOLCHAIN\" "
                    "\"$SF_BUILD_ROOT\" \"$SF_GPU_FEATURES\"'");
    ASSERT_EQ(code, 0) << got;
    EXPECT_EQ(got, value + "|" + value + "|" + value + "|cuda");
    EXPECT_FALSE(fs::exists(canary_));
  }
  EXPECT_EQ(tried, 39);
}

const char* const kLuaStubs = R"(
local seen = {}
function whatis(s) seen[#seen + 1] = "whatis:" .. s end
function help(...) seen[#seen + 1] = "help:" .. table.concat({...}) end
function family(s) end
function conflict(s) end
function pathJoin(...) return table.concat({...}, "/") end
function prepend_path(k, v) seen[#seen + 1] = "prepend:" .. k .. "=" .. v end
function setenv(k, v) seen[#seen + 1] = "setenv:" .. k .. "=" .. v end
function mode() return "load" end
-- The modulefile sits where no Slurm is, so the (hostile) baked install root is the one found.
function myFileName() return "/nowhere/modules/slurm/m.lua" end
function isFile(f) return f:sub(1, 9) ~= "/nowhere/" end
function LmodMessage(...) end
function LmodError(...) error(table.concat({...})) end
dofile(arg[1])
for _, s in ipairs(seen) do io.write(s, "\n") end
)";

TEST_F(TemplateInjection, LuaModulefileValuesStayStringsAndRoundTrip) {
  const fs::path stubs = write("stubs.lua", kLuaStubs);
  auto [have_lua, lua_version] = run_capture("lua5.4 -v");
  ASSERT_EQ(have_lua, 0) << "lua5.4 is needed (apt-get install lua5.4): " << lua_version;
  int tried = 0;
  for (const auto& value : payloads()) {
    for (const char* key : {"/slurm/version", "/toolchain/os_name", "/install_root"}) {
      const fs::path file =
          write("m.lua", renderer_.render("modules/modulefile.lua", data_with(key, value)));
      ++tried;
      auto [code, out] = run_capture("env -u SLURM_INSTALL_PREFIX -u SLURM_CONF lua5.4 " +
                                     quoted(stubs) + " " + quoted(file));
      ASSERT_EQ(code, 0) << key << " = " << value << ":\n" << out;
      EXPECT_FALSE(fs::exists(canary_)) << key << " = " << value << " ran as code";
      const std::string k = key;
      if (k == "/slurm/version") {
        EXPECT_NE(out.find("whatis:Version: " + value + "\n"), std::string::npos) << out;
        EXPECT_NE(out.find("help:Slurm " + value + " built for"), std::string::npos) << out;
      } else if (k == "/toolchain/os_name") {
        EXPECT_NE(out.find("whatis:Target: bookworm (" + value + "), amd64\n"), std::string::npos)
            << out;
      } else {
        EXPECT_NE(out.find("setenv:SLURM_ROOT=" + value + "/view\n"), std::string::npos) << out;
      }
    }
  }
  EXPECT_EQ(tried, 39);
}

const char* const kTclStubs = R"(
proc module-whatis {s} { puts "whatis:$s" }
proc conflict {args} {}
proc prepend-path {k v} { puts "prepend:$k=$v" }
proc setenv {k v} { puts "setenv:$k=$v" }
proc module-info {what args} { return 0 }
# The modulefile sits where no Slurm is, so the (hostile) baked install root is the one found.
set ModulesCurrentModulefile /nowhere/modules/slurm/m.tcl
rename file _file
proc file {sub args} {
  if {$sub eq "isfile"} { return [expr {![string match /nowhere/* [lindex $args 0]]}] }
  return [_file $sub {*}$args]
}
source [lindex $argv 0]
ModulesHelp
)";

TEST_F(TemplateInjection, TclModulefileValuesStayWordsAndRoundTrip) {
  const fs::path stubs = write("stubs.tcl", kTclStubs);
  int tried = 0;
  for (const auto& value : payloads()) {
    for (const char* key : {"/slurm/version", "/toolchain/os_name", "/install_root"}) {
      const fs::path file =
          write("m.tcl", renderer_.render("modules/modulefile.tcl", data_with(key, value)));
      ++tried;
      auto [code, out] = run_capture("env -u SLURM_INSTALL_PREFIX -u SLURM_CONF tclsh " +
                                     quoted(stubs) + " " + quoted(file));
      ASSERT_EQ(code, 0) << key << " = " << value << ":\n" << out;
      EXPECT_FALSE(fs::exists(canary_)) << key << " = " << value << " ran as code";
      const std::string k = key;
      if (k == "/slurm/version") {
        EXPECT_NE(out.find("whatis:Version: " + value + "\n"), std::string::npos) << out;
        EXPECT_NE(out.find("Slurm " + value + " built for"), std::string::npos) << out;
      } else if (k == "/toolchain/os_name") {
        EXPECT_NE(out.find("whatis:Target: bookworm (" + value + "), amd64\n"), std::string::npos)
            << out;
      } else {
        EXPECT_NE(out.find("setenv:SLURM_ROOT=" + value + "/view\n"), std::string::npos) << out;
      }
    }
  }
  EXPECT_EQ(tried, 39);
}

TEST_F(TemplateInjection, ControlCharactersAreRefusedInEveryCodeTemplate) {
  int tried = 0;
  for (const char* name :
       {"slurm_install.sh", "modules/modulefile.lua", "modules/modulefile.tcl",
        "systemd/slurmd.service", "slurm/slurm.conf.template", "mysql/slurm_acct_db.sql"}) {
    for (const std::string value : {"24.11.5\ntouch /tmp/x", "24.11.5\r", "24.11.5\x1b]0;x\a"}) {
      ++tried;
      try {
        (void)renderer_.render(name, data_with("/slurm/version", value));
        ADD_FAILURE() << name << " rendered a control character";
      } catch (const sf::PackagingError& e) {
        EXPECT_NE(e.context_value("template").find(name), std::string::npos);
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      }
    }
  }
  EXPECT_EQ(tried, 18);
}

TEST_F(TemplateInjection, SystemdUnitsRefuseAPrefixThatWouldSplitOrExpand) {
  int tried = 0;
  for (const std::string root :
       {"/opt/my slurm", "/opt/%h", "/opt/$HOME", "/opt/a;b", "/opt/\"x"}) {
    ++tried;
    EXPECT_THROW((void)renderer_.render("systemd/slurmd.service", data_with("/prefix", root)),
                 sf::PackagingError)
        << root;
  }
  EXPECT_EQ(tried, 5);
}

TEST(TemplateEscaping, EachOutputKindHasItsEscaping) {
  using sf::TemplateEscape;
  EXPECT_EQ(sf::template_escape_for("slurm_install.sh"), TemplateEscape::kShell);
  EXPECT_EQ(sf::template_escape_for("modules/modulefile.lua"), TemplateEscape::kLua);
  EXPECT_EQ(sf::template_escape_for("modules/modulefile.tcl"), TemplateEscape::kTcl);
  EXPECT_EQ(sf::template_escape_for("systemd/slurmd.service"), TemplateEscape::kSystemd);
  EXPECT_EQ(sf::template_escape_for("mysql/slurm_acct_db.sql"), TemplateEscape::kSql);
  EXPECT_EQ(sf::template_escape_for("slurm/slurm.conf.template"), TemplateEscape::kConfig);
  EXPECT_EQ(sf::template_escape_for("index/artifacts.html.mustache"), TemplateEscape::kVerbatim);
  EXPECT_EQ(sf::escape_template_value(TemplateEscape::kShell, "it's"), "'it'\\''s'");
  EXPECT_EQ(sf::escape_template_value(TemplateEscape::kLua, "a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(sf::escape_template_value(TemplateEscape::kTcl, "$x[y]{z}"), "\\$x\\[y\\]\\{z\\}");
  EXPECT_EQ(sf::escape_template_value(TemplateEscape::kSql, "o'k"), "o''k");
}

TEST(TemplateEscaping, AnUnescapedTagIsRefusedInACodeTemplate) {
  EXPECT_THROW(sf::TemplateRenderer::render_text("X={{{v}}}", {{"v", "1"}}, "x.sh"),
               sf::PackagingError);
  EXPECT_THROW(sf::TemplateRenderer::render_text("X={{&v}}", {{"v", "1"}}, "x.lua"),
               sf::PackagingError);
}

// Every value tag of a Lua or Tcl template sits inside a double-quoted string (or a comment), and
// no value tag of a shell template sits inside double quotes: where the escaping assumes it is.
TEST(TemplateEscaping, EveryTemplateQuotesItsValuesTheWayItsEscapingAssumes) {
  sf::TemplateRenderer renderer(kTemplates);
  const std::regex tag(R"(\{\{([^#/^!>&{][^}]*)\}\})");
  for (const auto& name : renderer.list()) {
    const auto mode = sf::template_escape_for(name);
    if (mode != sf::TemplateEscape::kLua && mode != sf::TemplateEscape::kTcl &&
        mode != sf::TemplateEscape::kShell) {
      continue;
    }
    std::istringstream in(read(kTemplates / name));
    std::string line;
    int number = 0;
    bool in_long_string = false;
    while (std::getline(in, line)) {
      ++number;
      const auto first = line.find_first_not_of(" \t");
      const std::string body = first == std::string::npos ? "" : line.substr(first);
      if (mode == sf::TemplateEscape::kLua) {
        // Track [[ ... ]] long strings across lines: no tag may appear inside one.
        const bool opens = body.find("[[") != std::string::npos;
        const bool closes = body.find("]]") != std::string::npos;
        if (in_long_string || (opens && !closes)) {
          for (auto it = std::sregex_iterator(line.begin(), line.end(), tag);
               it != std::sregex_iterator(); ++it) {
            const auto pos = static_cast<std::size_t>(it->position());
            if (in_long_string || pos > line.find("[[")) {
              ADD_FAILURE() << name << ":" << number << ": a value inside a [[long string]]";
            }
          }
        }
        if (opens && !closes) in_long_string = true;
        if (closes && !opens) in_long_string = false;
      }
      const bool comment = body.rfind(mode == sf::TemplateEscape::kLua ? "--" : "#", 0) == 0;
      if (comment) continue;
      for (auto it = std::sregex_iterator(line.begin(), line.end(), tag);
           it != std::sregex_iterator(); ++it) {
        const auto pos = static_cast<std::size_t>(it->position());
        int quotes = 0;
        for (std::size_t i = 0; i < pos; ++i) {
          if (line[i] == '"' && (i == 0 || line[i - 1] != '\\')) ++quotes;
        }
        const bool inside = quotes % 2 == 1;
        if (mode == sf::TemplateEscape::kShell) {
          EXPECT_FALSE(inside) << name << ":" << number << ": " << it->str()
                               << " inside double quotes";
        } else {
          EXPECT_TRUE(inside) << name << ":" << number << ": " << it->str()
                              << " outside a double-quoted string";
        }
      }
    }
  }
}

}  // namespace
