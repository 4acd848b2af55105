// The process table: pid -> Process, without locks on the lookup path.
//
// Process control blocks live in chunks that are never freed during a run, at
// index `pid.id`; a slot's `serial` grows each time it is reused, and a slot
// whose serial would wrap is retired, so a (id, serial) pair is never reused
// within a run and a stale pid can never reach a new process.
//
// lookup() takes a reference on the slot (try_acquire: only if it is in use)
// and then checks the serial: type-stable memory makes that safe even if the
// process died in between. Thread-safe.
#pragma once

#include "spinlock.hpp"

#include <otpp/term.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

namespace otpp::runtime {

class Process;

class ProcessTable {
public:
    static constexpr uint32_t kChunkBits = 12;
    static constexpr uint32_t kChunkSize = 1u << kChunkBits;
    static constexpr uint32_t kMaxChunks = 4096;  // 16.7M simultaneous processes

    ProcessTable() = default;
    ~ProcessTable();
    ProcessTable(const ProcessTable&) = delete;
    ProcessTable& operator=(const ProcessTable&) = delete;

    // A free slot with its new pid assigned and one reference (the table's).
    Process* allocate();
    // A counted reference to the live process `pid`, or nullptr.
    Process* lookup(Pid pid) noexcept;
    // Called by Process::release() when the last reference goes.
    void recycle(Process* p) noexcept;

    // Asks for the first cache line of slot `id` (for writing), if it exists:
    // a hint, no reference taken.
    void prefetch(uint32_t id) noexcept;
    // Calls f on every slot that currently holds a process (with a reference held).
    void for_each(const std::function<void(Process&)>& f);

    // The pin index: one word per slot saying which module version its live
    // process is pinned to (Process::set_code and the spawn that inherits a
    // pin write it; the exit protocol clears it as the inbox closes), so
    // that finding the processes pinned to a version reads 8 bytes per slot
    // instead of locking every control block (9 ms for 100k processes, on
    // one thread, at the start of every upgrade). A word is the pid's serial
    // (high half) and the version's pin_id << 1 | 1 if the pin is inherited;
    // 0: no pin. Written only by the slot's owner, read by anyone.
    static uint64_t pin_word(uint32_t serial, uint32_t pin_id, bool inherited) noexcept {
        return pin_id ? static_cast<uint64_t>(serial) << 32 | pin_id << 1 | (inherited ? 1 : 0) : 0;
    }
    std::atomic<uint64_t>& pin_slot(uint32_t id) noexcept {
        return pin_chunks_[id >> kChunkBits].load(std::memory_order_acquire)[id & (kChunkSize - 1)];
    }
    // Calls f(pid, inherited) for every live process pinned to `pin_id`, by id.
    template <class F>
    void for_each_pinned(uint32_t pin_id, F&& f) const {
        uint32_t n = fresh_.load(std::memory_order_acquire);
        for (uint32_t first = 0; first < n; first += kChunkSize) {
            const std::atomic<uint64_t>* words = pin_chunks_[first >> kChunkBits].load(std::memory_order_acquire);
            if (!words) continue;  // its first slot is being handed out
            uint32_t end = std::min(kChunkSize, n - first);
            for (uint32_t i = 0; i < end; ++i) {
                uint64_t w = words[i].load(std::memory_order_acquire);
                if (w && static_cast<uint32_t>(w) >> 1 == pin_id)
                    f(Pid{0, first + i, static_cast<uint32_t>(w >> 32)}, (w & 1) != 0);
            }
        }
    }
    std::size_t live() const noexcept { return live_.load(std::memory_order_relaxed); }

private:
    Process* slot(uint32_t id) noexcept;

    std::array<std::atomic<Process*>, kMaxChunks> chunks_{};
    std::array<std::atomic<std::atomic<uint64_t>*>, kMaxChunks> pin_chunks_{};  // published before chunks_
    std::atomic<uint32_t> fresh_{0};  // ids below this have been handed out once
    Spinlock free_lock_;
    std::vector<uint32_t> free_;      // LIFO: reuse warm control blocks first
    std::atomic<std::size_t> live_{0};
    Spinlock grow_lock_;
};

}  // namespace otpp::runtime
