// The SDK's process functions (otpp/process.hpp): thin shims that find the
// calling process and the running kernel, then delegate.
#include "current.hpp"
#include "deadline.hpp"
#include "kernel.hpp"
#include "process.hpp"

#include <otpp/error.hpp>
#include <otpp/process.hpp>
#include <otpp/runtime.hpp>

namespace otpp {

namespace {
using runtime::deadline_after;
runtime::Kernel& kernel() { return runtime::current_kernel(); }
}  // namespace

namespace detail {

SpawnResult spawn(ProcessBody body, const SpawnOptions& options, SpawnLink how,
                  const std::source_location& where) {
    Runtime* rt = Runtime::current();
    if (!rt) {
        body.destroy(body.object);
        throw BadArg("spawn: no otpp::Runtime is running");
    }
    return rt->kernel().spawn(body, options, how, where);
}

std::optional<Term> receive(FunctionRef<bool(const Term&)> accept, Timeout timeout) {
    return runtime::require_process().receive(accept, deadline_after(timeout));
}

}  // namespace detail

Pid self() { return runtime::require_process().pid(); }

void send(Pid to, Term message) {
    runtime::Kernel& k = kernel();
    runtime::Process* sender = runtime::current_process();
    k.send_signal(to, new runtime::Signal(runtime::SignalKind::Message, sender ? sender->pid() : Pid{},
                                          std::move(message)));
    // A send to another node encodes the message here (1-2 us, measured,
    // against ~0.1 us locally): charged as such, so that a process sending
    // remotely in a loop still gives way to the others.
    if (sender) sender->consume_reductions(to.node != 0 ? 10 : 1);
    if (to.node != 0 && sender)
        if (runtime::Remote* r = k.remote()) r->wait_while_busy(r->node_of(to.node));
}

void send(Atom name, Term message) {
    auto pid = kernel().registry().whereis(name);
    if (!pid) throw BadArg("send: no process is registered as '" + std::string(name.name()) + "'");
    send(*pid, std::move(message));
}

void sleep_for(Timeout duration) {
    runtime::require_process().receive([](const Term&) { return false; }, deadline_after(duration));
}

void exit(Term reason) {
    runtime::require_process().die(std::move(reason));
}

void exit(Pid pid, Term reason) {
    runtime::Kernel& k = kernel();
    runtime::Process* sender = runtime::current_process();
    k.send_signal(pid, new runtime::Signal(runtime::SignalKind::Exit, sender ? sender->pid() : Pid{},
                                           std::move(reason)));
    if (sender) {
        if (pid == sender->pid()) sender->process_signals();  // exit(self(), R) acts at once
        sender->consume_reductions(1);
    }
}

void link(Pid pid) { runtime::require_process().link(pid); }
void unlink(Pid pid) { runtime::require_process().unlink(pid); }
Ref monitor(Pid pid) { return runtime::require_process().monitor(pid); }
bool demonitor(Ref ref, Flush flush) { return runtime::require_process().demonitor(ref, flush == Flush::yes); }
bool trap_exit(bool on) { return runtime::require_process().set_trap_exit(on); }

void register_name(Atom name, Pid pid) { kernel().registry().register_name(name, pid); }
void unregister_name(Atom name) { kernel().registry().unregister_name(name); }
std::optional<Pid> whereis(Atom name) { return kernel().registry().whereis(name); }

Ref send_after(Timeout delay, Pid to, Term message) {
    return kernel().send_after(delay, to, std::nullopt, std::move(message));
}
Ref send_after(Timeout delay, Atom to, Term message) {
    return kernel().send_after(delay, Pid{}, to, std::move(message));
}
std::optional<Timeout> cancel_timer(Ref timer) { return kernel().cancel_timer(timer); }

Ref make_ref() { return kernel().make_ref(); }

bool is_process_alive(Pid pid) {
    runtime::Process* p = kernel().table().lookup(pid);
    if (!p) return false;
    bool alive = p->is_alive();
    p->release();
    return alive;
}

void yield_point() {
    if (runtime::Process* p = runtime::current_process()) p->consume_reductions(1);
}

void yield() { runtime::require_process().yield(); }

}  // namespace otpp
