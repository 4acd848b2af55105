// A FIFO of runnable processes: one per scheduler plus the global one.
//
// Round-robin order (oldest first) as on the BEAM, so a process that yields
// goes behind everyone else. Guarded by a spinlock: the owner pushes and pops,
// other schedulers steal half when they run dry, and the watchdog's
// replacement thread may take over a stuck scheduler's queue.
#pragma once

#include "spinlock.hpp"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

namespace otpp::runtime {

class Process;

class RunQueue {
public:
    RunQueue() : ring_(256) {}

    // Returns the length before the push.
    std::size_t push(Process* p) {
        std::lock_guard lock(lock_);
        if (count_ == ring_.size()) grow();
        ring_[(head_ + count_) & (ring_.size() - 1)] = p;
        ++count_;
        size_.store(count_, std::memory_order_relaxed);
        return count_ - 1;
    }

    Process* pop() noexcept {
        if (size_.load(std::memory_order_relaxed) == 0) return nullptr;
        std::lock_guard lock(lock_);
        return pop_locked();
    }

    // Moves up to half of this queue (at least one) into `out`; returns how many.
    std::size_t steal_half(std::vector<Process*>& out) {
        if (size_.load(std::memory_order_relaxed) == 0) return 0;
        std::lock_guard lock(lock_);
        std::size_t n = (count_ + 1) / 2;
        for (std::size_t i = 0; i < n; ++i) out.push_back(pop_locked());
        return n;
    }

    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

private:
    Process* pop_locked() noexcept {
        if (count_ == 0) return nullptr;
        Process* p = ring_[head_];
        head_ = (head_ + 1) & (ring_.size() - 1);
        --count_;
        size_.store(count_, std::memory_order_relaxed);
        return p;
    }
    void grow() {
        std::vector<Process*> bigger(ring_.size() * 2);
        for (std::size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
        ring_.swap(bigger);
        head_ = 0;
    }

    Spinlock lock_;
    std::vector<Process*> ring_;  // capacity is a power of two
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::atomic<std::size_t> size_{0};
};

}  // namespace otpp::runtime
