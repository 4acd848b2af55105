// Per-scheduler hashed timing wheel (Varghese & Lauck), 1 ms resolution.
//
// Insert and cancel are O(1), which matters because every gen_server call arms
// a receive timeout (5 s by default) that is almost always cancelled a few
// microseconds later. Entries further away than one turn of the wheel stay in
// their bucket and are skipped until their turn comes.
//
// Thread-safety: guarded by a spinlock. The owning scheduler advances it; any
// process cancels its own entry wherever it was armed; a replacement thread
// takes the wheel over with its scheduler.
#pragma once

#include "signal.hpp"
#include "spinlock.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace otpp::runtime {

class Process;

struct TimerEntry : Signal {
    enum class Kind : uint8_t { ReceiveTimeout, SendAfter };
    enum State : uint8_t { Armed, Fired, Cancelled };

    TimerEntry* wheel_next = nullptr;
    TimerEntry* wheel_prev = nullptr;
    class TimerWheel* wheel = nullptr;  // set while linked
    uint64_t expires_ms = 0;
    uint32_t bucket = 0;  // where it was linked
    Kind timer_kind = Kind::ReceiveTimeout;
    // ReceiveTimeout: the waiting process (a counted reference).
    Process* target = nullptr;
    // SendAfter: where the message goes, and a shared state with cancel_timer().
    Pid to_pid;
    std::optional<Atom> to_name;
    std::atomic<uint8_t> state{Armed};
    std::atomic<uint8_t> holders{1};
};

class TimerWheel {
public:
    static constexpr std::size_t kBuckets = 4096;

    explicit TimerWheel(uint64_t now_ms) : current_ms_(now_ms) {}
    ~TimerWheel();

    void insert(TimerEntry* e) noexcept;
    // True if `e` was still armed here and is now unlinked (caller owns it again).
    bool cancel(TimerEntry* e) noexcept;
    // Unlinks every entry due at or before now_ms into `due`.
    void advance(uint64_t now_ms, std::vector<TimerEntry*>& due);
    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

private:
    void link(TimerEntry* e) noexcept;
    void unlink(TimerEntry* e) noexcept;

    Spinlock lock_;
    uint64_t current_ms_;  // every bucket up to here has been processed
    std::array<TimerEntry*, kBuckets> buckets_{};
    std::atomic<std::size_t> size_{0};
};

}  // namespace otpp::runtime
