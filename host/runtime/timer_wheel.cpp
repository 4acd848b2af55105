#include "timer_wheel.hpp"

#include <mutex>

namespace otpp::runtime {

TimerWheel::~TimerWheel() {
    // The kernel fires or frees entries before destroying wheels; anything left
    // here belongs to processes that no longer exist.
    for (TimerEntry*& head : buckets_) {
        while (head) {
            TimerEntry* e = head;
            head = e->wheel_next;
            e->wheel = nullptr;
        }
    }
}

void TimerWheel::link(TimerEntry* e) noexcept {
    uint64_t when = e->expires_ms <= current_ms_ ? current_ms_ + 1 : e->expires_ms;
    e->bucket = static_cast<uint32_t>(when % kBuckets);
    TimerEntry*& head = buckets_[e->bucket];
    e->wheel_prev = nullptr;
    e->wheel_next = head;
    if (head) head->wheel_prev = e;
    head = e;
    e->wheel = this;
    size_.fetch_add(1, std::memory_order_relaxed);
}

void TimerWheel::unlink(TimerEntry* e) noexcept {
    if (e->wheel_prev) {
        e->wheel_prev->wheel_next = e->wheel_next;
    } else {
        buckets_[e->bucket] = e->wheel_next;
    }
    if (e->wheel_next) e->wheel_next->wheel_prev = e->wheel_prev;
    e->wheel_next = e->wheel_prev = nullptr;
    e->wheel = nullptr;
    size_.fetch_sub(1, std::memory_order_relaxed);
}

void TimerWheel::insert(TimerEntry* e) noexcept {
    std::lock_guard lock(lock_);
    link(e);
}

bool TimerWheel::cancel(TimerEntry* e) noexcept {
    std::lock_guard lock(lock_);
    if (e->wheel != this) return false;
    unlink(e);
    return true;
}

void TimerWheel::advance(uint64_t now_ms, std::vector<TimerEntry*>& due) {
    std::lock_guard lock(lock_);
    if (now_ms <= current_ms_) return;
    if (size_.load(std::memory_order_relaxed) == 0) {
        current_ms_ = now_ms;
        return;
    }
    uint64_t from = current_ms_ + 1;
    uint64_t to = now_ms - current_ms_ >= kBuckets ? from + kBuckets - 1 : now_ms;
    for (uint64_t t = from; t <= to; ++t) {
        TimerEntry* e = buckets_[t % kBuckets];
        while (e) {
            TimerEntry* next = e->wheel_next;
            if (e->expires_ms <= now_ms) {
                unlink(e);
                due.push_back(e);
            }
            e = next;
        }
    }
    current_ms_ = now_ms;
}

}  // namespace otpp::runtime
