// Which process and which scheduler the calling thread is running.
//
// Fibers migrate between threads at every switch, and the compiler may cache
// the address of a thread_local across a call that switches fibers. So the
// thread-locals are reached only through these out-of-line functions, each
// of which cannot switch. Never cache their results across a receive or yield.
#pragma once

#include <otpp/export.hpp>

namespace otpp::runtime {

class Process;
class Scheduler;

// (Exported for the host's own libraries, e.g. host/dist.)
[[gnu::noinline]] OTPP_API Process* current_process() noexcept;
[[gnu::noinline]] void set_current_process(Process* p) noexcept;
[[gnu::noinline]] Scheduler* current_scheduler() noexcept;
[[gnu::noinline]] void set_current_scheduler(Scheduler* s) noexcept;

// The calling process, or BadArg("not in a process").
Process& require_process();

class Kernel;
// The running runtime's kernel, or BadArg("no otpp::Runtime is running").
Kernel& current_kernel();

}  // namespace otpp::runtime
