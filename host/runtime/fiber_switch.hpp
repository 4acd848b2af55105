// Telling the sanitizers about fiber switches.
//
// ASan and TSan track one stack per thread; when we jump between a scheduler's
// thread stack and process stacks they must be told, or they report false
// stack overflows (ASan) and false races (TSan). Every switch in the runtime
// goes through these four hooks, in this order:
//
//   scheduler: enter_process(p)        -> resume the process
//   process:   arrived_in_process(p)   (first entry and after every resume)
//   process:   leave_process(p, done)  -> resume the scheduler
//   scheduler: arrived_in_scheduler(p)
//
// Without sanitizers they compile to nothing.
#pragma once

#include "sanitizer_state.hpp"

#if defined(OTPP_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(OTPP_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace otpp::runtime::fiber_switch {

// On the scheduler's stack, just before resuming the process.
inline void enter_process([[maybe_unused]] SanitizerState& s, [[maybe_unused]] const void* stack_bottom,
                          [[maybe_unused]] std::size_t stack_size) noexcept {
#if defined(OTPP_ASAN)
    __sanitizer_start_switch_fiber(&s.scheduler_fake_stack, stack_bottom, stack_size);
#endif
#if defined(OTPP_TSAN)
    if (!s.tsan_fiber) s.tsan_fiber = __tsan_create_fiber(0);
    s.tsan_caller = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(s.tsan_fiber, 0);
#endif
}

// On the process's stack, right after arriving there.
inline void arrived_in_process([[maybe_unused]] SanitizerState& s) noexcept {
#if defined(OTPP_ASAN)
    __sanitizer_finish_switch_fiber(s.process_fake_stack, &s.caller_bottom, &s.caller_size);
#endif
}

// On the process's stack, just before resuming the scheduler. `finished`: this
// stack will never be resumed again.
inline void leave_process([[maybe_unused]] SanitizerState& s, [[maybe_unused]] bool finished) noexcept {
#if defined(OTPP_ASAN)
    __sanitizer_start_switch_fiber(finished ? nullptr : &s.process_fake_stack, s.caller_bottom, s.caller_size);
#endif
#if defined(OTPP_TSAN)
    __tsan_switch_to_fiber(s.tsan_caller, 0);
#endif
}

// On the scheduler's stack, right after the process switched back.
inline void arrived_in_scheduler([[maybe_unused]] SanitizerState& s, [[maybe_unused]] bool finished) noexcept {
#if defined(OTPP_ASAN)
    __sanitizer_finish_switch_fiber(s.scheduler_fake_stack, nullptr, nullptr);
#endif
#if defined(OTPP_TSAN)
    if (finished && s.tsan_fiber) {
        __tsan_destroy_fiber(s.tsan_fiber);
        s.tsan_fiber = nullptr;
    }
#endif
}

}  // namespace otpp::runtime::fiber_switch
