// `slurm-factory plan` (print the DAG of a request) and `slurm-factory fetch` (download and verify
// a plan's sources into the source cache, e.g. to prepare an air-gapped site).
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "app/app.hpp"
#include "build/source_fetcher.hpp"
#include "cli/command_groups.hpp"
#include "config/build_request.hpp"
#include "recipes/package_hash.hpp"
#include "recipes/planner.hpp"
#include "recipes/recipe_book.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"
#include "support/strings.hpp"
#include "toolchains/toolchain_resolution.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace sf::cli {

namespace {

// The cache directory: --cache-dir, else the config's (SLURM_FACTORY_CACHE_DIR, default
// ~/.slurm-factory).
fs::path cache_dir_from(const po::variables_map& vm, App& app) {
  if (vm.count("cache-dir") != 0U) return vm["cache-dir"].as<std::string>();
  return app.config().cache_dir;
}

void add_request_options(po::options_description& opts) {
  opts.add_options()(
      "slurm-version", po::value<std::string>()->default_value("25.11"),
      "a Slurm series (24.11: its newest known patch), a version (24.11.5) or 'latest'")(
      "toolchain", po::value<std::string>()->default_value("noble"),
      "target OS release: jammy, noble, resolute, rockylinux8/9/10, bookworm, trixie")(
      "gpu", po::value<std::vector<std::string>>()->composing(),
      "GPU flavour(s): cuda, rocm, oneapi (comma-separated or repeated)")(
      "arch", po::value<std::string>()->default_value(""),
      "target architecture, amd64 or arm64 (default: this host's); another than the host's is a "
      "cross build (Debian toolchains)")(
      "from", po::value<std::vector<std::string>>()->composing(),
      "NAME=source|system: where a dependency comes from (e.g. pmix=source)")(
      "with", po::value<std::vector<std::string>>()->composing(),
      "NAME=VERSION: a dependency version other than the recipe's default")(
      "recipes", po::value<std::string>(), "recipe directory (default: the shipped recipes)")(
      "cache-dir", po::value<std::string>(),
      "cache directory (default: $SLURM_FACTORY_CACHE_DIR "
      "or ~/.slurm-factory)");
}

std::pair<std::string, std::string> split_assignment(const std::string& s, const std::string& opt) {
  auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
    throw UsageError("--" + opt + " expects NAME=VALUE, got '" + s + "'", {{"option", "--" + opt}},
                     "for example --from pmix=source or --with munge=0.5.16");
  }
  return {s.substr(0, eq), s.substr(eq + 1)};
}

struct PlannedRequest {
  RecipeBook book;
  Plan plan;
  double plan_ms = 0;
};

PlannedRequest plan_from(const po::variables_map& vm, App& app) {
  PlannedRequest out;
  auto start = std::chrono::steady_clock::now();  // recipes, toolchain and planning
  fs::path dir = vm.count("recipes") != 0U ? fs::path(vm["recipes"].as<std::string>())
                                           : RecipeBook::default_directory();
  out.book = RecipeBook::load_directory(dir);
  PlanRequest req;
  req.slurm_version = check_slurm_version_syntax(vm["slurm-version"].as<std::string>());
  if (vm.count("gpu") != 0U) {
    req.features = gpu_feature_names(parse_gpu_flavours(vm["gpu"].as<std::vector<std::string>>()));
  }
  // The same resolution build-slurm uses, so the hashes printed here are the ones it builds.
  // An unknown --arch is refused there (printable, listing the known ones).
  auto tc = resolve_toolchain(app, vm["toolchain"].as<std::string>(), req.features,
                              vm["arch"].as<std::string>());
  req.toolchain = tc.image.release;
  req.toolchain_image_hash = tc.image_hash;
  req.build_network = tc.build_network;
  for (const auto& f : tc.features) {
    for (const auto& a : f->configure_args()) req.extra_slurm_configure_args.push_back(a);
  }
  if (vm.count("from") != 0U) {
    for (const auto& s : vm["from"].as<std::vector<std::string>>()) {
      auto [name, value] = split_assignment(s, "from");
      auto origin = parse_origin(value);
      if (!origin) {
        throw UsageError("--from " + s + ": the origin must be 'source' or 'system'",
                         {{"option", "--from"}}, "for example --from pmix=source");
      }
      req.origin_overrides[name] = *origin;
    }
  }
  if (vm.count("with") != 0U) {
    for (const auto& s : vm["with"].as<std::vector<std::string>>()) {
      auto [name, value] = split_assignment(s, "with");
      req.version_overrides[name] = value;
    }
  }
  out.plan = make_plan(out.book, req);
  out.plan_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

void print_table(std::ostream& out, const Plan& plan, const SourceFetcher& fetcher,
                 double plan_ms) {
  const auto& t = plan.request.toolchain;
  out << fmt::format("Slurm {} for {} ({}, {}), build image {}, prefix {}\n", plan.slurm_version,
                     t.name, t.family, plan.root().toolchain.arch,
                     hash12(plan.request.toolchain_image_hash), plan.request.prefix);
  out << fmt::format("{:<13} {:<10} {:<12}  {:<6}  {:<7}  {}\n", "NAME", "VERSION", "HASH", "FROM",
                     "ROLE", "SOURCE");
  int from_source = 0;
  for (const auto& p : plan.packages) {
    std::string source = "-";
    if (p.origin == Origin::kSource) {
      ++from_source;
      source = fetcher.has(SourceItem::of(p)) ? "cached" : "to fetch";
    } else if (!p.system_package_names.empty()) {
      source = p.system_package_names.front();
      for (size_t i = 1; i < p.system_package_names.size(); ++i)
        source += "," + p.system_package_names[i];
    }
    out << fmt::format("{:<13} {:<10} {:<12}  {:<6}  {:<7}  {}\n", p.name, p.version, p.hash12(),
                       to_string(p.origin), p.runtime ? "runtime" : "build", source);
  }
  out << fmt::format("{} packages ({} from source, {} from the system), planned in {:.1f} ms\n",
                     plan.packages.size(), from_source,
                     plan.packages.size() - static_cast<size_t>(from_source), plan_ms);
  if (!plan.system_package_names.empty()) {
    std::string names = join(plan.system_package_names, " ");
    out << "build image -dev packages: " << names << "\n";
  }
}

const char* const kPlanExamples =
    "  slurm-factory plan --slurm-version 24.11 --toolchain trixie\n"
    "  slurm-factory plan --slurm-version 25.11.6 --toolchain noble --gpu cuda --json\n"
    "  slurm-factory plan --toolchain bookworm --from pmix=source\n";

}  // namespace

void add_plan_commands(CommandTable& table) {
  table.add(
      {{"plan"}, "show the packages a build needs, with their content hashes", [](Invocation& inv) {
         CommandSpec spec{
             "slurm-factory plan [options]",
             "Resolves a request (Slurm version, toolchain, GPU flavours) into the DAG of "
             "packages to build, in build order, each with its content hash (hash12), its "
             "origin (built from source or the OS's -dev package), its role (in the runtime "
             "view, or needed only to build) and whether its source archive is cached. "
             "Touches neither the network nor a container.",
             kPlanExamples};
         po::options_description opts("Options");
         add_request_options(opts);
         auto vm = parse_command(inv, spec, opts);
         if (!vm) return 0;
         App app(inv.global);
         auto planned = plan_from(*vm, app);
         SourceFetcher fetcher(cache_dir_from(*vm, app));
         if (inv.global.json) {
           auto j = planned.plan.to_json();
           for (auto& p : j["packages"]) {
             if (p["origin"] == "source") {
               p["source"]["cached"] =
                   fetcher.has({"", "", p["source"]["sha256"], p["source"]["file"], {}, ""});
             }
           }
           j["plan_ms"] = planned.plan_ms;
           inv.out << j.dump(2) << "\n";
         } else {
           print_table(inv.out, planned.plan, fetcher, planned.plan_ms);
         }
         return 0;
       }});
  table.add(
      {{"fetch"}, "download and verify the sources a build needs", [](Invocation& inv) {
         CommandSpec spec{
             "slurm-factory fetch [options]",
             "Downloads the source archives of a plan into <cache>/sourcecache/ (mirrors in "
             "order, resumable, several at once) and verifies each sha256 before it enters "
             "the cache, without building anything: run it on a connected machine, then "
             "copy the cache directory to an air-gapped site.",
             "  slurm-factory fetch --slurm-version 24.11.5 --toolchain trixie\n"
             "  slurm-factory fetch --toolchain bookworm --cache-dir /srv/sf-cache --jobs 8\n"};
         po::options_description opts("Options");
         add_request_options(opts);
         opts.add_options()("jobs,j", po::value<int>()->default_value(4), "parallel downloads");
         auto vm = parse_command(inv, spec, opts);
         if (!vm) return 0;
         App app(inv.global);
         auto planned = plan_from(*vm, app);
         FetchOptions fo;
         fo.parallel = (*vm)["jobs"].as<int>();
         if (fo.parallel < 1) {
           throw UsageError("--jobs must be at least 1", {{"option", "--jobs"}},
                            "for example --jobs 4");
         }
         if (!inv.global.quiet && !inv.global.json) fo.progress = &inv.err;
         SourceFetcher fetcher(cache_dir_from(*vm, app), fo);
         auto results = fetcher.fetch_all(SourceFetcher::items_for(planned.plan));
         if (inv.global.json) {
           nlohmann::json j = nlohmann::json::array();
           for (const auto& r : results) {
             j.push_back({{"name", r.item.name},
                          {"version", r.item.version},
                          {"sha256", r.item.sha256},
                          {"path", r.path.string()},
                          {"cached", r.was_cached},
                          {"url", r.url},
                          {"bytes", r.bytes}});
           }
           inv.out << j.dump(2) << "\n";
         } else {
           int fetched = 0;
           for (const auto& r : results) fetched += r.was_cached ? 0 : 1;
           inv.out << fmt::format(
               "{} source archive(s) verified in {} ({} downloaded, {} "
               "already cached)\n",
               results.size(), fetcher.cache_root().string(), fetched,
               results.size() - static_cast<size_t>(fetched));
         }
         return 0;
       }});
}

}  // namespace sf::cli
