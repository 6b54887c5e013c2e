#include "cli/cli.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "cli/command.hpp"
#include "cli/command_groups.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/interrupt_guard.hpp"
#include "support/strings.hpp"

namespace sf::cli {
namespace {

// Pulls the global options out of the argument list, wherever they stand.
std::vector<std::string> extract_global_options(const std::vector<std::string>& args,
                                                GlobalOptions& g) {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value_of = [&](const std::string& name) -> std::string {
      if (a.size() > name.size() && a.compare(0, name.size() + 1, name + "=") == 0) {
        return a.substr(name.size() + 1);
      }
      if (i + 1 >= args.size()) {
        throw UsageError("option " + name + " needs a value", {}, "e.g. " + name + " VALUE");
      }
      return args[++i];
    };
    if (a == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    if (a == "-v" || a == "--verbose") {
      ++g.verbosity;
    } else if (a == "-vv") {
      g.verbosity += 2;
    } else if (a == "-q" || a == "--quiet") {
      g.quiet = true;
    } else if (a == "--json") {
      g.json = true;
    } else if (a == "--config" || a.rfind("--config=", 0) == 0) {
      g.config_files.push_back(value_of("--config"));
    } else if (a == "--profile" || a.rfind("--profile=", 0) == 0) {
      g.profile = value_of("--profile");
    } else {
      rest.push_back(a);
    }
  }
  return rest;
}

void configure_logging(const GlobalOptions& g) {
  auto level = spdlog::level::info;
  if (g.quiet || g.json) level = spdlog::level::warn;
  if (g.verbosity == 1) level = spdlog::level::debug;
  if (g.verbosity >= 2) level = spdlog::level::trace;
  sf::log().set_level(level);
}

std::string top_level_help(const CommandTable& table) {
  std::ostringstream out;
  out << "slurm-factory: build relocatable, signed Slurm packages in containers.\n\n"
         "Usage: slurm-factory [global options] COMMAND [options]\n\nCommands:\n";
  for (const auto& c : table.all()) {
    std::string words = join(c.words, " ");
    out << "  " << words;
    for (std::size_t n = words.size(); n < 22; ++n) out << ' ';
    out << " " << c.summary << "\n";
  }
  out << "\n"
      << global_options_help()
      << "\nRun 'slurm-factory COMMAND --help' for a command's options and examples.\n"
         "Example: slurm-factory build-slurm --slurm-version 24.11 --toolchain noble --gpu cuda\n";
  return out.str();
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    GlobalOptions global;
    if (const char* p = std::getenv("SLURM_FACTORY_PROFILE"); p != nullptr) global.profile = p;
    std::vector<std::string> rest = extract_global_options(args, global);
    configure_logging(global);
    const CommandTable& table = builtin_commands();
    if (rest.empty() || rest[0] == "--help" || rest[0] == "-h" || rest[0] == "help") {
      out << top_level_help(table);
      return rest.empty() ? static_cast<int>(ExitCode::kUsage) : 0;
    }
    if (rest[0] == "--version") rest[0] = "version";
    const Command* cmd = table.match(rest);
    if (cmd == nullptr) {
      // The longest run of words that has subcommands ("cache keys" before "cache").
      std::vector<std::string> prefix;
      std::vector<const Command*> below;
      for (std::size_t n = 1; n <= rest.size(); ++n) {
        std::vector<std::string> candidate(rest.begin(),
                                           rest.begin() + static_cast<std::ptrdiff_t>(n));
        auto found = table.under(candidate);
        if (found.empty()) break;
        prefix = std::move(candidate);
        below = std::move(found);
      }
      if (!below.empty()) {
        std::string group = join(prefix, " ");
        std::string list;
        for (const auto* c : below) {
          std::string words = join(c->words, " ");
          list += "\n    slurm-factory " + words + "  " + c->summary;
        }
        const bool extra = rest.size() > prefix.size();
        throw UsageError(
            "'" + group + "' needs a subcommand" +
                (extra ? " ('" + rest[prefix.size()] + "' is not one)" : std::string()) + ":" +
                list,
            {}, "run 'slurm-factory " + group + " SUBCOMMAND --help'");
      }
      throw UsageError("unknown command '" + rest[0] + "'", {},
                       "run 'slurm-factory --help' for the list of commands");
    }
    Invocation inv{global, cmd->words,
                   std::vector<std::string>(
                       rest.begin() + static_cast<std::ptrdiff_t>(cmd->words.size()), rest.end()),
                   out, err};
    return cmd->run(inv);
  } catch (const SlurmFactoryError& e) {
    err << e.render() << "\n";
    return exit_status_for(e);  // 130 / 143 when a run was stopped by SIGINT / SIGTERM
  } catch (const std::exception& e) {
    err << "internal error: " << e.what()
        << "\n  what to do: rerun with -vv and report the output as a bug\n";
    return static_cast<int>(ExitCode::kInternal);
  }
}

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return run(args, std::cout, std::cerr);
}

}  // namespace sf::cli
