// sf::run_command (slurm_factory/command.hpp) over Boost.Process: both output streams are read
// asynchronously (no deadlock on a full pipe), the standard input is written from a buffer, and
// a command still running at the time limit is killed (exit code 124).
#include "slurm_factory/command.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/process.hpp>
#include <future>
#include <system_error>

namespace bp = boost::process;

namespace sf {

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::seconds time_limit) {
  CommandResult result;
  if (argv.empty()) {
    result.exit_code = 127;
    result.err = "no command given";
    return result;
  }
  boost::filesystem::path exe = argv.front();
  if (argv.front().find('/') == std::string::npos) exe = bp::search_path(argv.front());
  if (exe.empty() || !boost::filesystem::exists(exe)) {
    result.exit_code = 127;
    result.err = argv.front() + ": command not found (PATH=" +
                 (std::getenv("PATH") != nullptr ? std::string(std::getenv("PATH")) : "") + ")";
    return result;
  }
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  boost::asio::io_context io;
  std::future<std::string> out;
  std::future<std::string> err;
  try {
    bp::child child(exe, bp::args(args), bp::std_in<boost::asio::buffer(input), bp::std_out> out,
                    bp::std_err > err, io);
    io.run_for(time_limit);
    if (!io.stopped()) {
      std::error_code ec;
      child.terminate(ec);
      child.wait(ec);
      result.exit_code = 124;
      result.err =
          argv.front() + ": no answer within " + std::to_string(time_limit.count()) + " s; stopped";
      return result;
    }
    child.wait();
    result.exit_code = child.exit_code();
    result.out = out.get();
    result.err = err.get();
  } catch (const std::exception& e) {
    result.exit_code = 127;
    result.err = argv.front() + ": cannot run: " + e.what();
  }
  return result;
}

}  // namespace sf
