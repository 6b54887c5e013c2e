// The SDK's cancellation service (slurm_factory/cancellation.hpp) over the interrupt guard's flag.
#include "slurm_factory/cancellation.hpp"

#include "support/interrupt_guard.hpp"

namespace sf {

bool cancellation_requested() noexcept { return interrupt_requested(); }
int cancellation_signal() noexcept { return interrupt_signal(); }

}  // namespace sf
