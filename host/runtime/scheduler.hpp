// One scheduler: a run queue, a timer wheel, and the OS thread that serves them.
//
// The loop, per iteration: fire due timers (every 32 runs, or when idle); take
// a process from the global queue every 61st pick (fairness, as in Go's
// runtime), else from the local queue, else the global queue, else steal half
// of another scheduler's queue; else spin ~20 µs watching for work (a handoff
// that soon arrives then costs no futex round trip), then sleep on a futex
// until woken or the next timer tick. Then resume the process until it yields, blocks or exits.
//
// Stuck threads: a process running code that never yields holds its thread.
// The Watchdog notices (switch counter unchanged for stuck_after) and calls
// replace_thread(): a new thread takes over this scheduler's queue and wheel,
// the epoch moves on, and the old thread retires as soon as its process lets
// go of it. So runnable, waiting and timer-driven processes keep being served;
// only the stuck process's own thread is lost to it.
#pragma once

#include "futex.hpp"
#include "run_queue.hpp"
#include "timer_wheel.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace otpp::runtime {

class Kernel;
class Process;

class Scheduler {
public:
    Scheduler(Kernel& kernel, int index, uint64_t now_ms);
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    int index() const noexcept { return index_; }
    RunQueue& queue() noexcept { return queue_; }
    TimerWheel& wheel() noexcept { return wheel_; }

    // Starts (or, when stuck, replaces) the thread serving this scheduler.
    std::thread start_thread();
    std::thread replace_thread();

    // Wakes the thread if it is parked. Any thread.
    void notify() noexcept;
    bool parked() const noexcept { return parked_.load(std::memory_order_seq_cst); }
    // Parked and past its idle spin: asleep in the futex (notify() then makes
    // a system call).
    bool sleeping() const noexcept { return sleeping_.load(std::memory_order_seq_cst); }

    // For the watchdog and stats.
    uint64_t switches() const noexcept { return switches_.load(std::memory_order_relaxed); }
    Process* running() const noexcept { return running_.load(std::memory_order_relaxed); }
    // The pid of running(), readable without touching the (maybe reused) process.
    Pid running_pid() const noexcept {
        uint64_t v = running_pid_.load(std::memory_order_relaxed);
        return Pid{0, static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)};
    }

private:
    // What one serving thread keeps to itself. Not members: for a moment after
    // a replacement, the stuck thread and its replacement may both be in loop().
    struct ThreadScratch {
        uint64_t picks = 0;
        std::vector<Process*> stolen;
        std::vector<TimerEntry*> due;
    };
    void loop(uint32_t epoch);
    Process* next_process(ThreadScratch& scratch);
    Process* steal(ThreadScratch& scratch);
    void park(ThreadScratch& scratch);
    void run(Process* p, uint32_t epoch);
    void fire_timers(ThreadScratch& scratch);

    Kernel& kernel_;
    const int index_;
    RunQueue queue_;
    TimerWheel wheel_;
    Futex wake_;
    std::atomic<bool> parked_{false};    // idle: spinning or asleep
    std::atomic<bool> sleeping_{false};  // asleep in the futex
    static constexpr std::chrono::microseconds kIdleSpin{20};
    std::atomic<uint32_t> epoch_{0};
    // The watchdog replaced the thread that runs with `epoch` (it leaves the
    // loop after its current process): what it queues, its successor runs.
    bool replaced(uint32_t epoch) const noexcept { return epoch_.load(std::memory_order_acquire) != epoch; }
    std::atomic<uint64_t> switches_{0};
    std::atomic<Process*> running_{nullptr};
    std::atomic<uint64_t> running_pid_{0};
};

}  // namespace otpp::runtime
