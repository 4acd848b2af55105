// The inbox: a lock-free, multi-producer single-consumer signal stack with two
// extra states folded into its head pointer (the design of CAF's lifo_inbox):
//
//   empty  -- push -->  nodes  -- take_all -->  empty
//   empty  -- try_block (owner) -->  BLOCKED  -- push -->  nodes (+ "wake the owner")
//   any    -- close (owner, at exit) -->  CLOSED   (every later push fails)
//
// One CAS per push both enqueues and tells the sender whether it must wake the
// owner, so a wakeup can neither be lost nor happen twice. Producers push in
// LIFO order; take_all() reverses, so each sender's signals come out in the
// order they were sent.
#pragma once

#include "signal.hpp"

#include <atomic>
#include <cstdint>

namespace otpp::runtime {

class Inbox {
public:
    enum class PushResult { Queued, QueuedWakeOwner, Closed };

    PushResult push(Signal* s) noexcept {
        // Acquire even when the push fails: a sender that finds the inbox
        // CLOSED may free what it meant to send (a fired receive timer), and
        // the owner touched that object before closing.
        uintptr_t head = head_.load(std::memory_order_acquire);
        for (;;) {
            if (head == kClosed) return PushResult::Closed;
            s->next = head == kBlocked ? nullptr : reinterpret_cast<Signal*>(head);
            // acq_rel: a push that finds BLOCKED goes on to schedule the owner,
            // so it must acquire everything the owner did before blocking
            // (its saved context above all); free on x86, required by C++.
            if (head_.compare_exchange_weak(head, reinterpret_cast<uintptr_t>(s),
                                            std::memory_order_acq_rel, std::memory_order_acquire))
                return head == kBlocked ? PushResult::QueuedWakeOwner : PushResult::Queued;
        }
    }

    // Owner only. Returns the queued signals oldest first (nullptr if none).
    Signal* take_all() noexcept {
        uintptr_t head = head_.load(std::memory_order_relaxed);
        if (head == kEmpty || head == kBlocked || head == kClosed) return nullptr;
        head = head_.exchange(kEmpty, std::memory_order_acquire);
        return reverse(reinterpret_cast<Signal*>(head));
    }

    // Owner only: empty -> BLOCKED. Fails if something is queued.
    bool try_block() noexcept {
        uintptr_t expected = kEmpty;
        return head_.compare_exchange_strong(expected, kBlocked, std::memory_order_acq_rel,
                                             std::memory_order_relaxed);
    }
    // Owner only: BLOCKED -> empty (a timed wait gave up). Fails if a sender
    // got there first; that sender is now waking us.
    bool try_unblock() noexcept {
        uintptr_t expected = kBlocked;
        return head_.compare_exchange_strong(expected, kEmpty, std::memory_order_acq_rel,
                                             std::memory_order_relaxed);
    }

    // Owner only, once: refuse all further pushes; returns what was queued.
    Signal* close() noexcept {
        uintptr_t head = head_.exchange(kClosed, std::memory_order_acq_rel);
        if (head == kEmpty || head == kBlocked || head == kClosed) return nullptr;
        return reverse(reinterpret_cast<Signal*>(head));
    }

    // Any thread; a hint (used at yield points and by process_info).
    bool has_signals() const noexcept { return head_.load(std::memory_order_relaxed) > kClosed; }
    bool closed() const noexcept { return head_.load(std::memory_order_relaxed) == kClosed; }
    bool blocked() const noexcept { return head_.load(std::memory_order_relaxed) == kBlocked; }

    // Owner, when a process slot is reused.
    void reset() noexcept { head_.store(kEmpty, std::memory_order_relaxed); }

private:
    static constexpr uintptr_t kEmpty = 0, kBlocked = 1, kClosed = 2;
    static Signal* reverse(Signal* s) noexcept {
        Signal* out = nullptr;
        while (s) {
            Signal* next = s->next;
            s->next = out;
            out = s;
            s = next;
        }
        return out;
    }
    std::atomic<uintptr_t> head_{kEmpty};
};

}  // namespace otpp::runtime
