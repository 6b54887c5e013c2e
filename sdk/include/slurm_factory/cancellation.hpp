// Cancellation for plugins: the core records SIGINT/SIGTERM while a container runs (the user
// pressed Ctrl-C, or the run was told to stop); code that blocks, such as the Engine API client's
// requests, polls cancellation_requested() and aborts with an error carrying context "signal" =
// cancellation_signal(), and the core turns that into exit status 130 / 143.
#pragma once

namespace sf {

bool cancellation_requested() noexcept;
// The signal that asked for cancellation, 0 when none.
int cancellation_signal() noexcept;

}  // namespace sf
