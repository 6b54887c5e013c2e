// The "slurm" executor (executor.hpp): each cell a job of the Slurm cluster this host submits to.
// submit: sbatch --parsable; status: squeue for the jobs it still holds, scontrol for those that
// ended but are still in the controller's memory, sacct for older ones; cancel: scancel.
// Commands run without a shell, each value one argv word (slurm_commands.hpp).
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "slurm_commands.hpp"
#include "slurm_factory/command.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/executor.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace {

using sf::JobState;
using sf::JobStatus;

std::string first_lines(const std::string& text) {
  std::string t = text.substr(0, 600);
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

class SlurmExecutor final : public sf::Executor {
 public:
  explicit SlurmExecutor(const nlohmann::json& settings)
      : settings_(sf::slurm::parse_settings(settings)) {}

  std::string name() const override { return "slurm"; }

  std::string submit(const sf::ExecutorJob& job) override {
    if (job.log_file.string().find('%') != std::string::npos) {
      // sbatch reads %j, %x, ... in --output as a pattern: the log would land elsewhere.
      throw sf::UsageError("cannot submit cell " + job.cell + ": the log path " +
                               job.log_file.string() +
                               " holds '%', which sbatch reads as a "
                               "file name pattern",
                           {{"cell", job.cell}, {"log", job.log_file.string()}},
                           "give --output (or the pipeline's output) a folder without '%'");
    }
    const auto argv = sf::slurm::sbatch_argv(settings_, job);
    const sf::CommandResult r = sf::run_command(argv);
    if (r.exit_code == 127) {
      throw sf::UsageError("cannot submit cell " + job.cell + ": " + first_lines(r.err),
                           {{"cell", job.cell}},
                           "run slurm-factory on a host with the Slurm client commands on PATH "
                           "(or set bin_dir in the pipeline's executor settings)");
    }
    const auto id = sf::slurm::parse_sbatch_id(r.out);
    if (!r.ok() || !id) {
      throw sf::BuildError("sbatch refused the job of cell " + job.cell + " (exit " +
                               std::to_string(r.exit_code) +
                               "): " + first_lines(r.err.empty() ? r.out : r.err),
                           {{"cell", job.cell}, {"script", job.script.string()}},
                           "check the pipeline's executor settings (partition, account, qos, "
                           "time) against `sinfo` and `sacctmgr show assoc user=$USER`");
    }
    return *id;
  }

  std::vector<JobStatus> status(const std::vector<std::string>& ids) override {
    std::map<std::string, JobStatus> found;
    const sf::CommandResult q = sf::run_command(sf::slurm::squeue_argv(settings_, ids));
    if (q.exit_code == 127 || q.exit_code == 124) {
      throw sf::BuildError("cannot ask Slurm for the jobs' states: " + first_lines(q.err), {},
                           "check that slurmctld answers (`squeue`) from this host");
    }
    if (q.ok()) {
      for (auto& s : sf::slurm::parse_squeue(q.out)) found[s.id] = std::move(s);
    }
    // Ended (or unknown to squeue): the exit code comes from scontrol while the controller still
    // holds the job, else from the accounting database.
    std::vector<std::string> older;
    for (const auto& id : ids) {
      auto it = found.find(id);
      if (it != found.end() && !sf::job_ended(it->second.state)) continue;
      const sf::CommandResult c = sf::run_command(sf::slurm::scontrol_argv(settings_, id));
      auto s = c.ok() ? sf::slurm::parse_scontrol(c.out) : std::nullopt;
      if (s && s->id == id) {
        found[id] = std::move(*s);
      } else {
        older.push_back(id);
      }
    }
    if (!older.empty()) {
      const sf::CommandResult a = sf::run_command(sf::slurm::sacct_argv(settings_, older));
      if (a.ok()) {
        for (auto& s : sf::slurm::parse_sacct(a.out)) found[s.id] = std::move(s);
      }
    }
    std::vector<JobStatus> out;
    for (const auto& id : ids) {
      auto it = found.find(id);
      if (it != found.end()) {
        out.push_back(it->second);
      } else {
        JobStatus s;
        s.id = id;
        out.push_back(s);
      }
    }
    return out;
  }

  std::vector<std::string> cancel(const std::vector<std::string>& ids) override {
    if (ids.empty()) return {};
    std::vector<std::string> argv{sf::slurm::tool(settings_, "scancel")};
    argv.insert(argv.end(), ids.begin(), ids.end());
    const sf::CommandResult r = sf::run_command(argv);
    if (r.ok()) return {};
    std::vector<std::string> left;
    // scancel says so for each job it could not cancel; a job that already ended is no failure.
    std::size_t start = 0;
    const std::string& err = r.err;
    while (start < err.size()) {
      const std::size_t end = std::min(err.find('\n', start), err.size());
      const std::string line = err.substr(start, end - start);
      start = end + 1;
      if (line.empty() || line.find("already completing or completed") != std::string::npos ||
          line.find("Invalid job id") != std::string::npos) {
        continue;
      }
      left.push_back(line.substr(0, 300));
    }
    if (r.exit_code == 127 || r.exit_code == 124) left.push_back(first_lines(r.err));
    return left;
  }

  std::string how_to_inspect(const std::string& id) const override {
    return "sacct -j " + id +
           " -o JobID,State,ExitCode,Elapsed,NodeList,Reason; scontrol show job " + id;
  }

 private:
  sf::slurm::Settings settings_;
};

void register_slurm(sf::Registry& registry) {
  registry.add_executor(
      "slurm",
      [](const nlohmann::json& settings) { return std::make_unique<SlurmExecutor>(settings); },
      {"one Slurm job per cell (sbatch; squeue, scontrol, sacct; scancel)",
       sf::slurm::setting_keys()});
}

}  // namespace

SLURM_FACTORY_PLUGIN("executor-slurm", "1.0.0", "Runs a pipeline's cells as Slurm jobs",
                     register_slurm)
