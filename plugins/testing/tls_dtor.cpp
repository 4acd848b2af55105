// A plugin with a thread_local object whose destructor does something: the
// first touch on a thread registers the destructor with
// __cxa_thread_atexit, and glibc keeps the library mapped until that thread
// has exited and run it.
#include "test_plugin.hpp"

#include <otpp/module.hpp>

#include <atomic>

namespace {

std::atomic<int> destroyed{0};

struct Tracked {
    int touches = 0;
    ~Tracked() { destroyed.fetch_add(1, std::memory_order_relaxed); }
};

thread_local Tracked tracked;

constexpr otpp::ModuleDescriptor descriptor{otpp::module_magic,
                                            otpp::sdk_abi_version,
                                            sizeof(otpp::ModuleDescriptor),
                                            otpp::BehaviourKind::gen_server,
                                            "tls_dtor",
                                            "1.0.0",
                                            nullptr};

}  // namespace

OTPP_TEST_EXPORT const otpp::ModuleDescriptor* otpp_module_descriptor() { return &descriptor; }

// Touches this thread's object; returns how often this thread has.
OTPP_TEST_EXPORT int tls_touch() { return ++tracked.touches; }

// How many threads' objects have been destroyed.
OTPP_TEST_EXPORT int tls_destroyed() { return destroyed.load(std::memory_order_relaxed); }
