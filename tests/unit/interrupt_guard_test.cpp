// SIGINT/SIGTERM handling: the guard records the signal instead of dying, restores the previous
// handlers, and an error that carries the signal maps to exit status 128 + signal.
#include "support/interrupt_guard.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace {

TEST(InterruptGuard, RecordsSignalsWhileInScopeAndRestoresHandlers) {
  sf::clear_interrupt();
  {
    sf::InterruptGuard guard;
    ASSERT_EQ(std::raise(SIGINT), 0);  // recorded, the process lives on
    EXPECT_TRUE(sf::interrupt_requested());
    EXPECT_EQ(sf::interrupt_signal(), SIGINT);
    sf::clear_interrupt();
    ASSERT_EQ(std::raise(SIGTERM), 0);
    EXPECT_EQ(sf::interrupt_signal(), SIGTERM);
    sf::clear_interrupt();
  }
  EXPECT_FALSE(sf::interrupt_requested());
  struct sigaction now {};
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL) << "the previous (default) handler is back";
}

TEST(InterruptGuard, ExitStatusIs128PlusTheSignalOfAnInterruptedRun) {
  const sf::ContainerError by_int("interrupted by SIGINT; the build container was removed",
                                  {{"container", "abc"}, {"signal", "2"}});
  const sf::ContainerError by_term("interrupted by SIGTERM", {{"signal", "15"}});
  const sf::ContainerError failed("the script failed", {{"exit code", "1"}});
  const sf::ContainerError other_signal("killed", {{"signal", "9"}});
  EXPECT_EQ(sf::exit_status_for(by_int), 130);
  EXPECT_EQ(sf::exit_status_for(by_term), 143);
  EXPECT_EQ(sf::exit_status_for(failed), static_cast<int>(sf::ExitCode::kContainer));
  EXPECT_EQ(sf::exit_status_for(other_signal), static_cast<int>(sf::ExitCode::kContainer));
  EXPECT_EQ(sf::exit_status_for(sf::UsageError("bad")), static_cast<int>(sf::ExitCode::kUsage));
}

}  // namespace
