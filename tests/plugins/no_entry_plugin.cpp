// A shared object that exports a function but no slurm_factory_plugin entry point.
#include <boost/config.hpp>

extern "C" BOOST_SYMBOL_EXPORT int sf_test_not_a_plugin() { return 42; }
