// The process control block.
//
// Ownership and threads
//   A Process lives in a slot of the ProcessTable at a fixed address for the
//   whole run (type-stable memory), so a sender can look a pid up without locks:
//   it takes a reference (refs_ > 0) and then checks the pid still matches.
//   The slot is reused for a new pid only when the last reference is dropped.
//
//   Fields marked [owner] are touched only by the process itself (on its own
//   fiber, whichever thread that runs on) or by the scheduler while the process
//   is switched out. Fields marked [info] are written by the owner under
//   info_lock_ and may be read by any thread under it. Atomics are for anyone.
#pragma once

#include "futex.hpp"
#include "inbox.hpp"
#include "link_set.hpp"
#include "sanitizer_state.hpp"
#include "spinlock.hpp"

#include <otpp/process.hpp>
#include <otpp/process_info.hpp>
#include <otpp/scoped_process.hpp>

#include <boost/context/fiber.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <source_location>
#include <vector>

namespace otpp::code {
struct ModuleVersion;
}

namespace otpp::runtime {

class Kernel;
class Scheduler;
struct TimerEntry;

// Why a process switched back to its scheduler.
// Abandoned: the process swallowed its own exit (catch (...) without rethrow)
// and was cut loose without unwinding; see Process::rethrow_exit().
// Hibernated: the process gave its stack back while waiting (erlang:hibernate):
// its fiber ended, its body will be invoked again on a fresh stack.
enum class SwitchReason : uint8_t { Yield, Block, Exited, Abandoned, Hibernated };

struct MonitorRecord {
    Ref ref;
    Pid other;  // the target (in monitors_) or the watcher (in monitored_by_)
};

class Process {
public:
    Process() = default;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // --- identity and lifetime (any thread) ---
    Pid pid() const noexcept { return pid_; }
    bool try_acquire() noexcept;  // a reference if the slot is in use
    void acquire() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept;      // the last release frees the slot

    // --- signals (any thread) ---
    // Queues `s` (taking ownership) and wakes the process if it was waiting.
    // Returns false if the process is exiting or dead; `s` is then not consumed.
    bool deliver(Signal* s) noexcept;
    // deliver() that leaves the wake to the caller: on `wake` the process
    // was waiting and the caller must make_runnable() it (nobody else will).
    enum class Delivery : uint8_t { queued, wake, closed };
    Delivery deliver_unwoken(Signal* s) noexcept;
    bool is_alive() const noexcept { return !inbox_.closed(); }
    // A ScopedProcess: a plain thread acting as a process (it blocks its thread).
    bool is_thread() const noexcept { return is_thread_; }
    ProcessStatus status() const noexcept { return status_.load(std::memory_order_relaxed); }

    // --- the running process's side [owner] ---
    // Drains the inbox, applying signals; throws ProcessExit if one kills us.
    void process_signals();
    // Selective receive with a deadline (steady clock); nullopt on timeout.
    // With a mark (from mailbox_mark()), only messages that arrived after it
    // are looked at: a reply to a fresh reference cannot be older.
    // `sender`, if given, is set to who sent the message taken (for replies:
    // the process that replied).
    std::optional<Term> receive(FunctionRef<bool(const Term&)> accept,
                                std::chrono::steady_clock::time_point deadline, Signal* mark = nullptr,
                                Pid* sender = nullptr);
    Signal* mailbox_mark() const noexcept { return mbox_tail_; }

    // Reply aliases [owner]: a Reply signal for `ref` becomes a message only
    // while the alias is active, so a late reply after a timeout is dropped.
    void activate_alias(Ref ref) { aliases_.push_back(ref); }
    void deactivate_alias(Ref ref) noexcept;
    // Counts reductions; yields when the slice is spent.
    void consume_reductions(int32_t n);
    void yield();
    // From the hook of compiler-inserted checks in plugin code (defined in
    // preemption.cpp): charges `reductions`, yields when the slice is spent,
    // applies pending signals; a kill that finds no runtime call to unwind
    // from cuts the process loose (cut_loose: exit protocol, stack abandoned).
    void preempt(int32_t reductions) noexcept;
    [[noreturn]] void cut_loose() noexcept;
    [[noreturn]] void die(Term reason);
    // Called where a dying process shows up again after its ProcessExit.
    [[noreturn]] void rethrow_exit();
    // Waits for a message without a stack: unwinds to the body's entry, frees
    // the stack, and invokes the body again when a signal arrives. The body
    // must be written to be re-entered (behaviour engines are).
    [[noreturn]] void hibernate();

    // links / monitors / flags [owner]
    void link(Pid other);
    void unlink(Pid other);
    Ref monitor(Pid target);
    // monitor(process, {Name, Node}) for another node: `stand_in` comes from
    // Remote::name_stand_in(Node); the DOWN names the stand-in.
    Ref monitor_name(Atom name, Pid stand_in);
    bool demonitor(Ref ref, bool flush);
    // A call's monitor, after the server itself replied: the server already
    // dropped its side (forget_watcher), so only ours goes, with no signal.
    // A DOWN already in the mailbox after `mark` is removed.
    void forget_monitor(Ref ref, Signal* mark) noexcept;
    // The server's side of that: drop `watcher`'s monitor `ref` on us.
    void forget_watcher(Ref ref, Pid watcher) noexcept;
    bool set_trap_exit(bool on) noexcept;

    ProcessInfo info() const;  // any thread

    // Warms the cache lines a resume will touch (the registers saved on the
    // process's stack). Called by whoever makes it runnable, so the load
    // overlaps with the waker's own work instead of stalling the switch.
    void prefetch_context() const noexcept {
#if !defined(BOOST_USE_UCONTEXT)
        // With the fcontext backend a suspended fiber is exactly its saved stack pointer.
        static_assert(sizeof(boost::context::fiber) == sizeof(void*));
        const char* sp = *reinterpret_cast<const char* const*>(&context_);
        if (sp)
            for (int line = 0; line < 4; ++line) __builtin_prefetch(sp + 64 * line);
#endif
    }

private:
    friend class Kernel;
    friend class ProcessTable;
    friend class Scheduler;
    friend class ::otpp::ScopedProcess;

    void reset_for_spawn(Kernel& kernel, Pid pid);
    // The fiber's entry, on the process stack. False: the body hibernated.
    bool run_body() noexcept;
    void terminate(Term reason) noexcept;  // the exit protocol
    void log_uncaught(const Term& reason) const noexcept;
    bool apply_signal(Signal* s);    // false: it kills us (reason in pending_exit_)
    void append_message(Signal* s) noexcept;
    bool deliver_as_exit_message(Signal* s) noexcept;  // trap_exit: {'EXIT', From, Reason}
    void unlink_message(Signal* s) noexcept;
    void block(std::chrono::steady_clock::time_point deadline);
    void cancel_receive_timer() noexcept;
    void switch_out(SwitchReason why);
    void send_signal_to(Pid to, SignalKind kind, Term payload = Term(), Ref ref = Ref());
    bool remove_link(Pid other);
    std::size_t memory_estimate() const noexcept;

    // What a sender touches (lookup, push, wake, prefetch) shares the first
    // cache line: with 100k processes every one of these lines is a miss.
    Pid pid_;
    std::atomic<uint32_t> refs_{0};
    Kernel* kernel_ = nullptr;
    Inbox inbox_;
    std::atomic<uint32_t> queued_signals_{0};  // in the inbox, for info
    std::atomic<ProcessStatus> status_{ProcessStatus::runnable};
    bool is_thread_ = false;         // a ScopedProcess: wake its thread, not a fiber
    boost::context::fiber context_;  // [owner] saved context while switched out

    // [owner] mailbox: messages already taken from the inbox, oldest first
    Signal* mbox_head_ = nullptr;
    Signal* mbox_tail_ = nullptr;
    std::atomic<uint32_t> mbox_len_{0};  // atomic only so info() can read it

    // [owner] execution
    boost::context::fiber caller_;   // the scheduler to return to while running
    boost::context::stack_context stack_{};
    SwitchReason switch_reason_ = SwitchReason::Yield;
    const void* switch_sp_ = nullptr;  // where the stack was at the last switch
    int32_t reductions_left_ = 0;
    std::atomic<uint64_t> reductions_{0};
    std::atomic<int> last_scheduler_{-1};
    detail::ProcessBody body_{};
    std::size_t stack_size_ = 0;
    bool guard_page_ = false;
    std::atomic<bool> started_{false};  // has a fiber (false when new or hibernating)
    Futex thread_wake_;
    [[no_unique_address]] SanitizerState sanitizer_;

    // [owner] exit state
    bool trap_exit_ = false;
    bool exiting_ = false;
    bool in_exit_protocol_ = false;  // run_body's cleanup and terminate: never cut loose there
    uint8_t exit_throws_ = 0;
    Term pending_exit_;            // the reason, once a signal decided we die
    Signal* unapplied_ = nullptr;  // signals drained but not applied when we died

    // [owner] active reply aliases (calls in progress; nested calls stack up)
    std::vector<Ref> aliases_;

    // [owner] receive timeout
    TimerEntry* receive_timer_ = nullptr;
    class TimerWheel* receive_timer_wheel_ = nullptr;
    bool timed_out_ = false;

    // [info]
    mutable Spinlock info_lock_;
    LinkSet links_;
    std::vector<MonitorRecord> monitors_;      // ours, on others
    std::vector<MonitorRecord> monitored_by_;  // others', on us
    std::optional<Atom> registered_name_;
    const char* label_ = nullptr;
    std::source_location spawned_at_;

    std::shared_ptr<const code::ModuleVersion> code_;  // [info] the module version it runs
    bool code_inherited_ = false;                       // [info] see PinKind

public:
    // [owner] Pins the process to a module version; nullptr for none.
    // A behaviour engine pins its process as `behaviour`: it can be migrated
    // to another version between callbacks. A process spawned by a pinned
    // process inherits the pin as `inherited`: it may be running the plugin's
    // code (a lambda, a loop), so it keeps that version loaded, but nothing
    // can migrate it; it dies when the version is purged (Erlang's rule for
    // a process running old code).
    enum class PinKind : uint8_t { behaviour, inherited };
    void set_code(std::shared_ptr<const code::ModuleVersion> version, PinKind kind = PinKind::behaviour);
    std::shared_ptr<const code::ModuleVersion> code() const;
    // The version and how it is held, read together (any thread).
    std::pair<const code::ModuleVersion*, PinKind> pin() const;
    // [owner] The callback running now ("handle_call" ...), for the console.
    void set_callback(const char* name) noexcept { callback_.store(name, std::memory_order_relaxed); }

private:
    std::atomic<const char*> callback_{nullptr};

public:

    // Registry support (Kernel only).
    bool claim_name(Atom name) noexcept;
    void drop_name(Atom name) noexcept;
};

}  // namespace otpp::runtime
