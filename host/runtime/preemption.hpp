// Preemption of plugin code: the hook behind compiler-inserted checks.
//
// otpp_add_plugin() compiles plugins with -fsanitize-coverage=trace-pc: the
// compiler calls __sanitizer_cov_trace_pc() at the top of every basic block,
// so every loop iteration and every call passes through a check without the
// author writing one. libotpp defines that hook (preemption.cpp). Its fast
// path is one decrement of a per-thread countdown; every kCheckEvery calls it
// looks at the running process (Process::preempt): charges reductions, yields
// when the slice is spent, and applies pending signals.
//
// A kill that reaches a process at such a check cannot be thrown there: the
// compiler declares the hook nothrow (and proves plain loops nothrow), so an
// exception thrown there finds no landing pad and std::terminate()s the host
// (measured with g++ 12). The process is marked exiting and gets a grace of
// kGraceChecks more checks to reach a runtime call (send, receive,
// yield_point ...), which throws its ProcessExit from a real call site and
// unwinds it normally. Code that reaches none is cut loose: the exit protocol
// runs at once (links, monitors, name, code pin) and its stack is abandoned
// without running the destructors of its frames — Erlang's semantics for a
// killed process, a bounded leak in C++.
//
// The hook does nothing on a thread that runs no process (host threads, the
// loader's thread), in a ScopedProcess (its own thread: nothing to share),
// while the process is exiting or an exception is in flight, and inside a
// NoPreemption scope.
#pragma once

#include <otpp/export.hpp>

#include <cstdint>

namespace otpp::runtime {

// Hook calls between two looks at the running process, and what one look
// charges: with ~1 ns per basic block a look comes every ~1–3 µs (the
// latency of a kill), and a 4000-reduction slice of pure plugin code lasts
// about a quarter of a million basic blocks (~0.3–1 ms, like a BEAM slice).
inline constexpr int32_t kCheckEvery = 1024;
inline constexpr int32_t kReductionsPerCheck = 16;
// Checks a killed process may still pass (~65,000 basic blocks, ~100 µs)
// before it is cut loose, looking for a runtime call to unwind from.
inline constexpr int32_t kGraceChecks = 64;

// While one exists on this thread the hook never switches or kills: for host
// code that runs plugin code while holding a lock the fiber must not carry
// to another thread or leave held (dlopen/dlclose run plugin constructors and
// destructors under the dynamic loader's lock). Never held across a switch,
// so a thread-local depth is exact.
class OTPP_API NoPreemption {
public:
    NoPreemption() noexcept;
    ~NoPreemption();
    NoPreemption(const NoPreemption&) = delete;
    NoPreemption& operator=(const NoPreemption&) = delete;
};

}  // namespace otpp::runtime
