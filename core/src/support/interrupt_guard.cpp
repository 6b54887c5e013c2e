#include "support/interrupt_guard.hpp"

#include <atomic>
#include <string>

namespace sf {
namespace {

std::atomic<int> g_signal{0};

extern "C" void sf_record_interrupt(int sig) { g_signal.store(sig); }

}  // namespace

bool interrupt_requested() noexcept { return g_signal.load() != 0; }
int interrupt_signal() noexcept { return g_signal.load(); }
void clear_interrupt() noexcept { g_signal.store(0); }
void request_interrupt(int signal) noexcept { g_signal.store(signal); }

int exit_status_for(const SlurmFactoryError& error) noexcept {
  try {
    const std::string sig = error.context_value("signal");
    if (sig == std::to_string(SIGINT) || sig == std::to_string(SIGTERM)) {
      return 128 + std::stoi(sig);
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): fall back to the class's code
  }
  return static_cast<int>(error.exit_code());
}

InterruptGuard::InterruptGuard() {
  struct sigaction sa {};
  sa.sa_handler = sf_record_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and notice the flag
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

}  // namespace sf
