// The slurm executor's command lines and its reading of Slurm's answers, apart from running them
// (so the unit tests check them without a cluster).
//
// Settings (a pipeline's `executor:` mapping, type slurm): partition, account, qos, time
// ("2:00:00", "1-00:00:00", minutes), cpus_per_cell, mem ("16G"), sbatch_options (a list of extra
// options, each one word starting with "--"), bin_dir (where sbatch, squeue, scontrol, sacct and
// scancel are; default: PATH). Values are checked here, before any command runs: each becomes one
// argv word (no shell), and a value that is not what Slurm expects is refused with the setting's
// name, so the core points at its file:line.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "slurm_factory/executor.hpp"

namespace sf::slurm {

struct Settings {
  std::string partition;
  std::string account;
  std::string qos;
  std::string time;
  int cpus_per_cell = 0;  // 0: Slurm's default
  std::string mem;
  std::vector<std::string> sbatch_options;
  std::string bin_dir;  // "" = PATH
};

// Every key Settings reads.
const std::vector<std::string>& setting_keys();

// Throws ConfigurationError (context "setting") for a value of the wrong type or form.
Settings parse_settings(const nlohmann::json& settings);

// `tool` ("sbatch") under bin_dir, or the bare name (looked up on PATH).
std::string tool(const Settings& s, const std::string& name);

// sbatch --parsable ... SCRIPT
std::vector<std::string> sbatch_argv(const Settings& s, const ExecutorJob& job);

// The job id of `sbatch --parsable`'s answer ("42" or "42;cluster"); nullopt unless digits
// (an array task "42_3" is not something we submit).
std::optional<std::string> parse_sbatch_id(const std::string& out);

// The format asked of squeue and what it answers: "%i|%T|%M|%r|%N" -> id, state, elapsed,
// reason, nodes.
std::vector<std::string> squeue_argv(const Settings& s, const std::vector<std::string>& ids);
std::vector<JobStatus> parse_squeue(const std::string& out);

// scontrol show job -o ID: one line of KEY=VALUE words.
std::vector<std::string> scontrol_argv(const Settings& s, const std::string& id);
std::optional<JobStatus> parse_scontrol(const std::string& out);

// sacct -X -n -P -o JobIDRaw,State,ExitCode,ElapsedRaw,NodeList,Reason -j IDS
std::vector<std::string> sacct_argv(const Settings& s, const std::vector<std::string>& ids);
std::vector<JobStatus> parse_sacct(const std::string& out);

// "RUNNING", "CANCELLED by 0", "OUT_OF_MEMORY" -> JobState.
JobState state_of(const std::string& slurm_state);
// "1-02:03:04", "02:03:04", "03:04", "3" -> seconds; -1 when unreadable.
double parse_elapsed(const std::string& text);
// "3:0" -> {3, 0}
std::pair<int, int> parse_exit_code(const std::string& text);

}  // namespace sf::slurm
