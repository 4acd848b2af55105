#include "current.hpp"

#include <otpp/error.hpp>
#include <otpp/runtime.hpp>

namespace otpp::runtime {

namespace {
// Initial-exec TLS: libotpp is always loaded at program start (see preemption.cpp).
[[gnu::tls_model("initial-exec")]] thread_local Process* tl_process = nullptr;
[[gnu::tls_model("initial-exec")]] thread_local Scheduler* tl_scheduler = nullptr;
}  // namespace

Process* current_process() noexcept { return tl_process; }
void set_current_process(Process* p) noexcept { tl_process = p; }
Scheduler* current_scheduler() noexcept { return tl_scheduler; }
void set_current_scheduler(Scheduler* s) noexcept { tl_scheduler = s; }

Process& require_process() {
    Process* p = current_process();
    if (!p) throw BadArg("not in a process: call this from a spawned process or a ScopedProcess");
    return *p;
}

Kernel& current_kernel() {
    Runtime* rt = Runtime::current();
    if (!rt) throw BadArg("no otpp::Runtime is running");
    return rt->kernel();
}

}  // namespace otpp::runtime
