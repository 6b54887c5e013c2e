// The host's logger. The host creates it (console sink, level from -v/-q) and hands it to every
// plugin through PluginContext; plugins log through sf::log() after registration, never through
// their own spdlog registry.
#pragma once

#include <memory>

namespace spdlog {
class logger;
}

namespace sf {

// The process-wide logger owned by the core library. Never null.
spdlog::logger& log();
std::shared_ptr<spdlog::logger> log_ptr();
// Replaces the logger (the CLI does this once at start; tests may install a capturing one).
void set_log(std::shared_ptr<spdlog::logger> logger);

}  // namespace sf
