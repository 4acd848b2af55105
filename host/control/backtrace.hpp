// Where a process is right now: a symbolised backtrace of a running process,
// for the console's `info` (an operator looking at a process that spins at
// 100% CPU wants its stack).
//
// How: a process that is running is on some OS thread at this moment. The
// caller signals the threads of the host (a dedicated real-time signal,
// backtrace_signal()); the handler of the one thread whose current process
// (host/runtime/current.hpp) is the requested one records the interrupted
// stack into a preallocated buffer with _Unwind_Backtrace, and every other
// thread returns at once. Then the frames are symbolised (symbolizer.hpp),
// outside the handler.
//
// A process that is not running (waiting, runnable, hibernated) has its
// registers saved on a suspended fiber's stack; unwinding that from another
// thread while its owner may resume it at any moment is not safe, so no
// backtrace is taken: the result says its status and the behaviour callback it
// is in instead.
//
// Async-signal-safety: the handler touches only atomics, the preallocated
// buffer, the thread-local current process (initial-exec TLS) and
// _Unwind_Backtrace, which install_backtrace_handler() warms up once so that
// nothing is lazily bound or loaded in the handler. With glibc >= 2.35 and
// GCC >= 12 the unwinder finds frame tables through _dl_find_object, which
// takes no lock. Signals interrupt system calls of the threads they reach
// (SA_RESTART restarts most; the runtime's futex waits tolerate early returns).
//
// Thread-safe: one capture at a time (others wait for it).
#pragma once

#include "symbolizer.hpp"

#include <otpp/export.hpp>
#include <otpp/process_info.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace otpp::control {

struct Backtrace {
    bool captured = false;  // frames are the process's stack at one instant
    std::vector<SymbolizedFrame> frames;  // innermost first
    // Status and callback when the sample was attempted; why there are no frames.
    std::optional<ProcessInfo> info;
    std::string note;
};

// The real-time signal used (SIGRTMIN + 5).
OTPP_API int backtrace_signal() noexcept;
// Installs the handler and warms up the unwinder. Idempotent; the host calls
// it at start-up, backtrace_of() calls it too.
OTPP_API void install_backtrace_handler();
// Samples `pid`'s stack if it is running; waits at most `wait` for the
// running thread to answer. Any thread while a Runtime runs.
OTPP_API Backtrace backtrace_of(Pid pid, std::chrono::milliseconds wait = std::chrono::milliseconds(1000));

}  // namespace otpp::control
