// The command table. Each command group lives in its own file under core/src/cli/ and adds its
// commands through an add_*_commands(CommandTable&) function listed in command_groups.hpp.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/variables_map.hpp>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "config/global_options.hpp"

namespace sf::cli {

using GlobalOptions = sf::GlobalOptions;

struct Invocation {
  GlobalOptions global;
  std::vector<std::string> words;  // the command words matched, e.g. {"cache", "list"}
  std::vector<std::string> args;   // everything after the command words
  std::ostream& out;
  std::ostream& err;
};

struct Command {
  std::vector<std::string> words;  // {"toolchains", "show"}
  std::string summary;             // one line for the command list
  std::function<int(Invocation&)> run;
};

class CommandTable {
 public:
  void add(Command command);
  // The command whose words are the longest prefix of `args`, or nullptr.
  const Command* match(const std::vector<std::string>& args) const;
  // Commands whose first words equal `prefix` (for "slurm-factory cache" with no subcommand).
  std::vector<const Command*> under(const std::vector<std::string>& prefix) const;
  const std::vector<Command>& all() const { return commands_; }

 private:
  std::vector<Command> commands_;
};

// Parses a command's own options. Prints help and returns nullopt on --help; throws UsageError
// (naming the bad option and pointing at --help) on bad input.
struct CommandSpec {
  std::string usage;        // "slurm-factory toolchains show NAME [options]"
  std::string description;  // what it does, a paragraph
  std::string examples;     // lines of examples
};
std::optional<boost::program_options::variables_map> parse_command(
    Invocation& inv, const CommandSpec& spec,
    const boost::program_options::options_description& options,
    const boost::program_options::positional_options_description& positional = {});

// The help text shared by every command: usage, description, options, global options, examples.
std::string command_help(const CommandSpec& spec,
                         const boost::program_options::options_description& options);
std::string global_options_help();

}  // namespace sf::cli
