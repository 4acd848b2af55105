#include "process_table.hpp"

#include "process.hpp"

#include <otpp/error.hpp>

#include <mutex>

namespace otpp::runtime {

ProcessTable::~ProcessTable() {
    for (auto& chunk : chunks_) delete[] chunk.load(std::memory_order_relaxed);
    for (auto& words : pin_chunks_) delete[] words.load(std::memory_order_relaxed);
}

Process* ProcessTable::slot(uint32_t id) noexcept {
    Process* chunk = chunks_[id >> kChunkBits].load(std::memory_order_acquire);
    return chunk ? &chunk[id & (kChunkSize - 1)] : nullptr;
}

Process* ProcessTable::allocate() {
    for (;;) {
        uint32_t id;
        bool reused = false;
        {
            std::lock_guard lock(free_lock_);
            if (!free_.empty()) {
                id = free_.back();
                free_.pop_back();
                reused = true;
            }
        }
        if (!reused) {
            id = fresh_.fetch_add(1, std::memory_order_relaxed);
            if (id >= kMaxChunks * kChunkSize) {
                fresh_.fetch_sub(1, std::memory_order_relaxed);
                throw BadArg("system_limit: too many processes");
            }
            uint32_t c = id >> kChunkBits;
            if (!chunks_[c].load(std::memory_order_acquire)) {
                std::lock_guard lock(grow_lock_);
                if (!chunks_[c].load(std::memory_order_relaxed)) {
                    pin_chunks_[c].store(new std::atomic<uint64_t>[kChunkSize](), std::memory_order_release);
                    chunks_[c].store(new Process[kChunkSize], std::memory_order_release);
                }
            }
        }
        Process* p = slot(id);
        uint32_t serial = reused ? p->pid_.serial + 1 : 0;
        if (reused && p->pid_.serial == UINT32_MAX) continue;  // retire the slot for good
        p->pid_ = Pid{0, id, serial};
        live_.fetch_add(1, std::memory_order_relaxed);
        return p;  // the caller initialises it, then publishes refs_ = 1
    }
}

void ProcessTable::prefetch(uint32_t id) noexcept {
    if (id >= fresh_.load(std::memory_order_relaxed)) return;
    if (Process* p = slot(id)) __builtin_prefetch(p, 1);
}

Process* ProcessTable::lookup(Pid pid) noexcept {
    if (pid.node != 0 || pid.id >= fresh_.load(std::memory_order_acquire)) return nullptr;
    Process* p = slot(pid.id);
    if (!p || !p->try_acquire()) return nullptr;
    if (p->pid_.serial != pid.serial) {
        p->release();
        return nullptr;
    }
    return p;
}

void ProcessTable::recycle(Process* p) noexcept {
    live_.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard lock(free_lock_);
    free_.push_back(p->pid_.id);
}

void ProcessTable::for_each(const std::function<void(Process&)>& f) {
    uint32_t n = fresh_.load(std::memory_order_acquire);
    for (uint32_t id = 0; id < n; ++id) {
        Process* p = slot(id);
        if (!p || !p->try_acquire()) continue;
        f(*p);
        p->release();
    }
}

}  // namespace otpp::runtime
