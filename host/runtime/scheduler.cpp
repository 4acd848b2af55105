#include "scheduler.hpp"
#include "thread_name.hpp"

#include "current.hpp"
#include "fiber_switch.hpp"
#include "kernel.hpp"
#include "process.hpp"

#include <cstdio>
#include <cstdlib>
#include <sched.h>


namespace otpp::runtime {


Scheduler::Scheduler(Kernel& kernel, int index, uint64_t now_ms)
    : kernel_(kernel), index_(index), wheel_(now_ms) {}

std::thread Scheduler::start_thread() {
    uint32_t epoch = epoch_.load();
    return std::thread([this, epoch] { loop(epoch); });
}

std::thread Scheduler::replace_thread() {
    uint32_t epoch = epoch_.fetch_add(1) + 1;
    // The stuck thread no longer reports here (it checks the epoch), so the
    // stats start afresh with the new thread.
    running_.store(nullptr, std::memory_order_relaxed);
    return std::thread([this, epoch] { loop(epoch); });
}

void Scheduler::notify() noexcept {
    // The syscall only if the thread really sleeps; a spinning one sees the word.
    if (wake_.word.exchange(1, std::memory_order_seq_cst) == 0 && sleeping_.load(std::memory_order_seq_cst))
        wake_.wake_one();
}

void Scheduler::loop(uint32_t epoch) {
    char name[16];
    std::snprintf(name, sizeof name, "otpp-sched-%d", index_);
    name_this_thread(name);
    set_current_scheduler(this);
    ThreadScratch scratch;
    while (!kernel_.stopping() && epoch_.load(std::memory_order_acquire) == epoch) {
        Process* p = next_process(scratch);
        if (!p) {
            park(scratch);
            continue;
        }
        run(p, epoch);
    }
    // Replaced while stuck: the process we were stuck in may have armed a
    // timer in the wheel, or woken a process onto the queue, after our
    // replacement looked at both and went to sleep for good (an empty wheel
    // means no timeout). Wake it to look again.
    if (epoch_.load(std::memory_order_acquire) != epoch) notify();
    set_current_scheduler(nullptr);
}

Process* Scheduler::next_process(ThreadScratch& scratch) {
    ++scratch.picks;
    if ((scratch.picks & 31) == 0) fire_timers(scratch);
    Process* p = nullptr;
    if (scratch.picks % 61 == 0) p = kernel_.global_queue().pop();
    if (!p) p = queue_.pop();
    if (!p) {
        fire_timers(scratch);
        p = queue_.pop();
    }
    if (!p) p = kernel_.global_queue().pop();
    if (!p) p = steal(scratch);
    return p;
}

Process* Scheduler::steal(ThreadScratch& scratch) {
    auto& all = kernel_.schedulers();
    std::size_t n = all.size();
    for (std::size_t i = 1; i < n; ++i) {
        Scheduler& victim = *all[(static_cast<std::size_t>(index_) + i) % n];
        scratch.stolen.clear();
        if (victim.queue().steal_half(scratch.stolen) == 0) continue;
        for (std::size_t k = 1; k < scratch.stolen.size(); ++k) queue_.push(scratch.stolen[k]);
        return scratch.stolen[0];
    }
    return nullptr;
}

void Scheduler::park(ThreadScratch& scratch) {
    parked_.store(true, std::memory_order_seq_cst);
    kernel_.idle_schedulers().fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Dekker with make_runnable(): it pushes then reads the idle count; we
    // publish the idle count then look at the queues. One of us sees the other.
    auto has_work = [this] {
        if (queue_.size() > 0 || kernel_.global_queue().size() > 0) return true;
        for (auto& s : kernel_.schedulers())
            if (s.get() != this && s->queue().size() > 0) return true;
        return false;
    };
    bool work = has_work();
    // Spin briefly before sleeping (as the BEAM's schedulers do): work handed
    // over within kIdleSpin then costs neither side a futex round trip, which
    // on a VM is tens of microseconds.
    if (!work) {
        auto until = std::chrono::steady_clock::now() + kIdleSpin;
        for (unsigned i = 1; wake_.word.load(std::memory_order_acquire) == 0; ++i) {
            __builtin_ia32_pause();
            if ((i & 63) == 0) {
                // Let a thread that waits for this core (a distribution
                // connection's reader or writer, another scheduler) run now
                // rather than after the spin: measured, two nodes on 2 cores
                // lost ~20 us per message hand-off to the spin otherwise.
                sched_yield();
                if (has_work() || kernel_.stopping()) {
                    work = true;
                    break;
                }
                if (std::chrono::steady_clock::now() > until) break;
            }
        }
    }
    if (!work && !kernel_.stopping() && wake_.word.load(std::memory_order_acquire) == 0) {
        auto deadline = wheel_.size() > 0
                            ? std::chrono::steady_clock::now() + std::chrono::milliseconds(1)
                            : std::chrono::steady_clock::time_point::max();
        sleeping_.store(true, std::memory_order_seq_cst);
        wake_.wait(0, deadline);
        sleeping_.store(false, std::memory_order_relaxed);
    }
    wake_.word.store(0, std::memory_order_relaxed);
    kernel_.idle_schedulers().fetch_sub(1, std::memory_order_seq_cst);
    parked_.store(false, std::memory_order_relaxed);
    fire_timers(scratch);
}

void Scheduler::fire_timers(ThreadScratch& scratch) {
    if (wheel_.size() == 0) return;
    scratch.due.clear();
    wheel_.advance(kernel_.now_ms(), scratch.due);
    for (TimerEntry* e : scratch.due) kernel_.fire(e);
}

void Scheduler::run(Process* p, uint32_t epoch) {
    running_pid_.store(static_cast<uint64_t>(p->pid().serial) << 32 | p->pid().id, std::memory_order_relaxed);
    running_.store(p, std::memory_order_relaxed);
    p->status_.store(ProcessStatus::running, std::memory_order_relaxed);
    p->last_scheduler_.store(index_, std::memory_order_relaxed);
    const int32_t budget = static_cast<int32_t>(kernel_.options().reductions_per_slice);
    p->reductions_left_ = budget;
    set_current_process(p);

    if (!p->started_.load(std::memory_order_relaxed)) {
        p->started_.store(true, std::memory_order_relaxed);
        p->context_ = boost::context::fiber(
            std::allocator_arg, ArenaStackAllocator(kernel_.stacks(), p->stack_size_, p->guard_page_, &p->stack_),
            [p](boost::context::fiber&& caller) {
                fiber_switch::arrived_in_process(p->sanitizer_);
                p->caller_ = std::move(caller);
                p->switch_reason_ = p->run_body() ? SwitchReason::Exited : SwitchReason::Hibernated;
                fiber_switch::leave_process(p->sanitizer_, true);
                return std::move(p->caller_);
            });
    }
    fiber_switch::enter_process(p->sanitizer_, static_cast<char*>(p->stack_.sp) - p->stack_.size,
                                p->stack_.size);
    p->context_ = std::move(p->context_).resume();
    const bool fiber_ended = p->switch_reason_ == SwitchReason::Exited ||
                             p->switch_reason_ == SwitchReason::Abandoned ||
                             p->switch_reason_ == SwitchReason::Hibernated;
    fiber_switch::arrived_in_scheduler(p->sanitizer_, fiber_ended);

    set_current_process(nullptr);
    if (epoch_.load(std::memory_order_relaxed) == epoch) {  // else a replacement owns the stats
        running_.store(nullptr, std::memory_order_relaxed);
        switches_.fetch_add(1, std::memory_order_relaxed);
    }
    int32_t used = budget - p->reductions_left_;
    p->reductions_.store(p->reductions_.load(std::memory_order_relaxed) + static_cast<uint64_t>(used > 0 ? used : 0),
                         std::memory_order_relaxed);

    if (!fiber_ended && !kernel_.stacks().intact(p->stack_, p->switch_sp_)) {
        std::fprintf(stderr, "otpp: fatal: process %s overflowed its %zu-byte stack "
                             "(spawn it with a larger SpawnOptions::stack_size)\n",
                     Term(p->pid()).to_string().c_str(), p->stack_size_);
        std::abort();
    }

    switch (p->switch_reason_) {
        case SwitchReason::Yield:
            p->status_.store(ProcessStatus::runnable, std::memory_order_relaxed);
            if (queue_.push(p) > 0) kernel_.wake_idle_scheduler();
            else if (replaced(epoch)) notify();  // we leave: our replacement must run it
            break;
        case SwitchReason::Hibernated:
            // Its fiber (and stack) are gone; the next run starts a new one.
            p->started_.store(false, std::memory_order_relaxed);
            [[fallthrough]];
        case SwitchReason::Block:
            // Only now, with its context saved, may the process be woken.
            p->status_.store(ProcessStatus::waiting, std::memory_order_relaxed);
            if (!p->inbox_.try_block()) {
                p->status_.store(ProcessStatus::runnable, std::memory_order_relaxed);
                queue_.push(p);
                if (replaced(epoch)) notify();  // as above
            }
            break;
        case SwitchReason::Abandoned:
            // Destroying the suspended fiber would unwind it (Boost's
            // forced_unwind), which the body's catch (...) would swallow again.
            leak_on_purpose(new boost::context::fiber(std::move(p->context_)));
            [[fallthrough]];
        case SwitchReason::Exited:
            kernel_.process_exited(p);
            break;
    }
}

}  // namespace otpp::runtime
