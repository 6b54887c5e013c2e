// A plugin that needs a symbol no library defines: dlopen(RTLD_NOW) fails, and the host must report
// the loader's message.
#include "slurm_factory/plugin.hpp"

extern "C" int sf_test_symbol_nobody_defines();

namespace {

void register_plugin(sf::Registry&) { (void)sf_test_symbol_nobody_defines(); }

}  // namespace

SLURM_FACTORY_PLUGIN("test-undefined-symbol", "0.0.1", "Needs a missing symbol", register_plugin)
