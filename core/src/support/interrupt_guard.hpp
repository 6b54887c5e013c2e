// SIGINT/SIGTERM while a container runs: the handler only records the signal; blocking engine
// requests poll interrupt_requested() and abort, and the code that owns the container removes it
// before the error (exit 130 / 143) travels up. InterruptGuard installs the handlers for its scope
// and restores the previous ones.
#pragma once

#include <csignal>

#include "slurm_factory/errors.hpp"

namespace sf {

bool interrupt_requested() noexcept;
int interrupt_signal() noexcept;  // the signal received, 0 when none
void clear_interrupt() noexcept;
// For tests and for code that wants to cancel a run from another thread.
void request_interrupt(int signal) noexcept;

// The process exit status for an error: 128 + signal (130 for SIGINT, 143 for SIGTERM) when the
// error says a run was stopped by one of them (context "signal"), else the error class's code.
int exit_status_for(const SlurmFactoryError& error) noexcept;

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace sf
