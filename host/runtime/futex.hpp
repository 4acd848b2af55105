// Timed sleeping on a 32-bit word, for parked scheduler threads and for plain
// threads that act as processes (ScopedProcess).
//
// C++20's atomic::wait has no timeout; timers need one, so this is the Linux
// futex directly. Wakers never block: wake() is a single syscall.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace otpp::runtime {

class Futex {
public:
    using Clock = std::chrono::steady_clock;

    // Sleeps while the word equals `expected`, until woken or `deadline`.
    // Spurious returns are allowed: callers re-check their condition.
    void wait(uint32_t expected, Clock::time_point deadline) noexcept;
    void wait(uint32_t expected) noexcept { wait(expected, Clock::time_point::max()); }
    void wake_one() noexcept;
    void wake_all() noexcept;

    std::atomic<uint32_t> word{0};
};

}  // namespace otpp::runtime
