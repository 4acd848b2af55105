// One upgrade in progress, shared by the coordinator (upgrade.cpp) and the
// processes it migrates (the GenServer engine). Host-owned: nothing here has
// code in a plugin.
//
// The conversation, all messages in the processes' own mailboxes so that a
// migration happens between two callbacks and never overtakes a message:
//
//   atomic:  coordinator -> each: {'$system', Id, prepare}
//            each builds its new state beside the old one, records itself
//            here (prepared or failed) and waits, suspended, for
//            coordinator -> each: {'$system', Id, commit | abort}
//            A process that fails tells the coordinator: {Id, failed}; the
//            coordinator counts the prepared ones (every millisecond).
//   rolling: coordinator -> one: {'$system', Id, migrate}
//            it converts and switches at once, then answers {Id, done}.
//
// A process that gets its message after the coordinator has given up (a
// deadline passed) finds the phase changed and does nothing: the phase is
// checked and the process's result recorded under one lock, its shard's.
//
// The results are sharded by scheduler: a process records itself in the
// shard of the scheduler it runs on, under that shard's lock, so that 100k
// processes on several cores do not fight over one lock, one counter and one
// set of vectors. The phase changes only with every shard's lock held
// (AllShards), so whichever shard a process locks, it sees the phase and its
// record stands or falls with the decision exactly as under a single lock.
#pragma once

#include "module_version.hpp"
#include "upgrade.hpp"

#include "../runtime/current.hpp"
#include "../runtime/scheduler.hpp"
#include "../runtime/spinlock.hpp"

#include <otpp/term.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace otpp::code {

// Shards per record: at least the schedulers of a small machine; schedulers
// beyond that share shards (index modulo).
inline constexpr std::size_t kMigrationShards = 16;

// The shard for the calling thread: its scheduler's index (0 off a scheduler).
inline std::size_t migration_shard_here() noexcept {
    runtime::Scheduler* s = runtime::current_scheduler();
    return s ? static_cast<std::size_t>(s->index()) % kMigrationShards : 0;
}

struct Migration {
    // open: processes may still migrate; then committed or aborted (atomic) or
    // finished (rolling): a process arriving late does nothing.
    enum class Phase { open, committed, aborted, finished };

    Ref id;
    UpgradeMode mode = UpgradeMode::atomic;
    std::shared_ptr<const ModuleVersion> from;
    std::shared_ptr<const ModuleVersion> to;
    bool downgrade = false;
    Term old_vsn;   // what code_change receives: <<"1.0.0">> or {down, <<"2.0.0">>}
    Term to_vsn;    // downgrade's first argument: <<"1.0.0">>
    Term extra;
    Pid coordinator;

    struct Failure {
        ProcessFailure failure;
        uint64_t seq;  // the order failures were recorded in (the report names the first)
    };
    // Each a cache line of its own: a process takes its shard's lock twice
    // for a few instructions; no other core touches it meanwhile.
    struct alignas(64) Shard {
        runtime::Spinlock lock;
        std::vector<Pid> prepared;
        std::vector<Pid> migrated;
        std::vector<Failure> failed;
        std::vector<uint32_t> suspended_us;  // per migrated process
    };
    std::array<Shard, kMigrationShards> shards;

    // The shard a process records itself in (see migration_shard_here()).
    Shard& shard_here() noexcept { return shards[migration_shard_here()]; }

    // Written only with every shard's lock held (AllShards); read under any
    // one of them. Atomic so that a hint may also be read without a lock.
    std::atomic<Phase> phase{Phase::open};
    std::atomic<uint64_t> failure_seq{0};

    // The new version as the migrated processes pin it: one holder per shard
    // (each its own reference count, all keeping `to` loaded), so that 100k
    // processes taking a pin do not all bump one count from every core.
    // Filled by the coordinator before the first process is told.
    std::array<std::shared_ptr<const ModuleVersion>, kMigrationShards> to_pins;
    void make_pins() {
        for (auto& pin : to_pins) {
            auto holder = std::make_shared<std::shared_ptr<const ModuleVersion>>(to);
            pin = std::shared_ptr<const ModuleVersion>(holder, to.get());
        }
    }
    const std::shared_ptr<const ModuleVersion>& pin_here() const noexcept {
        return to_pins[migration_shard_here()];
    }

    // Every shard locked, in order: the phase may change; the results are stable.
    class AllShards {
    public:
        explicit AllShards(Migration& m) noexcept : m_(m) {
            for (auto& s : m_.shards) s.lock.lock();
        }
        ~AllShards() {
            for (auto& s : m_.shards) s.lock.unlock();
        }
        AllShards(const AllShards&) = delete;
        AllShards& operator=(const AllShards&) = delete;

    private:
        Migration& m_;
    };

    // How many have prepared / switched so far (each shard locked in turn:
    // the counts only grow while the coordinator waits for them).
    std::size_t prepared_count() noexcept {
        std::size_t n = 0;
        for (auto& s : shards) {
            std::lock_guard lock(s.lock);
            n += s.prepared.size();
        }
        return n;
    }
    std::size_t migrated_count() noexcept {
        std::size_t n = 0;
        for (auto& s : shards) {
            std::lock_guard lock(s.lock);
            n += s.migrated.size();
        }
        return n;
    }

    // --- with AllShards held ---
    void set_phase(Phase p) noexcept { phase.store(p, std::memory_order_relaxed); }
    // Shard by shard, each in the order its processes prepared; `bounds`
    // (if given) gets where each non-empty shard's part starts, and the end.
    std::vector<Pid> all_prepared(std::vector<std::size_t>* bounds = nullptr) const {
        std::vector<Pid> out;
        all_prepared(out, bounds);
        return out;
    }
    // The same into `out` (emptied first, its capacity kept).
    void all_prepared(std::vector<Pid>& out, std::vector<std::size_t>* bounds = nullptr) const {
        out.clear();
        if (bounds) bounds->assign(1, 0);
        for (auto& s : shards) {
            if (s.prepared.empty()) continue;
            out.insert(out.end(), s.prepared.begin(), s.prepared.end());
            if (bounds) bounds->push_back(out.size());
        }
    }
    std::vector<Pid> all_migrated() const {
        std::vector<Pid> out;
        for (auto& s : shards) out.insert(out.end(), s.migrated.begin(), s.migrated.end());
        return out;
    }
    bool any_failed() const noexcept {
        return std::any_of(shards.begin(), shards.end(), [](const Shard& s) { return !s.failed.empty(); });
    }
    // In the order they were recorded.
    std::vector<ProcessFailure> all_failed() const {
        std::vector<const Failure*> all;
        for (auto& s : shards)
            for (auto& f : s.failed) all.push_back(&f);
        std::sort(all.begin(), all.end(), [](const Failure* a, const Failure* b) { return a->seq < b->seq; });
        std::vector<ProcessFailure> out;
        out.reserve(all.size());
        for (auto* f : all) out.push_back(f->failure);
        return out;
    }
    std::vector<uint32_t> all_suspended_us() const {
        std::vector<uint32_t> out;
        for (auto& s : shards) out.insert(out.end(), s.suspended_us.begin(), s.suspended_us.end());
        return out;
    }

    // For the report, once the record is no longer used: all_migrated() and
    // all_suspended_us() (same order) built in the first shard's vector,
    // which the coordinator reserved for twice its share: for two shards no
    // new block and no copy of the first one.
    std::vector<Pid> take_all_migrated() {
        std::vector<Pid> out = std::move(shards[0].migrated);
        for (std::size_t i = 1; i < shards.size(); ++i)
            out.insert(out.end(), shards[i].migrated.begin(), shards[i].migrated.end());
        return out;
    }
    std::vector<uint32_t> take_all_suspended_us() {
        std::vector<uint32_t> out = std::move(shards[0].suspended_us);
        for (std::size_t i = 1; i < shards.size(); ++i)
            out.insert(out.end(), shards[i].suspended_us.begin(), shards[i].suspended_us.end());
        return out;
    }

    // --- under a shard's lock (or AllShards) ---
    void record_failure(Shard& s, ProcessFailure f) {
        s.failed.push_back({std::move(f), failure_seq.fetch_add(1, std::memory_order_relaxed)});
    }
};

}  // namespace otpp::code
