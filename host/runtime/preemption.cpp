// The hook plugins built by otpp_add_plugin() call at every basic block, and
// what a running process does when it fires (see preemption.hpp).
#include "preemption.hpp"

#include "current.hpp"
#include "process.hpp"

#include <otpp/export.hpp>

#include <exception>

namespace otpp::runtime {

namespace {
// Per thread, not per process: the hook must not look up the process on the
// fast path. A process that migrates simply continues another thread's count.
// Initial-exec TLS (a plain %fs-relative access, no __tls_get_addr call):
// libotpp is always loaded at program start, never dlopen-ed.
[[gnu::tls_model("initial-exec")]] thread_local int32_t tl_countdown = 0;
[[gnu::tls_model("initial-exec")]] thread_local int32_t tl_no_preemption = 0;

// The process in its grace (see kGraceChecks). It never switches while in
// it, so the thread-locals stay its own.
[[gnu::tls_model("initial-exec")]] thread_local uint64_t tl_dying = 0;  // pid (id, serial) of the process in its grace
[[gnu::tls_model("initial-exec")]] thread_local int32_t tl_grace = 0;

uint64_t key(Pid pid) noexcept { return static_cast<uint64_t>(pid.serial) << 32 | pid.id; }

// Out of line and after the countdown was reset: the caller's thread-local
// addresses are never used again once this may have switched fibers.
[[gnu::noinline]] void check_running_process() noexcept {
    if (tl_no_preemption > 0) return;
    if (Process* p = current_process()) p->preempt(kReductionsPerCheck);
}
}  // namespace

NoPreemption::NoPreemption() noexcept { ++tl_no_preemption; }
NoPreemption::~NoPreemption() { --tl_no_preemption; }

void Process::preempt(int32_t reductions) noexcept {
    // A ScopedProcess owns its thread. A process unwinding (an exception in
    // flight: its destructors run) must not be switched or exited twice.
    if (is_thread_ || std::uncaught_exceptions() > 0) return;
    if (exiting_) {
        // The exit protocol (plugin destructors run there) runs to the end.
        if (in_exit_protocol_) return;
        // Dying without unwinding: give it its grace, then cut it loose. The
        // grace starts here too when the kill was thrown from a runtime call
        // and the plugin swallowed it (catch (...)) and went on looping.
        if (tl_dying != key(pid_)) {
            tl_dying = key(pid_);
            tl_grace = kGraceChecks;
        }
        if (--tl_grace <= 0) cut_loose();
        return;
    }
    reductions_left_ -= reductions;
    if (reductions_left_ <= 0) switch_out(SwitchReason::Yield);  // the scheduler refills the slice
    if (!inbox_.has_signals()) return;
    try {
        process_signals();
        return;
    } catch (const ProcessExit&) {
        // A signal killed us (pending_exit_ holds the reason). Throwing it
        // into the plugin's frames would std::terminate the host: the check
        // is a nothrow call to the compiler. The next runtime call throws it
        // instead, as for the first time.
        exit_throws_ = 0;
        tl_dying = key(pid_);
        tl_grace = kGraceChecks;
    }
}

void Process::cut_loose() noexcept {
    tl_dying = 0;
    // The exit protocol runs here and the stack is left as it is, never
    // resumed: its frames' destructors do not run (what they own leaks).
#if defined(OTPP_ASAN)
    // What the abandoned frames still point to is not a leak to report.
    __lsan_register_root_region(static_cast<char*>(stack_.sp) - stack_.size, stack_.size);
#endif
    leak_on_purpose(body_.object);  // its frames still use the callable
    body_ = {};
    terminate(pending_exit_);
    switch_out(SwitchReason::Abandoned);
    std::terminate();  // never resumed
}

}  // namespace otpp::runtime

// The compiler's name for the check (GCC and Clang). Plugin code only: libotpp
// and the host are built without the flag, so this never recurses and never
// interrupts the runtime's own critical sections.
extern "C" OTPP_API void __sanitizer_cov_trace_pc() noexcept {
    using namespace otpp::runtime;
    if (--tl_countdown > 0) [[likely]] return;
    tl_countdown = kCheckEvery;
    check_running_process();
}
