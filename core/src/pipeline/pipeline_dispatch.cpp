#include "pipeline/pipeline_dispatch.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "app/app.hpp"
#include "artifact/artifact_verifier.hpp"
#include "cache/cache_chain_factory.hpp"
#include "pipeline/pipeline_run.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/shell_quote.hpp"
#include "support/file_io.hpp"
#include "support/input_validation.hpp"
#include "support/interrupt_guard.hpp"
#include "support/text_table.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxReportBytes = 4U << 20U;  // a cell's report is a few KiB
constexpr double kStatusPatienceSeconds = 120;      // a scheduler that does not answer

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string seconds_text(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  const auto total = static_cast<long long>(s);
  return fmt::format("{}m{:02}s", total / 60, total % 60);
}

// The job of one cell, as this run follows it.
struct CellJob {
  std::size_t cell = 0;
  std::string id;                 // the executor's job id ("" = not submitted)
  std::vector<std::size_t> wait;  // cells whose jobs it waits for (after_ok)
  JobStatus status;
  bool collected = false;  // its result is in the report
  fs::path script;
  fs::path log;
  fs::path report;
};

std::string job_line(const CellJob& j) {
  std::string s = "job " + j.id + " " + to_string(j.status.state);
  if (!j.status.scheduler_state.empty()) s += " (" + printable(j.status.scheduler_state) + ")";
  return s;
}

// A string field of `j`, "" unless it is a string; printable and at most `max` characters.
std::string text_field(const nlohmann::json& j, const char* key, std::size_t max = 4000) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  std::string v = j[key].get<std::string>();
  if (v.size() > max) v = v.substr(0, max) + "...";
  // Keep newlines (messages have several lines), nothing else below 0x20.
  std::string out;
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 && c != '\n') || u == 0x7f ? '?' : c;
  }
  return out;
}

std::size_t count_field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_unsigned()) return 0;
  return std::min<std::size_t>(j[key].get<std::size_t>(), 100000);
}

bool inside(const fs::path& file, const fs::path& dir) {
  const fs::path f = file.lexically_normal();
  const fs::path d = dir.lexically_normal();
  auto fi = f.begin();
  for (auto di = d.begin(); di != d.end(); ++di, ++fi) {
    if (di->empty()) continue;  // a trailing "/"
    if (fi == f.end() || *fi != *di) return false;
  }
  return fi != f.end();
}

// What a running cell's log says it is doing: the message of its last complete JSON event line
// ("slurm 24.11.5: make (12 s)"), printable, or "".
std::string last_event(const fs::path& log) {
  std::ifstream in(log, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 4096);
  in.seekg(from);
  std::string tail(static_cast<std::size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  tail.resize(static_cast<std::size_t>(in.gcount()));
  std::size_t end = tail.rfind('\n');
  while (end != std::string::npos && end > 0) {
    const std::size_t begin = tail.rfind('\n', end - 1);
    const std::string line = tail.substr(begin == std::string::npos ? 0 : begin + 1,
                                         end - (begin == std::string::npos ? 0 : begin + 1));
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      return printable(j.value("event", std::string()) + ": " + j["message"].get<std::string>());
    }
    if (begin == std::string::npos) break;
    end = begin;
  }
  return {};
}

void fail_result(CellResult& r, std::string stage, std::string kind, std::string message,
                 nlohmann::json context, std::string remediation, int exit_code) {
  r.result = "failed";
  r.stage = std::move(stage);
  r.error_kind = std::move(kind);
  r.error = std::move(message);
  r.error_context = std::move(context);
  r.remediation = std::move(remediation);
  r.exit_code = exit_code;
}

// The valid signed artifact of this very plan in the cell's output folder, as a local run finds it
// (stage_existing_artifact); nullopt when there is none, or when the cell publishes (its job does
// that, the artifact existing or not).
std::optional<fs::path> existing_artifact(App& app, const BuildRequest& request) {
  if (request.publish != PublishPolicy::kNone || request.no_cache) return std::nullopt;
  const PipelineEventSink none;
  PipelineRun run(app, request, none, nullptr);
  stage_plan(run);
  prepare_artifact(run);
  if (!stage_existing_artifact(run)) return std::nullopt;
  return run.result.artifact;
}

// --verify on a cell that needs no job: verify --deep here, as its job would have.
void verify_existing(CellResult& r, const GpgTrust& trust) {
  VerifyOptions vo;
  vo.deep = true;
  vo.trust = trust;
  const VerifyReport v = verify_artifact(r.artifact, vo);
  if (v.ok()) return;
  std::string what;
  for (const auto& p : v.problems) what += (what.empty() ? "" : "; ") + p.file + ": " + p.problem;
  fail_result(r, "verify", "verification error",
              "verify --deep of the existing artifact of cell " + r.cell.id + " failed: " + what,
              {{"artifact", r.artifact.string()}}, "remove it and run again to rebuild it",
              static_cast<int>(ExitCode::kVerification));
}

}  // namespace

std::vector<std::vector<std::size_t>> cell_dependencies(const PipelinePlan& plan,
                                                        bool shared_cache_dir) {
  std::vector<std::vector<std::size_t>> out(plan.cells.size());
  if (shared_cache_dir) return out;
  std::map<std::string, std::size_t> builder;  // package hash -> the first cell that builds it
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    const CellPlan& c = plan.cells[i];
    if (!c.error.empty()) continue;
    std::set<std::size_t> wait;
    for (const auto& h : c.to_build_hashes) {
      auto [it, first] = builder.emplace(h, i);
      if (!first && it->second != i) wait.insert(it->second);
    }
    out[i].assign(wait.begin(), wait.end());
  }
  return out;
}

namespace {

// The packages cell `i` waits for: those of its to_build that an earlier cell builds first.
std::vector<std::string> shared_packages(const PipelinePlan& plan, std::size_t i) {
  std::set<std::string> earlier;
  for (std::size_t k = 0; k < i; ++k) {
    if (plan.cells[k].error.empty()) {
      earlier.insert(plan.cells[k].to_build_hashes.begin(), plan.cells[k].to_build_hashes.end());
    }
  }
  std::vector<std::string> names;
  const CellPlan& c = plan.cells[i];
  for (std::size_t p = 0; p < c.to_build_hashes.size() && p < c.to_build.size(); ++p) {
    if (earlier.count(c.to_build_hashes[p]) != 0U) names.push_back(c.to_build[p]);
  }
  return names;
}

}  // namespace

nlohmann::json job_order_json(const PipelinePlan& plan, const PipelineExecutor& executor) {
  const auto deps = cell_dependencies(plan, executor.shared_cache_dir);
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    if (!plan.cells[i].error.empty()) continue;
    nlohmann::json after = nlohmann::json::array();
    for (std::size_t d : deps[i]) after.push_back(plan.cells[d].cell.id);
    out.push_back({{"cell", plan.cells[i].cell.id},
                   {"job_name", "sf-" + plan.pipeline.name + "-" + plan.cells[i].cell.id},
                   {"after", after},
                   {"waits_for", shared_packages(plan, i)}});
  }
  return out;
}

std::string format_job_order(const PipelinePlan& plan, const PipelineExecutor& executor) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : job_order_json(plan, executor)) {
    std::string when = "starts at once";
    std::string after;
    for (const auto& a : j["after"]) after += (after.empty() ? "" : ", ") + a.get<std::string>();
    std::string pkgs;
    for (const auto& p : j["waits_for"]) pkgs += (pkgs.empty() ? "" : " ") + p.get<std::string>();
    if (!after.empty()) {
      when = "after " + after + " (afterok: it builds " + pkgs + ")";
    } else if (!pkgs.empty()) {
      when = "starts at once; waits on the cache lock for " + pkgs;
    }
    rows.push_back({j["cell"].get<std::string>(), j["job_name"].get<std::string>(), when});
  }
  std::string out;
  for (const auto& line : cli::format_table({"CELL", "JOB NAME", "STARTS"}, rows))
    out += line + "\n";
  out += "executor " + executor.type + ": one job per cell" +
         (executor.shared_cache_dir ? " (shared_cache_dir: the build lock orders shared packages)"
                                    : "") +
         "\n";
  return out;
}

std::string cell_job_script(const std::vector<std::string>& argv, const std::string& comment) {
  std::string c;
  for (const char ch : comment) c += (ch == '\n' || ch == '\r') ? ' ' : ch;
  return "#!/bin/sh\n# " + c + "\nexec " + shell_join(argv) + "\n";
}

CellResult cell_result_from_report(const std::string& report_text, const PipelineCell& cell,
                                   const fs::path& cell_output) {
  CellResult r;
  r.cell = cell;
  const auto bad = [&](const std::string& why) {
    fail_result(r, "report", "job error", "the report of cell " + cell.id + " " + why,
                nlohmann::json::object(),
                "read the job's log; the cell's job must run the same slurm-factory", 1);
    return r;
  };
  if (report_text.empty()) return bad("is missing or empty");
  if (report_text.size() > kMaxReportBytes) return bad("is larger than 4 MiB");
  const nlohmann::json j = nlohmann::json::parse(report_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("is not JSON");
  if (!j.contains("cells") || !j["cells"].is_array() || j["cells"].size() != 1U)
    return bad("does not hold exactly one cell");
  const nlohmann::json& c = j["cells"][0];
  if (text_field(c, "cell", 200) != cell.id) return bad("names another cell");
  const std::string result = text_field(c, "result", 20);
  if (result != "ok" && result != "failed" && result != "skipped")
    return bad("has no valid result");
  r.result = result;
  r.existed = c.value("existed", false) == true;
  if (c.contains("seconds") && c["seconds"].is_number())
    r.seconds = std::clamp(c["seconds"].get<double>(), 0.0, 1e7);
  r.built = count_field(c, "built");
  r.cached = count_field(c, "cached");
  r.reused = count_field(c, "reused_from_other_cells");
  if (c.contains("hits") && c["hits"].is_object()) {
    for (const auto& [layer, n] : c["hits"].items()) {
      if (n.is_number_unsigned() && input_problem(InputKind::kName, layer).empty())
        r.hits[layer] = std::min<std::size_t>(n.get<std::size_t>(), 100000);
    }
  }
  if (const std::string logs = text_field(c, "logs"); !logs.empty()) r.log_dir = logs;
  if (result == "failed" && c.contains("error") && c["error"].is_object()) {
    const nlohmann::json& e = c["error"];
    nlohmann::json context = nlohmann::json::object();
    if (e.contains("context") && e["context"].is_object()) {
      for (const auto& [k, v] : e["context"].items()) {
        if (v.is_string() && k.size() <= 64)
          context[printable(k)] = text_field(e["context"], k.c_str());
      }
    }
    int code = 1;
    if (e.contains("exit_code") && e["exit_code"].is_number_integer())
      code = std::clamp(e["exit_code"].get<int>(), 1, 125);
    fail_result(r, text_field(e, "stage", 40), text_field(e, "kind", 60), text_field(e, "message"),
                context, text_field(e, "remediation"), code);
  }
  if (result == "ok") {
    const std::string artifact = text_field(c, "artifact");
    if (artifact.empty()) return bad("names no artifact");
    if (!inside(artifact, cell_output)) {
      return bad("names an artifact outside the cell's folder " + cell_output.string() + " (" +
                 printable(artifact) + "); refused");
    }
    r.artifact = fs::path(artifact).lexically_normal();
  }
  return r;
}

PipelineRunReport dispatch_pipeline(App& app, const PipelinePlan& plan,
                                    const PipelineRunOptions& options, Executor& executor,
                                    const DispatchOptions& dispatch) {
  const auto started = Clock::now();
  const PipelineDefinition& pipeline = plan.pipeline;
  const bool keep_going = options.keep_going.value_or(pipeline.keep_going);
  PipelineRunReport report;
  report.pipeline = pipeline.name;
  report.executor = executor.name();
  report.cells.resize(plan.cells.size());
  auto note = [&](const std::string& cell, const std::string& kind, const std::string& message,
                  nlohmann::json data = nlohmann::json::object()) {
    if (options.events)
      options.events(cell, make_pipeline_event("cell", kind, message, started, std::move(data)));
  };

  bool stop = false;
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    CellResult& r = report.cells[i];
    r.cell = plan.cells[i].cell;
    if (!plan.cells[i].error.empty()) {
      fail_result(r, "plan", plan.cells[i].error_kind, plan.cells[i].error,
                  nlohmann::json::object(), "", plan.cells[i].exit_code);
      stop = stop || !keep_going;
    }
  }
  if (stop) {
    report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return report;
  }

  // The signing key, made here on first use when none is configured: jobs that share this host's
  // cache_dir must not race to make it, and the artifacts are checked against it below.
  { CacheChainSetup warm = make_cache_chain(app, CacheChainRequest{}); }
  const GpgTrust trust = config_trust(app.config());

  // Absolute: the jobs run in the jobs folder, on other machines.
  std::error_code ec;
  const fs::path root = fs::absolute(plan.cells.empty() || !plan.cells.front().request.output
                                         ? fs::path(".")
                                         : plan.cells.front().request.output->parent_path(),
                                     ec)
                            .lexically_normal();
  const fs::path jobs_dir = root / "jobs";
  fs::create_directories(jobs_dir, ec);
  if (ec) {
    throw UsageError("cannot make the jobs folder " + jobs_dir.string() + ": " + ec.message(),
                     {{"folder", jobs_dir.string()}},
                     "give --output a folder the build nodes and this host can write");
  }

  const auto deps = cell_dependencies(plan, dispatch.executor.shared_cache_dir);
  std::vector<CellJob> jobs;
  std::map<std::size_t, std::size_t> job_of;  // cell -> index in jobs
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    if (!plan.cells[i].error.empty()) continue;
    if (auto existing = existing_artifact(app, plan.cells[i].request)) {
      // Nothing to do on a node: the artifact of this very plan is here, signed and valid.
      CellResult& r = report.cells[i];
      r.result = "ok";
      r.existed = true;
      r.artifact = *existing;
      if (plan.cells[i].request.verify) verify_existing(r, trust);
      note(r.cell.id, r.result == "ok" ? "done" : "failed",
           "cell " + r.cell.id +
               (r.result == "ok" ? ": no job, its artifact exists: "
                                 : ": its artifact exists but ") +
               (r.result == "ok" ? r.artifact.string() : first_line(r.error)),
           {{"artifact", r.artifact.string()}, {"existed", true}});
      stop = stop || (r.result != "ok" && !keep_going);
      continue;
    }
    CellJob j;
    j.cell = i;
    j.wait = deps[i];
    const std::string id = plan.cells[i].cell.id;
    j.script = jobs_dir / (id + ".sh");
    j.log = jobs_dir / (id + ".log");
    j.report = jobs_dir / (id + ".report.json");
    job_of[i] = jobs.size();
    jobs.push_back(std::move(j));
  }

  auto submit = [&](CellJob& j) {
    const CellPlan& c = plan.cells[j.cell];
    std::vector<std::string> argv = dispatch.command;
    argv.insert(argv.end(),
                {"--json", "run", pipeline.name, "--cell", c.cell.id, "--executor", kLocalExecutor,
                 "--output", root.string(), "--report", j.report.string()});
    if (!c.request.backend.empty()) argv.insert(argv.end(), {"--backend", c.request.backend});
    if (c.request.verify) argv.emplace_back("--verify");
    fs::remove(j.report, ec);
    fs::remove(j.log, ec);
    const std::string script =
        cell_job_script(argv, "slurm-factory: cell " + c.cell.id + " of pipeline " + pipeline.name);
    if (const std::string e = write_file_atomically(j.script, script); !e.empty()) {
      throw UsageError("cannot write the job script " + j.script.string() + ": " + e,
                       {{"file", j.script.string()}}, "check the --output folder");
    }
    if (::chmod(j.script.c_str(), 0755) != 0) {  // sbatch reads it; `sh` by hand needs no bit
      throw UsageError("cannot make the job script " + j.script.string() +
                           " executable: " + std::strerror(errno),
                       {{"file", j.script.string()}}, "check the --output folder's permissions");
    }
    ExecutorJob job;
    job.name = "sf-" + pipeline.name + "-" + c.cell.id;
    job.cell = c.cell.id;
    job.script = j.script;
    job.log_file = j.log;
    job.workdir = jobs_dir;
    std::vector<std::string> after;
    for (std::size_t w : j.wait) {
      const CellJob& other = jobs[job_of.at(w)];
      if (!other.id.empty() && other.status.state != JobState::kCompleted)
        after.push_back(other.id);
    }
    job.after_ok = after;
    j.id = executor.submit(job);
    j.status = JobStatus{};
    j.status.id = j.id;
    j.status.state = JobState::kPending;
    j.collected = false;
    note(c.cell.id, "submitted",
         "cell " + c.cell.id + ": " + executor.name() + " job " + j.id +
             (after.empty() ? std::string()
                            : " (after " + fmt::format("{}", fmt::join(after, ", ")) + ")"),
         {{"job_id", j.id}, {"after", after}, {"log", j.log.string()}});
  };

  if (stop) {  // an existing artifact failed --verify: like a failed cell, nothing else starts
    report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return report;
  }
  InterruptGuard guard;
  try {
    for (auto& j : jobs) submit(j);
  } catch (...) {
    // A job the scheduler refused stops the run before it starts: nobody would follow the jobs
    // already submitted, so they are cancelled.
    std::vector<std::string> submitted;
    for (const auto& j : jobs) {
      if (!j.id.empty()) submitted.push_back(j.id);
    }
    (void)executor.cancel(submitted);
    throw;
  }

  auto verify_cell = [&](CellResult& r) {
    VerifyOptions vo;
    vo.trust = trust;
    VerifyReport v;
    std::error_code sec;
    if (fs::symlink_status(r.artifact, sec).type() != fs::file_type::regular) {
      // A link would let the node name a file outside the cell's folder after all.
      v.problems.push_back({r.artifact.filename().string(), "is not a regular file (a link?)"});
    } else {
      try {
        v = verify_artifact(r.artifact, vo);
      } catch (const SlurmFactoryError& e) {
        v.problems.push_back({r.artifact.filename().string(), e.what()});
      }
    }
    if (v.ok()) return;
    std::string what;
    for (const auto& p : v.problems) what += (what.empty() ? "" : "; ") + p.file + ": " + p.problem;
    fail_result(r, "verify", "verification error",
                "the artifact of cell " + r.cell.id + " did not verify here: " + what,
                {{"artifact", r.artifact.string()}},
                "the job must sign with a key this host trusts (signing.private_key_file or a "
                "keyring shared by the build nodes; docs/pipelines.md)",
                static_cast<int>(ExitCode::kVerification));
  };

  auto collect = [&](CellJob& j) {
    const CellPlan& c = plan.cells[j.cell];
    CellResult& r = report.cells[j.cell];
    const fs::path cell_output = root / c.cell.id;
    // Only a regular file, never followed through a link a node put there.
    const bool regular = fs::symlink_status(j.report, ec).type() == fs::file_type::regular;
    const std::string text = regular && fs::file_size(j.report, ec) <= kMaxReportBytes && !ec
                                 ? read_file(j.report)
                                 : std::string();
    CellResult got = cell_result_from_report(text, c.cell, cell_output);
    const bool completed = j.status.state == JobState::kCompleted;
    const bool killed = !completed && j.status.state != JobState::kFailed;
    if (killed || (!completed && got.result != "failed")) {
      // The scheduler ended the job (time limit, node failure, memory, cancelled): that is the
      // cause, whatever the cell managed to write before it was killed.
      const std::string said = got.result == "failed" && got.stage != "report"
                                   ? "; the cell said: " + first_line(got.error)
                                   : std::string();
      fail_result(
          got, "job", "job error",
          "the " + executor.name() + " job " + j.id + " of cell " + c.cell.id + " ended " +
              to_string(j.status.state) +
              (j.status.reason.empty() ? std::string() : " (" + printable(j.status.reason) + ")") +
              said,
          nlohmann::json::object(),
          "read the job's log " + j.log.string() + "; " + executor.how_to_inspect(j.id) +
              (j.status.state == JobState::kTimeout
                   ? "; raise the executor's time setting in the pipeline"
                   : ""),
          static_cast<int>(ExitCode::kBuild));
    }
    if (completed && got.result == "ok") verify_cell(got);
    got.job_id = j.id;
    got.job_state = j.status.scheduler_state.empty() ? to_string(j.status.state)
                                                     : printable(j.status.scheduler_state);
    got.job_log = j.log;
    if (got.result == "failed") {
      got.error_context["job"] = j.id;
      got.error_context["job state"] = got.job_state;
      got.error_context["job log"] = j.log.string();
    }
    if (got.seconds == 0) got.seconds = j.status.elapsed_seconds;
    r = std::move(got);
    j.collected = true;
    if (r.result == "failed") {
      note(c.cell.id, "failed",
           "cell " + c.cell.id + " failed (" + job_line(j) + ") at " + r.stage + ": " +
               first_line(r.error) + "; log " + j.log.string(),
           {{"job_id", j.id}, {"stage", r.stage}, {"error", r.error}, {"log", j.log.string()}});
      if (!keep_going) stop = true;
    } else {
      note(c.cell.id, "done",
           "cell " + c.cell.id + " done in " + seconds_text(r.seconds) + " (job " + j.id +
               "), verified: " + r.artifact.string(),
           {{"job_id", j.id},
            {"artifact", r.artifact.string()},
            {"built", r.built},
            {"cached", r.cached},
            {"seconds", r.seconds}});
    }
  };

  std::size_t drawn = 0;
  auto draw = [&] {
    if (dispatch.table == nullptr) return;
    std::vector<std::vector<std::string>> rows;
    for (const auto& j : jobs) {
      const CellResult& r = report.cells[j.cell];
      std::string state = j.collected ? r.result : to_string(j.status.state);
      std::string note_text = j.status.reason.empty() ? "" : printable(j.status.reason);
      if (j.collected && r.result == "failed") note_text = r.stage + ": " + first_line(r.error);
      if (j.collected && r.result == "ok") note_text = r.artifact.filename().string();
      if (!j.collected && j.status.state == JobState::kRunning) note_text = last_event(j.log);
      rows.push_back({plan.cells[j.cell].cell.id, j.id.empty() ? "-" : j.id, state,
                      seconds_text(j.status.elapsed_seconds),
                      j.status.node.empty() ? "-" : printable(j.status.node),
                      note_text.substr(0, 100)});
    }
    std::string out;
    if (drawn > 0) out += fmt::format("\x1b[{}F\x1b[J", drawn);
    const auto lines = cli::format_table({"CELL", "JOB", "STATE", "ELAPSED", "NODE", "NOTE"}, rows);
    for (const auto& l : lines) out += l + "\n";
    drawn = lines.size();
    *dispatch.table << out << std::flush;
  };

  int unanswered = 0;  // polls in a row the scheduler did not answer
  const auto poll =
      std::chrono::milliseconds(static_cast<long long>(dispatch.executor.poll_seconds * 1000));
  for (;;) {
    std::vector<std::string> active;
    for (const auto& j : jobs) {
      if (!j.id.empty() && !j.collected) active.push_back(j.id);
    }
    if (active.empty()) break;
    // Wait, in short steps so that Ctrl-C is answered at once.
    for (auto waited = std::chrono::milliseconds(0); waited < poll && !interrupt_requested();
         waited += std::chrono::milliseconds(100)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (interrupt_requested()) {
      const int sig = interrupt_signal();
      const auto left = executor.cancel(active);
      // Until the scheduler says they ended (a job takes a moment to leave its node).
      for (int round = 0; round < 60 && left.empty(); ++round) {
        bool all_ended = true;
        try {
          for (const auto& s : executor.status(active)) {
            all_ended = all_ended && (job_ended(s.state) || s.state == JobState::kUnknown);
          }
        } catch (const SlurmFactoryError&) {
          break;
        }
        if (all_ended) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      for (auto& j : jobs) {
        if (j.id.empty() || j.collected) continue;
        CellResult& r = report.cells[j.cell];
        fail_result(r, "job", "interrupted",
                    "cancelled (job " + j.id + ") by " + (sig == SIGTERM ? "SIGTERM" : "SIGINT"),
                    {{"job", j.id}, {"job log", j.log.string()}}, "", 128 + sig);
        r.job_id = j.id;
        r.job_state = "CANCELLED";
        r.job_log = j.log;
      }
      report.signal = sig;
      report.interruption = "interrupted: cancelled the " + executor.name() + " jobs of pipeline " +
                            pipeline.name + " (" + fmt::format("{}", fmt::join(active, ", ")) + ")";
      if (!left.empty()) {
        report.interruption += "; could not cancel: " + fmt::format("{}", fmt::join(left, "; ")) +
                               " (cancel them by hand)";
      }
      break;
    }
    std::vector<JobStatus> states;
    try {
      states = executor.status(active);
      unanswered = 0;
    } catch (const SlurmFactoryError& e) {
      // The controller may be restarting: the jobs run on; give up only after a while.
      if (++unanswered * dispatch.executor.poll_seconds < kStatusPatienceSeconds) continue;
      throw SlurmFactoryError(
          std::string("lost track of the jobs of pipeline ") + pipeline.name + ": " + e.what(),
          {{"jobs", fmt::format("{}", fmt::join(active, ", "))}},
          "the jobs were not cancelled; follow them with " +
              executor.how_to_inspect(active.front()) + ", their logs are in " + jobs_dir.string());
    }
    for (const auto& s : states) {
      auto it = std::find_if(jobs.begin(), jobs.end(),
                             [&](const CellJob& j) { return j.id == s.id && !j.collected; });
      if (it == jobs.end()) continue;
      const JobState before = it->status.state;
      it->status = s;
      if (s.state == JobState::kRunning && before != JobState::kRunning) {
        note(plan.cells[it->cell].cell.id, "start",
             "cell " + plan.cells[it->cell].cell.id + " runs (job " + s.id +
                 (s.node.empty() ? std::string() : " on " + printable(s.node)) + ")",
             {{"job_id", s.id}, {"node", s.node}});
      }
      if (job_ended(s.state)) collect(*it);
    }
    // Jobs waiting on a cell that failed will never start: cancel them, then submit them again
    // without it (--keep-going: they build what it would have built) or report them skipped.
    for (auto& j : jobs) {
      if (j.collected || j.id.empty() || j.status.state != JobState::kPending) continue;
      bool orphan = false;
      for (std::size_t w : j.wait) {
        const CellJob& other = jobs[job_of.at(w)];
        if (other.collected && report.cells[w].result != "ok") orphan = true;
      }
      if (!orphan && !stop) continue;
      (void)executor.cancel({j.id});
      std::erase_if(j.wait, [&](std::size_t w) {
        return jobs[job_of.at(w)].collected && report.cells[w].result != "ok";
      });
      const std::string old = j.id;
      if (stop) {
        j.collected = true;
        note(plan.cells[j.cell].cell.id, "skipped",
             "cell " + plan.cells[j.cell].cell.id + " not run: job " + old +
                 " cancelled (an earlier cell failed; --keep-going runs it)");
        continue;
      }
      submit(j);
      note(plan.cells[j.cell].cell.id, "resubmitted",
           "cell " + plan.cells[j.cell].cell.id + ": job " + old +
               " waited on a failed cell; "
               "submitted again as job " +
               j.id + " to build what it needs itself",
           {{"job_id", j.id}, {"replaces", old}});
    }
    draw();
  }
  draw();
  report.parallel = static_cast<int>(jobs.size());
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}

}  // namespace sf
