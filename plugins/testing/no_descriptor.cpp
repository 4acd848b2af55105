// A well-built shared library that is not a plugin: it exports no
// otpp_module_descriptor().
#include "test_plugin.hpp"

OTPP_TEST_EXPORT int not_a_plugin() { return 42; }
