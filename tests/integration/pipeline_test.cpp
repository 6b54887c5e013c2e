// `slurm-factory run` on docker, CI-sized: stand-in recipes (plain make, built in the real trixie
// build image in seconds) where "slurm" in several versions links two shared source dependencies,
// fakea and fakeb. A pipeline of two cells (24.11.5, 22.05.8) run two at a time with an empty cache
// builds each shared dependency once (counted from the "built" events: the other cell waits on
// the package's build lock and reuses the entry), both artifacts verify --deep, and the report
// lists two successes. A cell forced to fail (a version whose source does not compile) stops the
// launch of the next cell without --keep-going, and with it the other cell still succeeds; the exit
// code is non-zero and the report names the failed cell, its stage and the reason. --emit
// github-matrix is JSON with one entry per cell; --cell runs exactly that cell.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../support/pipeline_fixture.hpp"
#include "cli/cli.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/http_client.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace sf {
namespace {

class PipelineRunTest : public test::PipelineFixture {
 protected:
  PipelineRunTest() : PipelineFixture("sf-run", "Pipeline Run Test <run@test.invalid>") {}
  void SetUp() override {
    PipelineFixture::SetUp();
    if (IsSkipped()) return;

    // Two shared libraries, each its own recipe.
    for (const std::string lib : {"fakea", "fakeb"}) {
      const std::string dirname = lib + "-1.0";
      test::write_file(
          dir_ / "src" / dirname / (lib + ".c"),
          "int " + lib + "(void) { return " + std::to_string(lib.back() - 'a' + 1) + "; }\n");
      test::write_file(dir_ / "src" / dirname / (lib + ".h"), "int " + lib + "(void);\n");
      test::write_file(dir_ / "src" / dirname / "Makefile",
                       "PREFIX ?= /opt/slurm/view\n"
                       "all: lib" +
                           lib + ".so\nlib" + lib + ".so: " + lib +
                           ".c\n\t$(CC) -O2 -shared -fPIC -Wl,-soname,lib" + lib + ".so -o $@ " +
                           lib +
                           ".c\n"
                           "install: all\n"
                           "\tinstall -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include\n"
                           "\tinstall -m 755 lib" +
                           lib + ".so $(DESTDIR)$(PREFIX)/lib/\n\tinstall -m 644 " + lib +
                           ".h $(DESTDIR)$(PREFIX)/include/\n");
      const std::string sha = pack(dirname);
      test::write_file(recipes_ / (lib + ".yaml"),
                       test::make_recipe(lib, "a shared stand-in dependency",
                                         test::version_entry("1.0", sha, dirname)));
    }
    // "slurm" in three versions: 23.11.1 does not compile.
    std::string versions;
    for (const std::string v : {"24.11.5", "22.05.8", "23.11.1"}) {
      const std::string dirname = "slurm-fake-" + v;
      const std::string body = v == "23.11.1" ? "this is not C;\n" : "";
      test::write_file(dir_ / "src" / dirname / "sinfo.c",
                       body +
                           "#include <fakea.h>\n#include <fakeb.h>\n#include <stdio.h>\n"
                           "int main(void) { printf(\"fake sinfo " +
                           v + " %d\\n\", fakea() + fakeb()); return 0; }\n");
      test::write_file(
          dir_ / "src" / dirname / "Makefile",
          "PREFIX ?= /opt/slurm/view\n"
          "all: sinfo\n"
          "sinfo: sinfo.c\n\t$(CC) -O2 -I$(PREFIX)/include -o $@ sinfo.c -L$(PREFIX)/lib "
          "-lfakea -lfakeb\n"
          "install: all\n"
          "\tinstall -d $(DESTDIR)$(PREFIX)/bin\n"
          "\tinstall -m 755 sinfo $(DESTDIR)$(PREFIX)/bin/sinfo\n");
      versions += test::version_entry(v, pack(dirname), dirname);
    }
    test::write_file(recipes_ / "slurm.yaml",
                     test::make_recipe("slurm", "a stand-in for Slurm", versions,
                                       "dependencies:\n  - fakea\n  - fakeb\n"));
    write_config("toolchain-debian, backend-docker, cache-local",
                 "pipelines:\n"
                 "  shared:\n"
                 "    matrix: {slurm_versions: [24.11.5, 22.05.8], toolchains: [trixie]}\n"
                 "    backend: docker\n"
                 "    parallel: 2\n"
                 "  broken:\n"
                 "    matrix: {slurm_versions: [23.11.1, 24.11.5], toolchains: [trixie]}\n"
                 "    backend: docker\n");
  }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--json", "run"});
    return cli(std::move(args));
  }
  // "built" events per package name.
  static std::map<std::string, int> built(const std::vector<nlohmann::json>& ev) {
    std::map<std::string, int> n;
    for (const auto& e : ev) {
      if (e.value("event", "") == "build" && e.value("kind", "") == "built") {
        ++n[e["package"]["name"].get<std::string>()];
      }
    }
    return n;
  }
};

TEST_F(PipelineRunTest, SharedDependenciesAreBuiltOnceAcrossConcurrentCells) {
  const fs::path report = dir_ / "report.json";
  ASSERT_EQ(run({"shared", "--output", output_.string(), "--report", report.string()}), 0)
      << out_.str() << err_.str();
  const auto ev = test::events(out_.str());

  // The plan came first: two cells, fakea and fakeb shared, 4 distinct builds.
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.front()["event"], "pipeline");
  const auto& plan = ev.front()["plan"];
  ASSERT_EQ(plan["cells"].size(), 2U);
  EXPECT_EQ(plan["cells"][0]["cell"], "24.11.5-trixie-cpu");
  EXPECT_EQ(plan["cells"][0]["to_build"].size(), 3U);
  EXPECT_EQ(plan["cells"][1]["shared"], 2);
  EXPECT_EQ(plan["distinct_builds"], 4);

  // fakea and fakeb built once across both cells; each cell built its own slurm.
  const auto n = built(ev);
  EXPECT_EQ(n.at("fakea"), 1) << out_.str();
  EXPECT_EQ(n.at("fakeb"), 1) << out_.str();
  EXPECT_EQ(n.at("slurm"), 2);
  // Every event carries its cell; both cells ran at the same time (two starts before any end).
  int started = 0;
  bool overlapped = false;
  for (const auto& e : ev) {
    if (e.value("event", "") == "cell" && e.value("kind", "") == "start") ++started;
    if (e.value("event", "") == "cell" && e.value("kind", "") == "done" && started == 2) {
      overlapped = true;
    }
    if (e.contains("kind") && e.value("event", "") != "pipeline" &&
        e.value("event", "") != "summary") {
      EXPECT_TRUE(e.contains("cell")) << e.dump();
    }
  }
  EXPECT_TRUE(overlapped) << out_.str();

  // The report: two successes; the dependencies the second cell needed came from the first.
  const auto r = nlohmann::json::parse(test::read_file(report));
  EXPECT_EQ(r["ok"], true);
  EXPECT_EQ(r["succeeded"], 2);
  EXPECT_EQ(r["failed"], 0);
  ASSERT_EQ(r["cells"].size(), 2U);
  int reused = 0;
  int built_total = 0;
  for (const auto& c : r["cells"]) {
    EXPECT_EQ(c["result"], "ok") << c.dump();
    reused += c["reused_from_other_cells"].get<int>();
    built_total += c["built"].get<int>();
    const fs::path artifact = c["artifact"].get<std::string>();
    EXPECT_TRUE(fs::is_regular_file(artifact)) << artifact;
    EXPECT_THAT(artifact.string(), HasSubstr((output_ / c["cell"].get<std::string>()).string()));
    // Each artifact verifies, deeply, with the test key.
    std::ostringstream vout, verr;
    EXPECT_EQ(
        cli::run({"--config", config_.string(), "verify", "--deep", artifact.string()}, vout, verr),
        0)
        << vout.str() << verr.str();
  }
  EXPECT_EQ(built_total, 4);
  EXPECT_EQ(reused, 2);
  // The summary event holds the same report.
  EXPECT_EQ(ev.back()["event"], "summary");
  EXPECT_EQ(ev.back()["report"]["succeeded"], 2);
}

TEST_F(PipelineRunTest, AFailedCellStopsTheRestUnlessKeepGoing) {
  const fs::path report = dir_ / "report.json";
  // 23.11.1 comes first and fails: without --keep-going, 24.11.5 is not run.
  EXPECT_EQ(run({"broken", "--output", output_.string(), "--report", report.string()}),
            static_cast<int>(ExitCode::kBuild))
      << out_.str() << err_.str();
  auto r = nlohmann::json::parse(test::read_file(report));
  EXPECT_EQ(r["ok"], false);
  ASSERT_EQ(r["cells"].size(), 2U);
  EXPECT_EQ(r["cells"][0]["cell"], "23.11.1-trixie-cpu");
  EXPECT_EQ(r["cells"][0]["result"], "failed");
  EXPECT_EQ(r["cells"][1]["result"], "skipped");

  // With --keep-going the other cell succeeds; the exit code still says a cell failed.
  EXPECT_EQ(
      run({"broken", "--keep-going", "--output", output_.string(), "--report", report.string()}),
      static_cast<int>(ExitCode::kBuild))
      << out_.str() << err_.str();
  r = nlohmann::json::parse(test::read_file(report));
  EXPECT_EQ(r["exit_code"], static_cast<int>(ExitCode::kBuild));
  EXPECT_EQ(r["succeeded"], 1);
  EXPECT_EQ(r["failed"], 1);
  const auto& bad = r["cells"][0];
  EXPECT_EQ(bad["result"], "failed");
  EXPECT_EQ(bad["error"]["stage"], "build");
  EXPECT_EQ(bad["error"]["kind"], "build error");
  EXPECT_EQ(bad["error"]["context"]["package"], "slurm");
  EXPECT_EQ(bad["error"]["context"]["version"], "23.11.1");
  EXPECT_THAT(bad["error"]["message"].get<std::string>(), HasSubstr("this is not C"));
  EXPECT_TRUE(fs::is_regular_file(bad["error"]["context"]["log file"].get<std::string>()));
  const auto& good = r["cells"][1];
  EXPECT_EQ(good["cell"], "24.11.5-trixie-cpu");
  EXPECT_EQ(good["result"], "ok");
  EXPECT_TRUE(fs::is_regular_file(good["artifact"].get<std::string>()));
  // The dependencies came from the first run's cache: nothing but slurm built in this one.
  const auto n = built(test::events(out_.str()));
  EXPECT_EQ(n.count("fakea"), 0U);
  EXPECT_EQ(n.count("fakeb"), 0U);

  // Text mode: the summary table names the failed cell, and stderr says why.
  out_.str("");
  err_.str("");
  EXPECT_NE(cli::run({"--config", config_.string(), "run", "broken", "--keep-going", "--output",
                      output_.string()},
                     out_, err_),
            0);
  EXPECT_THAT(out_.str(), HasSubstr("23.11.1-trixie-cpu"));
  EXPECT_THAT(out_.str(), HasSubstr("failed"));
  EXPECT_THAT(err_.str(), HasSubstr("cell 23.11.1-trixie-cpu failed (build error, stage build)"));
}

TEST_F(PipelineRunTest, EmitAndCellFanOut) {
  ASSERT_EQ(run({"shared", "--emit", "github-matrix"}), 0) << err_.str();
  const auto m = nlohmann::json::parse(out_.str());
  ASSERT_EQ(m["include"].size(), 2U);
  EXPECT_EQ(m["include"][1]["cell"], "22.05.8-trixie-cpu");
  EXPECT_EQ(m["include"][1]["slurm_version"], "22.05.8");
  EXPECT_EQ(m["include"][1]["toolchain"], "trixie");
  EXPECT_EQ(m["include"][1]["gpu"], "cpu");

  // --cell: exactly that cell is planned and run.
  const fs::path report = dir_ / "cell.json";
  ASSERT_EQ(run({"shared", "--cell", "22.05.8-trixie-cpu", "--output", output_.string(), "--report",
                 report.string()}),
            0)
      << out_.str() << err_.str();
  std::set<std::string> cells;
  for (const auto& e : test::events(out_.str())) {
    if (e.contains("cell") && e["cell"].is_string()) cells.insert(e["cell"].get<std::string>());
  }
  EXPECT_EQ(cells, (std::set<std::string>{"22.05.8-trixie-cpu"}));
  const auto r = nlohmann::json::parse(test::read_file(report));
  ASSERT_EQ(r["cells"].size(), 1U);
  EXPECT_EQ(r["cells"][0]["result"], "ok");
  EXPECT_FALSE(fs::exists(output_ / "24.11.5-trixie-cpu"));

  // An unknown cell or pipeline: usage errors naming what exists.
  EXPECT_EQ(run({"shared", "--cell", "25.11-trixie-cpu"}), static_cast<int>(ExitCode::kUsage));
  EXPECT_THAT(err_.str(), HasSubstr("24.11.5-trixie-cpu, 22.05.8-trixie-cpu"));
  EXPECT_EQ(run({"nightly"}), static_cast<int>(ExitCode::kUsage));
  EXPECT_THAT(err_.str(), HasSubstr("broken, shared"));
}

TEST_F(PipelineRunTest, TwoProcessesSharingACacheBuildASharedPackageOnce) {
  // Two build-slurm processes at once on one cache: fakea and fakeb are built by one of them; the
  // other waits on the build lock and takes the entry from the cache.
  const std::string bin = std::string(SF_TEST_BINARY_DIR) + "/bin/slurm-factory";
  ASSERT_TRUE(fs::is_regular_file(bin)) << bin;
  auto command = [&](const std::string& version) {
    return "'" + bin + "' --json --config '" + config_.string() + "' build-slurm --slurm-version " +
           version + " --toolchain trixie --backend docker --output '" +
           (output_ / version).string() + "' > '" + (dir_ / (version + ".json")).string() +
           "' 2> '" + (dir_ / (version + ".err")).string() + "'";
  };
  ASSERT_EQ(test::sh("(" + command("24.11.5") + ") & (" + command("22.05.8") + ") & wait"), 0);
  std::map<std::string, int> n;
  int reused = 0;
  for (const std::string v : {"24.11.5", "22.05.8"}) {
    const auto ev = test::events(test::read_file(dir_ / (v + ".json")));
    ASSERT_FALSE(ev.empty()) << test::read_file(dir_ / (v + ".err"));
    EXPECT_EQ(ev.back()["event"], "result") << test::read_file(dir_ / (v + ".err"));
    for (const auto& [name, count] : built(ev)) n[name] += count;
    for (const auto& e : ev) {
      if (e.value("kind", "") == "cached" &&
          e["package"].value("detail", "").find("another cell/process") != std::string::npos) {
        ++reused;
      }
    }
  }
  EXPECT_EQ(n["fakea"], 1);
  EXPECT_EQ(n["fakeb"], 1);
  EXPECT_EQ(n["slurm"], 2);
  EXPECT_EQ(reused, 2);
}

}  // namespace
}  // namespace sf
