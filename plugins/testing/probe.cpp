// Module `probe`, the loader tests' good plugin, and the base of the bad ones:
// each bad plugin is this file with one descriptor field overridden by a
// definition (see CMakeLists.txt), so it differs from a good one in exactly
// the way its test expects.
//
// probe_version() lets a test ask a handle which code it really has mapped.
#include "test_plugin.hpp"

#include <otpp/module.hpp>

#ifndef PROBE_MAGIC
#define PROBE_MAGIC otpp::module_magic
#endif
#ifndef PROBE_ABI_OFFSET
#define PROBE_ABI_OFFSET 0
#endif
#ifndef PROBE_SIZE_OFFSET
#define PROBE_SIZE_OFFSET 0
#endif
#ifndef PROBE_KIND
#define PROBE_KIND 1  // gen_server
#endif
#ifndef PROBE_NAME
#define PROBE_NAME "probe"
#endif
#ifndef PROBE_VERSION
#define PROBE_VERSION "1.0.0"
#endif

namespace {

// The GenServer callback table is not part of these tests.
constexpr otpp::ModuleDescriptor descriptor{PROBE_MAGIC,
                                            otpp::sdk_abi_version + PROBE_ABI_OFFSET,
                                            sizeof(otpp::ModuleDescriptor) + PROBE_SIZE_OFFSET,
                                            static_cast<otpp::BehaviourKind>(PROBE_KIND),
                                            PROBE_NAME,
                                            PROBE_VERSION,
                                            nullptr};

}  // namespace

OTPP_TEST_EXPORT const otpp::ModuleDescriptor* otpp_module_descriptor() { return &descriptor; }

OTPP_TEST_EXPORT const char* probe_version() { return PROBE_VERSION; }
