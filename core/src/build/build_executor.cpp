// The build executor's scheduler (build_executor.hpp): the plan's source packages as a DAG, run
// by `parallel` workers, each package once its build inputs are done (package_builder.hpp builds
// or fetches one), with one BuildEvent per step and a build lock per package hash.
#include "build/build_executor.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "build/package_builder.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

// UTC time + pid, and a counter after the first: the cells of `slurm-factory run` start several
// executors in one process within the same second, and each needs its own logs/ and work/.
std::string new_build_id() {
  static std::atomic<unsigned> count{0};
  const unsigned n = ++count;
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf) + "-" + std::to_string(::getpid()) +
         (n > 1 ? "-" + std::to_string(n) : std::string());
}

// The right to build one package hash: an exclusive flock on <cache_dir>/locks/<hash>.lock, on a
// file descriptor of its own (flock locks belong to the open file description, so two threads of
// one process exclude each other as two processes do; the kernel drops the lock if the holder
// dies). Whoever gets it second looks in the cache again and finds the entry the first one built.
class PackageBuildLock {
 public:
  PackageBuildLock(const fs::path& file, const std::string& package) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw CacheError("cannot open the build lock " + file.string() + ": " + std::strerror(errno),
                       {{"package", package}, {"file", file.string()}},
                       "check that the cache directory is writable");
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    waited_ = true;
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd_);
      throw CacheError("cannot lock " + file.string() + ": " + std::strerror(err),
                       {{"package", package}, {"file", file.string()}},
                       "check that the cache directory is on a file system with flock support");
    }
  }
  ~PackageBuildLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  PackageBuildLock(const PackageBuildLock&) = delete;
  PackageBuildLock& operator=(const PackageBuildLock&) = delete;
  bool waited() const { return waited_; }

 private:
  int fd_ = -1;
  bool waited_ = false;
};

}  // namespace

std::string to_string(PackageStatus s) {
  switch (s) {
    case PackageStatus::kBuilt:
      return "built";
    case PackageStatus::kCached:
      return "cached";
    case PackageStatus::kSystem:
      return "system";
  }
  return "?";
}

std::size_t BuildReport::built() const {
  return static_cast<std::size_t>(
      std::count_if(packages.begin(), packages.end(),
                    [](const auto& p) { return p.status == PackageStatus::kBuilt; }));
}

std::size_t BuildReport::cached() const {
  return static_cast<std::size_t>(
      std::count_if(packages.begin(), packages.end(),
                    [](const auto& p) { return p.status == PackageStatus::kCached; }));
}

// The executor's state: a package builder (the chain, the options, the run's entries) and the
// factory that gives each worker its own backend.
struct BuildExecutor::Impl : PackageBuilder {
  BackendFactory make_backend;

  Impl(BackendFactory f, CacheChain& c, BuildExecutorOptions o)
      : PackageBuilder(c, std::move(o)), make_backend(std::move(f)) {}
};

BuildExecutor::BuildExecutor(BackendFactory make_backend, CacheChain& chain,
                             BuildExecutorOptions options)
    : impl_(std::make_unique<Impl>(std::move(make_backend), chain, std::move(options))) {}

BuildExecutor::~BuildExecutor() = default;

Expected<void> BuildExecutor::unpack_entry(const PackageOutcome& outcome,
                                           const fs::path& destination) {
  return impl_->unpack_entry(outcome.name, destination);
}

BuildReport BuildExecutor::run(const Plan& plan, const BuildEventSink& events) {
  Impl& m = *impl_;
  BuildReport report;
  report.build_id = m.options.build_id.empty() ? new_build_id() : m.options.build_id;
  m.plan = &plan;
  m.log_dir = m.options.cache_dir / "logs" / report.build_id;
  m.work_root = m.options.cache_dir / "work" / report.build_id;
  m.entries_dir = m.work_root / "entries";
  m.entries.clear();
  report.log_dir = m.log_dir;
  report.entries_dir = m.entries_dir;
  std::error_code ec;
  fs::create_directories(m.log_dir, ec);
  fs::create_directories(m.entries_dir, ec);

  // Outcomes by plan index; system packages are in the image already.
  std::vector<std::optional<PackageOutcome>> outcomes(plan.packages.size());
  std::vector<std::size_t> todo;  // plan indices of source packages
  std::map<std::string, std::size_t> index_of;
  for (std::size_t i = 0; i < plan.packages.size(); ++i) {
    const auto& p = plan.packages[i];
    index_of[p.name] = i;
    if (p.origin == Origin::kSystem) {
      PackageOutcome o;
      o.name = p.name;
      o.version = p.version;
      o.hash = p.hash;
      o.status = PackageStatus::kSystem;
      outcomes[i] = o;
    } else {
      todo.push_back(i);
    }
  }
  const std::size_t total = todo.size();
  std::size_t position = 0;  // events' n of N
  auto emit = [&](const BuildEvent& e) {
    if (events) events(e);
  };
  auto event_for = [&](const PackageSpec& p, const std::string& kind) {
    BuildEvent e;
    e.kind = kind;
    e.package = p.name;
    e.version = p.version;
    e.hash12 = p.hash12();
    e.total = total;
    return e;
  };

  // Scheduler: a package is ready when every build input is done.
  std::mutex sched;
  std::condition_variable cv;
  std::vector<int> state(plan.packages.size(), 0);  // 0 waiting, 1 running, 2 done
  std::exception_ptr failure;
  std::size_t running = 0;
  std::map<std::size_t, std::vector<std::size_t>> inputs;
  for (std::size_t i : todo) {
    for (const PackageSpec* in : plan.build_inputs(plan.packages[i].name)) {
      inputs[i].push_back(index_of.at(in->name));
    }
  }
  auto next_ready = [&]() -> std::optional<std::size_t> {
    for (std::size_t i : todo) {
      if (state[i] != 0) continue;
      bool ready = true;
      for (std::size_t d : inputs[i]) ready = ready && state[d] == 2;
      if (ready) return i;
    }
    return std::nullopt;
  };
  auto all_done = [&] {
    return std::all_of(todo.begin(), todo.end(), [&](std::size_t i) { return state[i] == 2; });
  };

  auto worker = [&] {
    std::unique_ptr<ContainerBackend> backend;
    for (;;) {
      std::size_t i = 0;
      {
        std::unique_lock lock(sched);
        cv.wait(lock, [&] { return failure || all_done() || next_ready().has_value(); });
        if (failure || all_done()) return;
        i = *next_ready();
        state[i] = 1;
        ++running;
      }
      const PackageSpec& spec = plan.packages[i];
      try {
        std::optional<PackageOutcome> o = m.fetch(spec);
        // A miss: take the package's build lock, then look again; a hit now means another cell
        // or process built it while we waited (a build in progress is awaited, not repeated).
        std::optional<PackageBuildLock> build_lock;
        bool reused = false;
        if (!o) {
          build_lock.emplace(m.options.cache_dir / "locks" / (spec.hash + ".lock"), spec.name);
          if (build_lock->waited()) {
            log().info("{} {} ({}): waited for another cell/process building it", spec.name,
                       spec.version, spec.hash12());
          }
          o = m.fetch(spec);
          if (o) {
            reused = true;
            build_lock.reset();
            log().info("{} {} ({}): built by another cell/process, reused", spec.name, spec.version,
                       spec.hash12());
          }
        }
        if (!o) {
          {
            std::lock_guard lock(m.mutex);
            auto e = event_for(spec, "start");
            std::lock_guard slock(sched);
            e.index = ++position;
            emit(e);
          }
          if (!backend) backend = m.make_backend();
          o = m.build(spec, *backend);
          std::lock_guard lock(m.mutex);
          auto e = event_for(spec, "built");
          e.index = position;
          e.elapsed = o->elapsed;
          e.detail = o->log_file.string();
          emit(e);
        } else {
          std::lock_guard lock(m.mutex);
          auto e = event_for(spec, "cached");
          {
            std::lock_guard slock(sched);
            e.index = ++position;
          }
          e.elapsed = o->elapsed;
          e.detail = reused ? o->layer + ", built by another cell/process" : o->layer;
          emit(e);
        }
        std::lock_guard lock(sched);
        outcomes[i] = std::move(o);
        state[i] = 2;
        --running;
      } catch (...) {
        std::lock_guard lock(sched);
        if (!failure) failure = std::current_exception();
        --running;
      }
      cv.notify_all();
    }
  };

  const int parallel = std::max(1, m.options.parallel);
  std::vector<std::thread> threads;
  for (int t = 1; t < parallel; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);

  for (auto& o : outcomes) {
    if (o) report.packages.push_back(std::move(*o));
  }
  return report;
}

}  // namespace sf
