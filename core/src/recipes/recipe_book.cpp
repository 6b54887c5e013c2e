#include "recipes/recipe_book.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "recipes/package_hash.hpp"
#include "recipes/recipe_error.hpp"
#include "recipes/recipe_parser.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "support/file_io.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

std::vector<std::string> dep_variables(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = text.find("${dep:", pos)) != std::string::npos) {
    size_t end = text.find('}', pos);
    if (end == std::string::npos) break;
    out.push_back(text.substr(pos + 6, end - pos - 6));
    pos = end + 1;
  }
  return out;
}

}  // namespace

RecipeBook::RecipeBook(std::vector<Recipe> recipes, fs::path dir) : dir_(std::move(dir)) {
  for (auto& r : recipes) {
    if (auto it = recipes_.find(r.name); it != recipes_.end()) {
      fail_at(r.where,
              "recipe '" + r.name + "' is defined twice (also in " + it->second.where.str() + ")",
              "keep one definition per recipe name");
    }
    std::string name = r.name;
    recipes_.emplace(std::move(name), std::move(r));
  }
  validate();
}

void RecipeBook::validate() const {
  std::string known;
  for (const auto& [name, _] : recipes_) known += (known.empty() ? "" : ", ") + name;
  for (const auto& [name, r] : recipes_) {
    std::set<std::string> declared;
    for (const auto& d : r.dependencies) {
      if (recipes_.count(d.name) == 0) {
        fail_at(d.where, "recipe '" + name + "' depends on unknown recipe '" + d.name + "'",
                "known recipes: " + known +
                    "; a library with no recipe of ours goes in 'system_dependencies'");
      }
      declared.insert(d.name);
    }
    auto check_vars = [&](const std::vector<ConditionalString>& list) {
      for (const auto& cs : list) {
        for (const auto& dep : dep_variables(cs.value)) {
          if (declared.count(dep) == 0) {
            fail_at(cs.where, "'${dep:" + dep + "}' names no dependency of recipe '" + name + "'",
                    "add '" + dep + "' to its dependencies or fix the name");
          }
        }
      }
    };
    check_vars(r.configure_args);
    check_vars(r.build_args);
    check_vars(r.install_args);
    check_vars(r.extra_install);
    for (const auto& [_, values] : r.env) check_vars(values);
    if (!dir_.empty()) {
      for (const auto& p : r.patches) {
        fs::path file = dir_ / p.file;
        if (!fs::is_regular_file(file)) {
          fail_at(p.where, "patch file " + file.string() + " does not exist",
                  "add the patch next to the recipe or fix 'file:'");
        }
        std::string actual = sha256_hex(read_file(file));
        if (actual != p.sha256) {
          fail_at(
              p.where,
              "patch " + file.string() + " has sha256 " + actual + ", the recipe pins " + p.sha256,
              "if the patch changed on purpose, update its sha256 in the recipe");
        }
      }
    }
  }
  // Cycles: depth-first search over all edges (conditions ignored: a cycle under any condition is
  // a cycle in the recipe set).
  enum class Mark { kNone, kActive, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> stack;
  std::function<void(const Recipe&)> visit = [&](const Recipe& r) {
    marks[r.name] = Mark::kActive;
    stack.push_back(r.name);
    for (const auto& d : r.dependencies) {
      auto m = marks[d.name];
      if (m == Mark::kActive) {
        std::string cycle;
        auto start = std::find(stack.begin(), stack.end(), d.name);
        for (auto it = start; it != stack.end(); ++it) cycle += *it + " -> ";
        cycle += d.name;
        fail_at(d.where, "dependency cycle: " + cycle,
                "remove one of the dependencies in the cycle (a dependency of a dependency is "
                "implied)");
      }
      if (m == Mark::kNone) visit(recipes_.at(d.name));
    }
    stack.pop_back();
    marks[r.name] = Mark::kDone;
  };
  for (const auto& [name, r] : recipes_) {
    if (marks[name] == Mark::kNone) visit(r);
  }
}

RecipeBook RecipeBook::load_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw ConfigurationError(
        "recipe directory " + dir.string() + " does not exist", {{"directory", dir.string()}},
        "set SLURM_FACTORY_RECIPE_DIR to the folder holding the *.yaml recipes");
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<Recipe> recipes;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      throw ConfigurationError("cannot read recipe " + f.string(), {{"recipe", f.string()}},
                               "check the file's permissions");
    }
    std::stringstream text;
    text << in.rdbuf();
    Recipe r = parse_recipe(text.str(), f.string());
    if (r.name != f.stem().string()) {
      fail_at(
          SourceLocation{f.string(), 1, 1},
          "recipe name '" + r.name + "' differs from its file name '" + f.filename().string() + "'",
          "rename the file to " + r.name + ".yaml or fix 'name:'");
    }
    recipes.push_back(std::move(r));
  }
  return RecipeBook(std::move(recipes), dir);
}

fs::path RecipeBook::default_directory() {
  if (const char* env = std::getenv("SLURM_FACTORY_RECIPE_DIR"); env != nullptr && *env != 0) {
    return env;
  }
  // Next to the core library: <prefix>/lib/libslurm-factory-core.so -> <prefix>/share/...
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&RecipeBook::default_directory), &info) != 0 &&
      info.dli_fname != nullptr) {
    fs::path lib = fs::path(info.dli_fname).parent_path();
    fs::path installed = lib.parent_path() / "share" / "slurm-factory" / "configs" / "recipes";
    if (fs::is_directory(installed)) return installed;
  }
  return fs::path(SF_SOURCE_DIR) / "configs" / "recipes";
}

const Recipe* RecipeBook::find(const std::string& name) const {
  auto it = recipes_.find(name);
  return it == recipes_.end() ? nullptr : &it->second;
}

const Recipe& RecipeBook::get(const std::string& name) const {
  if (const Recipe* r = find(name)) return *r;
  std::string known;
  for (const auto& [n, _] : recipes_) known += (known.empty() ? "" : ", ") + n;
  throw ConfigurationError("no recipe named '" + name + "'",
                           {{"recipe", name}, {"directory", dir_.string()}},
                           "known recipes: " + (known.empty() ? std::string("(none)") : known));
}

std::vector<std::string> RecipeBook::names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : recipes_) out.push_back(n);
  return out;
}

}  // namespace sf
