// Executors (ABI 2.1): where the cells of a pipeline run when not in this process.
//
// `slurm-factory run NAME` plans every cell first. With the built-in `local` executor the cells
// are built by this process, on this host. With any other executor the core writes, for each cell
// with work, a small POSIX shell script that runs `slurm-factory run NAME --cell ID` with the same
// config files, and hands it to the executor as an ExecutorJob: the executor submits it to its
// scheduler (Slurm, and later Kubernetes Jobs, HTCondor, ...), reports its state when asked and
// cancels it on request. Everything else stays in the core: which cell waits for which (after_ok),
// the live table, the report, and the verification of every artifact a job produced (nothing is
// trusted because it came back from a node).
//
// An executor is registered with Registry::add_executor with the settings keys it understands
// (ExecutorInfo); the core refuses any other key of the pipeline's `executor:` mapping at its
// file:line:col. Executors are called from one thread.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace sf {

struct ExecutorJob {
  std::string name;                // the job's name: "sf-<pipeline>-<cell>"
  std::string cell;                // the cell id ("24.11.5-trixie-cpu")
  std::filesystem::path script;    // a /bin/sh script, written by the core, that runs the cell
  std::filesystem::path log_file;  // the job's stdout and stderr go here
  std::filesystem::path workdir;   // the job's working directory
  // Ids (from submit) of jobs that must have succeeded before this one starts; a job whose
  // dependency failed never starts and the executor reports it as failed (or cancelled).
  std::vector<std::string> after_ok;
};

enum class JobState {
  kPending,    // queued, held, or waiting for a dependency
  kRunning,    // running, or completing
  kCompleted,  // ended with exit code 0
  kFailed,     // ended with a non-zero exit code, or could never start
  kCancelled,  // cancelled (by us or an admin)
  kTimeout,    // killed at its time limit
  kNodeFail,   // its node failed, or it was preempted / requeued away
  kOutOfMemory,
  kUnknown,  // the scheduler does not know the id (any more)
};

// "pending", "running", "completed", "failed", "cancelled", "timeout", "node_fail",
// "out_of_memory", "unknown".
inline const char* to_string(JobState s) {
  switch (s) {
    case JobState::kPending:
      return "pending";
    case JobState::kRunning:
      return "running";
    case JobState::kCompleted:
      return "completed";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
    case JobState::kTimeout:
      return "timeout";
    case JobState::kNodeFail:
      return "node_fail";
    case JobState::kOutOfMemory:
      return "out_of_memory";
    case JobState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

// True once the job will not run (any more).
inline bool job_ended(JobState s) {
  return s != JobState::kPending && s != JobState::kRunning && s != JobState::kUnknown;
}

struct JobStatus {
  std::string id;
  JobState state = JobState::kUnknown;
  std::string scheduler_state;  // the scheduler's own word: "TIMEOUT", "NODE_FAIL", "PENDING"
  int exit_code = -1;           // once ended: the job script's exit code (-1: not known)
  int signal = 0;               // once ended: the signal that killed it (0: none)
  double elapsed_seconds = 0;   // how long it has run
  std::string reason;           // why it waits or ended ("Dependency", "DependencyNeverSatisfied")
  std::string node;             // where it runs or ran
};

// What an executor type declares besides its factory.
struct ExecutorInfo {
  std::string description;            // one line, for `plugins list`
  std::vector<std::string> settings;  // every key its settings may hold
};

class Executor {
 public:
  virtual ~Executor();
  virtual std::string name() const = 0;
  // Submits the job; returns its id. Throws a SlurmFactoryError naming the command, its output
  // and what to do when the scheduler refuses it.
  virtual std::string submit(const ExecutorJob& job) = 0;
  // The state of each id, in the order given (an id the scheduler no longer knows: kUnknown).
  // Throws when the scheduler cannot be asked at all.
  virtual std::vector<JobStatus> status(const std::vector<std::string>& ids) = 0;
  // Cancels the jobs; never throws for a job that has already ended. Returns what could not be
  // cancelled (empty when all were), one line each.
  virtual std::vector<std::string> cancel(const std::vector<std::string>& ids) = 0;
  // Where to read more about a job, for error messages ("sacct -j 42 -o ...").
  virtual std::string how_to_inspect(const std::string& id) const = 0;
};

using ExecutorFactory = std::function<std::unique_ptr<Executor>(const nlohmann::json& settings)>;

}  // namespace sf
