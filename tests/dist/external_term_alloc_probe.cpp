#include "external_term_alloc_probe.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace otpp::test::alloc_probe {
namespace {
std::atomic<bool> active{false};
std::atomic<std::size_t> largest{0};
std::atomic<std::size_t> total{0};
std::atomic<std::size_t> count{0};

void note(std::size_t n) noexcept {
    if (!active.load(std::memory_order_relaxed)) return;
    total.fetch_add(n, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
    std::size_t cur = largest.load(std::memory_order_relaxed);
    while (n > cur && !largest.compare_exchange_weak(cur, n, std::memory_order_relaxed)) {
    }
}
}  // namespace

void start() noexcept {
    largest.store(0);
    total.store(0);
    count.store(0);
    active.store(true);
}

Stats stop() noexcept {
    active.store(false);
    return {largest.load(), total.load(), count.load()};
}

void* allocate(std::size_t n) {
    note(n);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}

}  // namespace otpp::test::alloc_probe

// The replaceable (unaligned) forms; the aligned ones keep their own pairing.
void* operator new(std::size_t n) { return otpp::test::alloc_probe::allocate(n); }
void* operator new[](std::size_t n) { return otpp::test::alloc_probe::allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return otpp::test::alloc_probe::allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return otpp::test::alloc_probe::allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
