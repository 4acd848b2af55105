// Processes: spawn, send, receive, links, monitors, names, timers.
//
// This is Erlang's process API (erlang:spawn/3, !, receive, link/1, monitor/2,
// register/2, send_after/3 ...) for C++. A process is a lightweight fiber with a
// mailbox; processes share nothing and talk only by sending terms.
//
// Where these functions may be called
//   - "In a process": from code running as an otpp process (spawned with
//     spawn(), or a thread that holds an otpp::ScopedProcess). Calling such a
//     function elsewhere throws otpp::BadArg("not in a process").
//   - spawn(), send(), exit(Pid, Reason), whereis(), send_after() and
//     cancel_timer() may be called from any thread while a Runtime is running.
//   All functions are thread-safe. Which ones block (suspend the calling
//   process, never its scheduler thread) is said at each one.
//
// Reductions
//   Every send, receive, spawn and yield_point() costs reductions. After a
//   budget (~4000, Runtime option) the process is put back at the end of its run
//   queue, like the BEAM. Long loops call yield_point(); plugins built with
//   otpp_add_plugin() get it inserted by the compiler.
//
// Exits
//   A process ends when its function returns (reason `normal`), when it calls
//   exit(Reason), when an exception escapes it (reason
//   `{exception, <<"Type: what()">>}`), or when an exit signal kills it.
//   Dying unwinds the process's stack by throwing otpp::ProcessExit: code that
//   uses `catch (...)` must rethrow it (the runtime rethrows it at the next
//   receive or yield point anyway).
#pragma once

#include <otpp/export.hpp>
#include <otpp/function_ref.hpp>
#include <otpp/match.hpp>
#include <otpp/term.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <source_location>
#include <utility>

namespace otpp {

using Timeout = std::chrono::milliseconds;
// receive(..., infinity) waits forever.
inline constexpr Timeout infinity = Timeout::max();

// Thrown to unwind a process that is exiting. Not an std::exception on purpose:
// `catch (const std::exception&)` in user code must not swallow a kill.
class OTPP_API ProcessExit {
public:
    explicit ProcessExit(Term reason) noexcept : reason_(std::move(reason)) {}
    virtual ~ProcessExit();
    const Term& reason() const noexcept { return reason_; }

private:
    Term reason_;
};

struct SpawnOptions {
    // Fiber stack size in bytes; 0 means the runtime default (64 KiB). Rounded
    // up to a size class (16 KiB .. 1 MiB). Only touched pages use memory.
    std::size_t stack_size = 0;
    // A PROT_NONE guard page under the stack (costs two kernel mappings per
    // process, so off by default; overflow is still detected by a canary).
    bool guard_page = false;
    // Shown by process_info / the console instead of the spawn site.
    const char* label = nullptr;
};

namespace detail {
struct ProcessBody {
    void (*invoke)(void*);
    void (*destroy)(void*) noexcept;
    void* object;
};
enum class SpawnLink : unsigned char { none, link, monitor };
struct SpawnResult {
    Pid pid;
    Ref monitor;
};
OTPP_API SpawnResult spawn(ProcessBody body, const SpawnOptions& options, SpawnLink how,
                           const std::source_location& where);
OTPP_API std::optional<Term> receive(FunctionRef<bool(const Term&)> accept, Timeout timeout);

template <class F>
ProcessBody make_body(F&& fn) {
    using Fn = std::decay_t<F>;
    return ProcessBody{
        [](void* object) { (*static_cast<Fn*>(object))(); },
        [](void* object) noexcept { delete static_cast<Fn*>(object); },
        new Fn(std::forward<F>(fn)),
    };
}
}  // namespace detail

// The pid of the calling process. In a process.
OTPP_API Pid self();

// Starts a new process running fn() and returns its pid at once. Any thread.
template <class F>
Pid spawn(F&& fn, const SpawnOptions& options = {},
          std::source_location where = std::source_location::current()) {
    return detail::spawn(detail::make_body(std::forward<F>(fn)), options, detail::SpawnLink::none,
                         where)
        .pid;
}
// spawn + link, atomically. In a process.
template <class F>
Pid spawn_link(F&& fn, const SpawnOptions& options = {},
               std::source_location where = std::source_location::current()) {
    return detail::spawn(detail::make_body(std::forward<F>(fn)), options, detail::SpawnLink::link,
                         where)
        .pid;
}
// spawn + monitor, atomically. In a process.
template <class F>
std::pair<Pid, Ref> spawn_monitor(F&& fn, const SpawnOptions& options = {},
                                  std::source_location where = std::source_location::current()) {
    auto r = detail::spawn(detail::make_body(std::forward<F>(fn)), options,
                           detail::SpawnLink::monitor, where);
    return {r.pid, r.monitor};
}

// Asynchronous send. Sending to a dead pid does nothing. Any thread.
// Never blocks, with one exception, as in Erlang (busy_dist_port): a process
// that has more than the busy limit (1 MiB by default) of its own messages
// queued for another node, which reads slower than it sends, is suspended
// here until that share is back under the limit or the connection is lost.
// Other processes, and threads, are not held.
OTPP_API void send(Pid to, Term message);
// Send to a registered name; throws BadArg if nothing is registered under it
// (as Erlang's `Name ! Msg`). Any thread.
OTPP_API void send(Atom name, Term message);

// Takes the oldest message; blocks until there is one. In a process.
inline Term receive() {
    return *detail::receive([](const Term&) { return true; }, infinity);
}
// Takes the oldest message, or nullopt after `timeout`. In a process.
inline std::optional<Term> receive(Timeout timeout) {
    return detail::receive([](const Term&) { return true; }, timeout);
}
// Selective receive: takes the oldest message that `pattern` accepts; the
// messages it skips stay queued in order. Blocks until one arrives.
// Example: `receive(match::tuple(Atom("sum"), match::integer))`.
template <match::Pattern P>
Term receive(P&& pattern) {
    return *detail::receive(FunctionRef<bool(const Term&)>(pattern), infinity);
}
template <match::Pattern P>
std::optional<Term> receive(P&& pattern, Timeout timeout) {
    return detail::receive(FunctionRef<bool(const Term&)>(pattern), timeout);
}

// Suspends the calling process for `duration` (like timer:sleep/1). Exit
// signals still reach it. In a process.
OTPP_API void sleep_for(Timeout duration);

// Ends the calling process with `reason`. In a process.
[[noreturn]] OTPP_API void exit(Term reason);
// Sends an exit signal to `pid` (erlang:exit/2). Reason `kill` cannot be
// trapped and kills with reason `killed`. Any thread.
OTPP_API void exit(Pid pid, Term reason);

// Links the caller and `pid`. If pid is dead: a trapping caller gets
// {'EXIT', Pid, noproc}; otherwise the caller exits with noproc. In a process.
OTPP_API void link(Pid pid);
OTPP_API void unlink(Pid pid);

// Monitors `pid`; when it dies the caller gets {'DOWN', Ref, process, Pid,
// Reason}; at once with reason noproc if it is already dead. In a process.
OTPP_API Ref monitor(Pid pid);
enum class Flush : bool { no, yes };
// Removes a monitor; with Flush::yes also removes a {'DOWN', Ref, ...}
// message already queued. Returns false if the monitor was already gone.
OTPP_API bool demonitor(Ref ref, Flush flush = Flush::no);

// process_flag(trap_exit, On): returns the previous value. In a process.
OTPP_API bool trap_exit(bool on);

// register/2: throws BadArg if the name is taken, the process is dead or
// already has a name. unregister/1 throws BadArg if the name is not
// registered. whereis/1 never throws. Any thread. Names are freed when the
// process dies.
OTPP_API void register_name(Atom name, Pid pid);
OTPP_API void unregister_name(Atom name);
OTPP_API std::optional<Pid> whereis(Atom name);

// erlang:send_after/3: delivers `message` after `delay`. Any thread.
OTPP_API Ref send_after(Timeout delay, Pid to, Term message);
OTPP_API Ref send_after(Timeout delay, Atom to, Term message);
// erlang:cancel_timer/1: the time that was left, or nullopt if the timer had
// already fired (its message may be on its way) or never existed. Any thread.
OTPP_API std::optional<Timeout> cancel_timer(Ref timer);

// A new unique reference. Any thread.
OTPP_API Ref make_ref();
// Whether `pid` is a live process. Any thread.
OTPP_API bool is_process_alive(Pid pid);

// Counts one reduction; when the budget is spent, lets other processes run and
// processes pending signals (so a kill takes effect here). Cheap: call it in
// long loops. Outside a process it does nothing.
OTPP_API void yield_point() noexcept(false);
// Gives up the rest of the time slice now. In a process.
OTPP_API void yield();

}  // namespace otpp
