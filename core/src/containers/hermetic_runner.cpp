#include "containers/hermetic_runner.hpp"

#include <unistd.h>

#include <cctype>
#include <deque>
#include <fstream>
#include <optional>
#include <ostream>

#include "support/interrupt_guard.hpp"
#include "support/live_tail.hpp"
#include "support/strings.hpp"

namespace sf {
namespace {

// Collects output into the log file, the live stream and a tail of complete lines.
class OutputCollector {
 public:
  OutputCollector(const std::filesystem::path& log_file, std::ostream* live, std::size_t tail)
      : log_(log_file, std::ios::binary | std::ios::trunc), max_tail_(tail) {
    if (live != nullptr) live_.emplace(*live, stream_is_terminal(*live));
  }

  bool ok() const { return static_cast<bool>(log_); }

  void add(Stream, std::string_view data) {
    log_.write(data.data(), static_cast<std::streamsize>(data.size()));
    partial_.append(data);
    std::size_t pos = 0;
    while (true) {
      const auto nl = partial_.find('\n', pos);
      if (nl == std::string::npos) break;
      line(partial_.substr(pos, nl - pos));
      pos = nl + 1;
    }
    partial_.erase(0, pos);
  }

  std::vector<std::string> finish() {
    if (!partial_.empty()) line(partial_);
    partial_.clear();
    if (live_) live_->finish();
    log_.flush();
    return {tail_.begin(), tail_.end()};
  }

 private:
  void line(const std::string& l) {
    if (live_) live_->line(l);
    tail_.push_back(l);
    if (tail_.size() > max_tail_) tail_.pop_front();
  }

  std::ofstream log_;
  std::optional<LiveTail> live_;  // the last lines redrawn on a terminal, plain lines elsewhere
  std::size_t max_tail_;
  std::string partial_;
  std::deque<std::string> tail_;
};

std::string join_tail(const std::vector<std::string>& tail) { return join(tail, "\n    "); }

}  // namespace

std::int64_t parse_byte_size(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) ++i;
  if (i == 0) {
    throw ConfigurationError("not a size: \"" + text + "\"", {},
                             "write a number with an optional unit: 512m, 8g, 1024k");
  }
  std::int64_t value = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit == "" || unit == "b") return value;
  if (unit == "k" || unit == "kb" || unit == "kib") return value * 1024;
  if (unit == "m" || unit == "mb" || unit == "mib") return value * 1024 * 1024;
  if (unit == "g" || unit == "gb" || unit == "gib") return value * 1024 * 1024 * 1024;
  throw ConfigurationError("unknown size unit in \"" + text + "\"", {},
                           "use one of k, m, g (powers of 1024)");
}

HermeticRunResult run_hermetic(ContainerBackend& backend, const HermeticRunSpec& spec) {
  const auto started = std::chrono::steady_clock::now();
  ErrorContext ctx = spec.context;
  ctx.emplace_back("image", spec.image);
  ctx.emplace_back("log file", spec.log_file.string());
  auto fail = [&](const std::string& what, ErrorContext extra, std::string hint) -> ContainerError {
    ErrorContext c = ctx;
    c.insert(c.end(), extra.begin(), extra.end());
    c.emplace_back("backend", backend.name());
    return ContainerError(what, std::move(c), std::move(hint));
  };

  if (spec.log_file.empty()) throw fail("hermetic run without a log file", {}, "");
  std::error_code ec;
  if (spec.log_file.has_parent_path()) {
    std::filesystem::create_directories(spec.log_file.parent_path(), ec);
  }
  OutputCollector out(spec.log_file, spec.live, spec.tail_lines);
  if (!out.ok()) throw fail("cannot write the log file", {}, "check the directory's permissions");

  ContainerSpec c;
  c.image = spec.image;
  c.command = {"/bin/sh", "-c", spec.script};
  c.env = spec.env;
  c.user = spec.user;
  c.labels = spec.labels;
  c.labels[kManagedLabel] = "true";
  c.labels[kKindLabel] = "build";
  for (auto m : spec.inputs) {
    m.read_only = true;
    c.mounts.push_back(std::move(m));
  }
  // The builder user must be able to write its work directory and cache mounts.
  auto hand_to_builder = [&](const std::filesystem::path& dir, const char* what) {
    if (::geteuid() != 0) return;
    unsigned uid = 0;
    unsigned gid = 0;
    if (std::sscanf(spec.user.c_str(), "%u:%u", &uid, &gid) == 2) {
      if (::chown(dir.c_str(), uid, gid) != 0) {
        throw fail(std::string("cannot hand the ") + what + " to the builder user",
                   {{what, dir.string()}}, "check the directory exists");
      }
    }
  };
  if (!spec.work_dir.empty()) {
    c.mounts.push_back({spec.work_dir, spec.work_target, false});
    c.workdir = spec.work_target;
    hand_to_builder(spec.work_dir, "work dir");
  }
  for (auto m : spec.caches) {
    m.read_only = false;
    hand_to_builder(m.source, "cache dir");
    c.mounts.push_back(std::move(m));
  }
  c.network = spec.network;
  c.cpus = spec.cpus;
  c.memory_bytes = spec.memory_bytes;
  c.shm_bytes = spec.shm_bytes;
  c.pids_limit = spec.pids_limit;
  c.drop_capabilities = true;

  InterruptGuard guard;
  HermeticRunResult result;
  result.log_file = spec.log_file;
  try {
    result.container_id = backend.create_container(c);
  } catch (SlurmFactoryError& e) {
    for (const auto& [k, v] : spec.context) e.with(k, v);
    e.with("log file", spec.log_file.string());
    throw;
  }
  const std::string id = result.container_id;
  struct Remover {
    ContainerBackend& b;
    const std::string& id;
    ~Remover() {
      try {
        clear_interrupt();
        b.remove_container(id, true);
      } catch (...) {  // NOLINT(bugprone-empty-catch): best effort, the first error wins
      }
    }
  } remover{backend, id};

  bool finished = false;
  try {
    backend.start_container(id);
    finished = backend.stream_logs(
        id, [&](Stream s, std::string_view d) { out.add(s, d); }, spec.timeout);
  } catch (ContainerError& e) {
    result.tail = out.finish();
    if (interrupt_requested()) {
      const int sig = interrupt_signal();
      throw fail(std::string("interrupted by ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                     "; the build container was removed",
                 {{"container", id.substr(0, 12)}, {"signal", std::to_string(sig)}},
                 "run the command again when ready");
    }
    for (const auto& [k, v] : ctx) e.with(k, v);
    throw;
  }
  if (!finished) {
    result.tail = out.finish();
    backend.kill_container(id, "KILL");
    throw fail(
        "the script did not finish within " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(spec.timeout).count()) +
            " s; the container was killed and removed",
        {{"container", id.substr(0, 12)}, {"last output", join_tail(result.tail)}},
        "raise the timeout, or look at the log for a step that hangs");
  }
  result.tail = out.finish();
  // The logs end when the container stops; ask the engine to wait only when it still runs
  // (Podman answers a wait no sooner than its 250 ms poll, even for a stopped container).
  auto info = backend.inspect_container(id);
  WaitResult w;
  w.timed_out = true;
  if (info && info->running) {
    w = backend.wait_container(id, std::chrono::seconds(60));
    info = backend.inspect_container(id);
  }
  if (!info) {
    throw fail("the build container disappeared while the script ran (removed from outside)",
               {{"container", id.substr(0, 12)}, {"last output", join_tail(result.tail)}},
               "something else removed it (a `clean` in another shell?); run again");
  }
  result.exit_code = w.timed_out ? info->exit_code : w.exit_code;
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (info->oom_killed) {
    throw fail("the script ran out of memory and was killed",
               {{"container", id.substr(0, 12)},
                {"memory limit", std::to_string(spec.memory_bytes) + " bytes"},
                {"last output", join_tail(result.tail)}},
               "raise build.memory in the config or lower build.jobs");
  }
  if (result.exit_code > 128 && result.exit_code <= 128 + 64) {
    throw fail("the build container was killed by signal " +
                   std::to_string(result.exit_code - 128) + " while the script ran",
               {{"container", id.substr(0, 12)},
                {"exit code", std::to_string(result.exit_code)},
                {"last output", join_tail(result.tail)}},
               "something outside stopped it (docker kill, OOM killer, host shutdown); run again");
  }
  if (result.exit_code != 0 && spec.check) {
    throw fail(
        "the script failed with exit code " + std::to_string(result.exit_code),
        {{"exit code", std::to_string(result.exit_code)}, {"last output", join_tail(result.tail)}},
        "read the log file for the failing step");
  }
  return result;
}

}  // namespace sf
