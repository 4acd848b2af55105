// A test-and-test-and-set spinlock for critical sections of a few dozen
// instructions (run queues, timer buckets, per-process link sets).
//
// Why not std::mutex: these sections are far shorter than a futex round trip,
// and a scheduler thread must never sleep in the kernel while holding one.
// Never hold a Spinlock across a fiber switch.
#pragma once

#include <atomic>

namespace otpp::runtime {

class Spinlock {
public:
    void lock() noexcept {
        for (;;) {
            if (!locked_.exchange(true, std::memory_order_acquire)) return;
            while (locked_.load(std::memory_order_relaxed)) __builtin_ia32_pause();
        }
    }
    bool try_lock() noexcept {
        return !locked_.load(std::memory_order_relaxed) &&
               !locked_.exchange(true, std::memory_order_acquire);
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

}  // namespace otpp::runtime
