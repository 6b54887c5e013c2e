#include "cli/command.hpp"

#include <algorithm>
#include <boost/program_options/parsers.hpp>
#include <ostream>
#include <sstream>

#include "slurm_factory/errors.hpp"

namespace po = boost::program_options;

namespace sf::cli {

void CommandTable::add(Command command) { commands_.push_back(std::move(command)); }

const Command* CommandTable::match(const std::vector<std::string>& args) const {
  const Command* best = nullptr;
  for (const auto& c : commands_) {
    if (c.words.size() > args.size()) continue;
    if (!std::equal(c.words.begin(), c.words.end(), args.begin())) continue;
    if (best == nullptr || c.words.size() > best->words.size()) best = &c;
  }
  return best;
}

std::vector<const Command*> CommandTable::under(const std::vector<std::string>& prefix) const {
  std::vector<const Command*> found;
  for (const auto& c : commands_) {
    if (c.words.size() > prefix.size() &&
        std::equal(prefix.begin(), prefix.end(), c.words.begin())) {
      found.push_back(&c);
    }
  }
  return found;
}

std::string global_options_help() {
  return "Global options (accepted anywhere on the line):\n"
         "  -v [ --verbose ]        more detail (-vv for debug output)\n"
         "  -q [ --quiet ]          only warnings and errors\n"
         "  --json                  machine-readable output (list, show, plan commands)\n"
         "  --config FILE           extra config file, merged last (repeatable)\n"
         "  --profile NAME          select a named profile from the config\n"
         "                          (also SLURM_FACTORY_PROFILE)\n";
}

std::string command_help(const CommandSpec& spec, const po::options_description& options) {
  std::ostringstream out;
  out << "Usage: " << spec.usage << "\n\n" << spec.description << "\n\n";
  if (!options.options().empty()) out << options << "\n";
  out << global_options_help();
  if (!spec.examples.empty()) out << "\nExamples:\n" << spec.examples;
  return out.str();
}

std::optional<po::variables_map> parse_command(
    Invocation& inv, const CommandSpec& spec, const po::options_description& options,
    const po::positional_options_description& positional) {
  po::options_description all;
  all.add(options);
  all.add_options()("help,h", "show this help");
  po::variables_map vm;
  try {
    auto parsed = po::command_line_parser(inv.args).options(all).positional(positional).run();
    po::store(parsed, vm);
    if (vm.count("help") != 0U) {
      po::options_description shown("Options");
      for (const auto& o : options.options()) shown.add(o);
      shown.add_options()("help,h", "show this help");
      inv.out << command_help(spec, shown);
      return std::nullopt;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(
        e.what(), {{"command", spec.usage}},
        "run '" + spec.usage.substr(0, spec.usage.find(" [")) + " --help' for the valid options");
  }
  return vm;
}

}  // namespace sf::cli
