#include "stack_allocator.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <new>

namespace otpp::runtime {

namespace {
constexpr std::size_t kArenaBytes = 64 * 1024 * 1024;  // per mapping
constexpr std::size_t kPage = 4096;

std::size_t class_size(int cls) { return StackArena::kMinStack << cls; }
}  // namespace

StackArena::~StackArena() {
    for (auto& cls : classes_)
        for (auto& [base, len] : cls.mappings) munmap(base, len);
}

int StackArena::class_of(std::size_t size) noexcept {
    int cls = 0;
    while (cls < kClasses - 1 && class_size(cls) < size) ++cls;
    return class_size(cls) >= size ? cls : -1;
}

void StackArena::grow(SizeClass& cls, std::size_t stack_size) {
    void* base = mmap(nullptr, kArenaBytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    cls.mappings.emplace_back(base, kArenaBytes);
    reserved_.fetch_add(kArenaBytes, std::memory_order_relaxed);
    auto* bytes = static_cast<char*>(base);
    // Push in reverse so the lowest stacks are handed out first.
    for (std::size_t off = kArenaBytes; off >= stack_size; off -= stack_size)
        cls.free.push_back(bytes + off - stack_size);
}

boost::context::stack_context StackArena::allocate(std::size_t size, bool guard_page) {
    boost::context::stack_context sctx;
    if (size < kMinStack) size = kMinStack;
    int cls_index = guard_page ? -1 : class_of(size);
    if (cls_index < 0) {
        // A private mapping: [guard page][usable stack]. The usable size is
        // never a multiple of kMinStack, which is how deallocate() tells a
        // private stack from an arena slot (arena sizes all are).
        std::size_t usable = ((size + kPage - 1) / kPage) * kPage + kPage;
        if (usable % kMinStack == 0) usable += kPage;
        std::size_t len = usable + kPage;
        void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) throw std::bad_alloc();
        mprotect(base, kPage, PROT_NONE);
        if (canaries_) std::memcpy(static_cast<char*>(base) + kPage, &kCanary, sizeof kCanary);
        sctx.size = usable;
        sctx.sp = static_cast<char*>(base) + len;
        reserved_.fetch_add(len, std::memory_order_relaxed);
        in_use_.fetch_add(1, std::memory_order_relaxed);
        return sctx;
    }
    auto& cls = classes_[cls_index];
    std::size_t stack_size = class_size(cls_index);
    void* bottom;
    {
        std::lock_guard lock(cls.mutex);
        if (cls.free.empty()) grow(cls, stack_size);
        bottom = cls.free.back();
        cls.free.pop_back();
    }
    if (canaries_) std::memcpy(bottom, &kCanary, sizeof kCanary);
    sctx.size = stack_size;
    sctx.sp = static_cast<char*>(bottom) + stack_size;
    in_use_.fetch_add(1, std::memory_order_relaxed);
    return sctx;
}

void StackArena::deallocate(boost::context::stack_context& sctx) noexcept {
    in_use_.fetch_sub(1, std::memory_order_relaxed);
    int cls_index = sctx.size % kMinStack == 0 ? class_of(sctx.size) : -1;
    if (cls_index < 0) {
        auto* base = static_cast<char*>(sctx.sp) - sctx.size - kPage;
        munmap(base, sctx.size + kPage);
        reserved_.fetch_sub(sctx.size + kPage, std::memory_order_relaxed);
        return;
    }
    auto& cls = classes_[cls_index];
    std::lock_guard lock(cls.mutex);
    cls.free.push_back(static_cast<char*>(sctx.sp) - sctx.size);
}

bool StackArena::intact(const boost::context::stack_context& sctx, const void* sp) const noexcept {
    auto* top = static_cast<const char*>(sctx.sp);
    auto* bottom = top - sctx.size;
    auto* at = static_cast<const char*>(sp);
    if (at && (at <= bottom || at > top)) return false;
    if (!canaries_) return true;
    uint64_t word;
    std::memcpy(&word, static_cast<const char*>(sctx.sp) - sctx.size, sizeof word);
    return word == kCanary;
}

}  // namespace otpp::runtime
