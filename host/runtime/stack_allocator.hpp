// Fiber stacks for a million processes.
//
// Stacks come from arenas: large MAP_NORESERVE mappings carved into equal
// slots, one arena family per size class (16 KiB, 32 KiB, 64 KiB, ... 1 MiB).
// One mapping holds many stacks, so a million processes cost about a thousand
// entries of vm.max_map_count (65530), and only the pages a process touches
// are ever resident. Freed stacks go on a LIFO free list and are reused warm.
//
// Overflow protection: a guard page per stack would cost two mappings per
// stack and hit max_map_count at ~32k processes. Instead:
//   - every time a process switches out, the scheduler checks that its stack
//     pointer is still inside its stack (free: one comparison);
//   - with RuntimeOptions::stack_canaries, a canary word at the lowest address
//     of each stack is checked too, catching overflows that unwound before the
//     switch. It costs one resident page per process (the bottom page is
//     touched), so it is off by default and on in the test suite;
//   - stacks larger than 1 MiB, or asked for with SpawnOptions::guard_page, get
//     their own mapping with a PROT_NONE guard page.
// A detected overflow aborts the host with the pid: memory next to the stack
// may be corrupt, so carrying on would be worse.
//
// Thread-safe: allocate/deallocate may be called from any thread.
#pragma once

#include <boost/context/stack_context.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace otpp::runtime {

class StackArena {
public:
    static constexpr std::size_t kMinStack = 16 * 1024;
    static constexpr std::size_t kMaxArenaStack = 1024 * 1024;
    static constexpr uint64_t kCanary = 0x6f7470705f737461ULL;  // "otpp_sta"

    explicit StackArena(bool canaries) : canaries_(canaries) {}
    StackArena(const StackArena&) = delete;
    StackArena& operator=(const StackArena&) = delete;
    ~StackArena();

    // size is rounded up to the next size class; guard_page forces a private mapping.
    boost::context::stack_context allocate(std::size_t size, bool guard_page = false);
    void deallocate(boost::context::stack_context& sctx) noexcept;

    // False if `sp` (a stack pointer seen at a switch) lies outside the stack,
    // or canaries are on and the one at the bottom was overwritten.
    bool intact(const boost::context::stack_context& sctx, const void* sp) const noexcept;

    std::size_t reserved_bytes() const noexcept { return reserved_.load(std::memory_order_relaxed); }
    std::size_t stacks_in_use() const noexcept { return in_use_.load(std::memory_order_relaxed); }

private:
    static constexpr int kClasses = 7;  // 16K .. 1M
    struct SizeClass {
        std::mutex mutex;
        std::vector<void*> free;   // stack bottoms, LIFO for warm reuse
        std::vector<std::pair<void*, std::size_t>> mappings;
    };
    static int class_of(std::size_t size) noexcept;
    void grow(SizeClass& cls, std::size_t stack_size);

    std::array<SizeClass, kClasses> classes_;
    std::atomic<std::size_t> reserved_{0};
    std::atomic<std::size_t> in_use_{0};
    const bool canaries_;
};

// The allocator object Boost.Context copies into each fiber.
class ArenaStackAllocator {
public:
    // `record` receives the allocated stack (the scheduler checks its canary).
    ArenaStackAllocator(StackArena& arena, std::size_t size, bool guard,
                        boost::context::stack_context* record) noexcept
        : arena_(&arena), size_(size), guard_(guard), record_(record) {}
    boost::context::stack_context allocate() {
        *record_ = arena_->allocate(size_, guard_);
        return *record_;
    }
    void deallocate(boost::context::stack_context& sctx) noexcept { arena_->deallocate(sctx); }

private:
    StackArena* arena_;
    std::size_t size_;
    bool guard_;
    boost::context::stack_context* record_;
};

}  // namespace otpp::runtime
