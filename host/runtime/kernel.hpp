// The kernel: everything one Runtime owns, and the operations that need more
// than one part of it (spawn, wakeups, timers, shutdown).
//
// Layout of the runtime (one concern per file):
//   process.*        control block, mailbox, signal handling, exit protocol
//   inbox.hpp        lock-free signal queue with blocked/closed states
//   process_table.*  pid -> process, lock-free lookups
//   registry.*       registered names
//   scheduler.*      run queues, the scheduling loop, stealing, parking
//   timer_wheel.*    receive timeouts and send_after
//   watchdog.*       stuck-scheduler detection and thread replacement
//   stack_allocator.*  fiber stacks for a million processes
//   process_api.cpp  the SDK's free functions (otpp/process.hpp)
#pragma once

#include "process_table.hpp"
#include "../code/module_table.hpp"
#include "registry.hpp"
#include "remote.hpp"
#include "scheduler.hpp"
#include "stack_allocator.hpp"
#include "watchdog.hpp"

#include <otpp/process.hpp>
#include <otpp/runtime.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace otpp::runtime {

class OTPP_API Kernel {  // exported for the host's own libraries (host/dist)
public:
    explicit Kernel(const RuntimeOptions& options);
    ~Kernel();
    Kernel(const Kernel&) = delete;
    Kernel& operator=(const Kernel&) = delete;

    const RuntimeOptions& options() const noexcept { return options_; }
    ProcessTable& table() noexcept { return table_; }
    Registry& registry() noexcept { return registry_; }
    StackArena& stacks() noexcept { return stacks_; }
    code::ModuleTable& modules() noexcept { return modules_; }

    // --- processes ---
    detail::SpawnResult spawn(detail::ProcessBody body, const SpawnOptions& options,
                              detail::SpawnLink how, const std::source_location& where);
    // Puts a process that was waiting (or is new) into a run queue.
    void make_runnable(Process* p) noexcept;
    // The scheduler saw `p` finish; drops the table's reference.
    void process_exited(Process* p) noexcept;
    // Sends a signal from `from` to `to`; false if `to` is dead (s is then deleted).
    bool send_signal(Pid to, Signal* s) noexcept;
    // The same message from `from` to each of [begin, end), as send_signal
    // would, but in batches: the batch's control blocks are prefetched
    // together and the woken processes made runnable together, so that the
    // cache misses of a burst overlap. Throws std::bad_alloc (those told so
    // far are still woken).
    void send_many(const Pid* begin, const Pid* end, Pid from, const Term& message);
    Ref make_ref() noexcept;

    // --- distribution ---
    // Set once the node is distributed (host/dist/), cleared before it stops.
    void set_remote(Remote* remote) noexcept { remote_.store(remote, std::memory_order_release); }
    Remote* remote() const noexcept { return remote_.load(std::memory_order_acquire); }

    // --- time and timers ---
    uint64_t now_ms() const noexcept;
    uint64_t to_ms(std::chrono::steady_clock::time_point t) const noexcept;
    Ref send_after(std::chrono::milliseconds delay, Pid to_pid, std::optional<Atom> to_name, Term msg);
    std::optional<std::chrono::milliseconds> cancel_timer(Ref ref);
    void fire(TimerEntry* e) noexcept;  // a due entry, off the wheel's lock

    // --- scheduling ---
    RunQueue& global_queue() noexcept { return global_; }
    std::vector<std::unique_ptr<Scheduler>>& schedulers() noexcept { return schedulers_; }
    void wake_idle_scheduler() noexcept;
    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
    std::atomic<int>& idle_schedulers() noexcept { return idle_; }
    void adopt_thread(std::thread t);  // threads to join at shutdown
    unsigned replacement_threads() const noexcept { return replacements_.load(); }
    void count_replacement() noexcept { replacements_.fetch_add(1); }

    // False if some process could not be unwound: its thread still runs, so the
    // kernel's memory must then outlive this call (the Runtime leaks it).
    bool shutdown(std::chrono::milliseconds grace);
    uint64_t spawned() const noexcept { return spawned_.load(std::memory_order_relaxed); }

private:
    RuntimeOptions options_;
    std::chrono::steady_clock::time_point epoch_;
    ProcessTable table_;
    Registry registry_;
    StackArena stacks_{options_.stack_canaries};
    code::ModuleTable modules_;
    RunQueue global_;
    std::vector<std::unique_ptr<Scheduler>> schedulers_;
    std::atomic<int> idle_{0};
    std::atomic<bool> stopping_{false};
    std::atomic<uint64_t> next_ref_{1};
    std::atomic<Remote*> remote_{nullptr};
    std::atomic<uint64_t> spawned_{0};
    std::atomic<unsigned> replacements_{0};

    std::mutex threads_mutex_;
    std::vector<std::thread> threads_;
    std::unique_ptr<Watchdog> watchdog_;

    Spinlock timers_lock_;
    std::unordered_map<uint64_t, TimerEntry*> send_timers_;  // ref id -> entry (holds one count)
    bool shut_down_ = false;
    bool clean_ = true;
};

}  // namespace otpp::runtime
