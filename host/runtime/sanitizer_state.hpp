// Per-process bookkeeping for fiber_switch.hpp (empty without sanitizers),
// and leak-checker hints.
#pragma once

#include <cstddef>

#if defined(OTPP_ASAN)
#include <sanitizer/lsan_interface.h>
#endif

namespace otpp::runtime {

struct SanitizerState {
#if defined(OTPP_ASAN)
    void* scheduler_fake_stack = nullptr;
    void* process_fake_stack = nullptr;
    const void* caller_bottom = nullptr;
    std::size_t caller_size = 0;
#endif
#if defined(OTPP_TSAN)
    void* tsan_fiber = nullptr;
    void* tsan_caller = nullptr;
#endif
};

// Memory the runtime leaks deliberately (the frames of a process that was cut
// loose, see Process::rethrow_exit) must not fail the leak checker.
inline void leak_on_purpose([[maybe_unused]] void* object) noexcept {
#if defined(OTPP_ASAN)
    __lsan_ignore_object(object);
#endif
}

}  // namespace otpp::runtime
