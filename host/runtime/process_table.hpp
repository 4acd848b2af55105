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

    // Calls f on every slot that currently holds a process (with a reference held).
    void for_each(const std::function<void(Process&)>& f);
    std::size_t live() const noexcept { return live_.load(std::memory_order_relaxed); }

private:
    Process* slot(uint32_t id) noexcept;

    std::array<std::atomic<Process*>, kMaxChunks> chunks_{};
    std::atomic<uint32_t> fresh_{0};  // ids below this have been handed out once
    Spinlock free_lock_;
    std::vector<uint32_t> free_;      // LIFO: reuse warm control blocks first
    std::atomic<std::size_t> live_{0};
    Spinlock grow_lock_;
};

}  // namespace otpp::runtime
