// `slurm-factory cache index`: a layer's index rebuilt, or a page of its artifacts (--html).
#include <nlohmann/json.hpp>
#include <ostream>

#include "artifact/artifact_index_html.hpp"
#include "artifact/published_artifacts.hpp"
#include "cli/cache_cli.hpp"
#include "slurm_factory/errors.hpp"

namespace sf::cli {

// The layer `cache index --html` lists: the named one, else the only layer, else the only remote
// (non-local) one.
CacheProvider& html_index_layer(const CacheChainSetup& setup, const std::string& name) {
  if (!name.empty()) return named_layer(setup, name);
  if (setup.layers.size() == 1) return named_layer(setup, setup.layers.front().name);
  std::vector<const CacheLayerSpec*> remote;
  for (const auto& l : setup.layers)
    if (l.type != "local") remote.push_back(&l);
  if (remote.size() == 1) return named_layer(setup, remote.front()->name);
  throw UsageError("cache index --html lists one layer: name it with --layer NAME", {},
                   "configured layers: " + layer_names(setup));
}

// Where the page's links point: --base-url, else the layer's settings.public_url, else an http
// layer's url; "" = the keys themselves, relative to the page (upload it to the layer's root).
std::string html_index_base_url(const CacheChainSetup& setup, const CacheProvider& layer,
                                const std::string& base_url) {
  if (!base_url.empty()) return base_url;
  const CacheLayerSpec* spec = setup.spec(layer.name());
  if (spec == nullptr) return "";
  if (auto it = spec->settings.find("public_url");
      it != spec->settings.end() && it->is_string() && !it->get<std::string>().empty())
    return it->get<std::string>();
  if (spec->type == "http") return spec->url;
  return "";
}

int write_html_index(Invocation& inv, const fs::path& cache_dir, const CacheChainSetup& setup,
                     const std::string& layer, const std::string& dir, const std::string& base_url,
                     const std::string& title) {
  CacheProvider& l = html_index_layer(setup, layer);
  Scratch scratch(cache_dir);
  auto scan = find_published_artifacts(l, scratch.path());
  if (!scan) {
    throw CacheError("cannot list cache layer '" + l.name() + "': " + scan.error().message,
                     {{"layer", l.name()}, {"location", l.location()}},
                     "check the layer's url and credentials (slurm-factory config show cache)");
  }
  for (const auto& w : scan->warnings) inv.err << "warning: " << w << "\n";
  ArtifactIndexPage page;
  page.title = title;
  page.layer = l.name();
  page.location = l.location();
  page.base_url = html_index_base_url(setup, l, base_url);
  page.generated = utc_time(static_cast<std::int64_t>(std::time(nullptr)));
  const fs::path index = write_artifact_index(dir, page, scan->artifacts, TemplateRenderer());
  if (inv.global.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& a : scan->artifacts) {
      arr.push_back({{"key", a.artifact_key},
                     {"slurm_version", a.slurm_version},
                     {"toolchain", a.toolchain},
                     {"gpu", a.gpu},
                     {"arch", a.arch},
                     {"size", a.size},
                     {"created", a.created},
                     {"sha256", a.sha256},
                     {"href", artifact_href(page.base_url, a.artifact_key)}});
    }
    inv.out << nlohmann::json{{"layer", l.name()},
                              {"html", index.string()},
                              {"base_url", page.base_url},
                              {"artifacts", arr},
                              {"warnings", scan->warnings}}
                   .dump()
            << "\n";
  } else if (!inv.global.quiet) {
    inv.out << "wrote " << index.string() << ": " << scan->artifacts.size()
            << (scan->artifacts.size() == 1 ? " artifact" : " artifacts") << " of layer '"
            << l.name() << "' (" << l.location() << "), links "
            << (page.base_url.empty()
                    ? std::string("relative to the page (upload it to the layer's root)")
                    : "under " + page.base_url)
            << "\n";
  }
  return 0;
}

int cache_index(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache index [--layer NAME] [options]\n"
      "       slurm-factory cache index [--layer NAME] --html DIR [--base-url URL]",
      "Rebuilds <toolchain>/<arch>/index.json and the top index.json of every writable layer (or\n"
      "the one given) from the manifests stored there. The http layer lists only through these\n"
      "files, so run this on the layer a mirror is made from.\n"
      "With --html DIR, writes instead a static page for people, DIR/index.html + style.css\n"
      "(no script, works offline), listing the Slurm artifacts published to one layer\n"
      "(build-slurm --publish): version, toolchain, GPU, arch, size, date, sha256 and links to "
      "the\n"
      "artifact, its signatures, SHA256SUMS and provenance. Links go under --base-url, else the\n"
      "layer's settings.public_url, else an http layer's url, else they are the keys relative to\n"
      "the page (upload it to the layer's root). Nothing is verified for the page.",
      "  slurm-factory cache index\n  slurm-factory cache index --layer site-s3\n"
      "  slurm-factory cache index --layer site-s3 --html public/\n"
      "  slurm-factory cache index --layer site-s3 --html public/ --base-url "
      "https://builds.example.org/slurm\n"};
  LayerOptions lo;
  std::string html, base_url, title = "Slurm builds";
  po::options_description opts("Options");
  lo.add_to(opts);
  opts.add_options()("html", po::value(&html)->value_name("DIR"),
                     "write DIR/index.html listing the published artifacts of the layer")(
      "base-url", po::value(&base_url)->value_name("URL"),
      "with --html: links under URL (default: settings.public_url of the layer)")(
      "title", po::value(&title)->value_name("TEXT"), "with --html: the page title");
  if (!parse_command(inv, spec, opts)) return 0;
  if (html.empty() && (!base_url.empty() || title != "Slurm builds")) {
    throw UsageError("--base-url and --title go with --html DIR", {},
                     "slurm-factory cache index --layer NAME --html DIR --base-url URL");
  }
  OpenCache cache(inv, lo);
  if (!html.empty())
    return write_html_index(inv, cache.app.config().cache_dir, cache.setup, lo.layer, html,
                            base_url, title);
  Scratch scratch(cache.app.config().cache_dir);
  nlohmann::json arr = nlohmann::json::array();
  for (CacheProvider* l : selected_layers(cache.setup, lo.layer)) {
    if (!l->writable()) {
      if (!lo.layer.empty()) {
        throw CacheError("cache layer '" + l->name() + "' is read-only", {{"layer", l->name()}},
                         "build the index on the writable layer the mirror is copied from");
      }
      continue;
    }
    auto n = rebuild_cache_index(*l, scratch.path());
    if (!n) {
      throw CacheError(
          "cannot rebuild the index of layer '" + l->name() + "': " + n.error().message,
          {{"layer", l->name()}, {"location", l->location()}},
          "check the layer's url, credentials and permissions");
    }
    arr.push_back({{"layer", l->name()}, {"entries", *n}});
    if (!inv.global.json && !inv.global.quiet)
      inv.out << "indexed " << *n << " entries in layer '" << l->name() << "' (" << l->location()
              << ")\n";
  }
  if (inv.global.json) inv.out << arr.dump() << "\n";
  return 0;
}

}  // namespace sf::cli
