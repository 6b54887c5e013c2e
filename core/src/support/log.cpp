#include "slurm_factory/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace sf {
namespace {

std::mutex& log_mutex() {
  static std::mutex m;
  return m;
}

std::shared_ptr<spdlog::logger>& log_slot() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>(
        "slurm-factory", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    l->set_pattern("%^%l%$: %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return logger;
}

}  // namespace

spdlog::logger& log() { return *log_ptr(); }

std::shared_ptr<spdlog::logger> log_ptr() {
  std::lock_guard lock(log_mutex());
  return log_slot();
}

void set_log(std::shared_ptr<spdlog::logger> logger) {
  if (!logger) return;
  std::lock_guard lock(log_mutex());
  log_slot() = std::move(logger);
}

}  // namespace sf
