// SmallStack: a LIFO of trivially copyable frames with inline storage.
//
// The iterative algorithms on terms (destroy, compare, hash, print, parse) use
// it instead of recursion so that nesting depth never touches the C stack
// (processes may run on 64 KiB fiber stacks). The common shallow case stays
// allocation-free; deep terms spill to the heap.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace otpp::detail {

template <class T, std::size_t N>
class SmallStack {
    static_assert(std::is_trivially_copyable_v<T>);
    static_assert(std::is_trivially_default_constructible_v<T>);

public:
    SmallStack() noexcept = default;
    SmallStack(const SmallStack&) = delete;
    SmallStack& operator=(const SmallStack&) = delete;

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    T& back() noexcept { return data_[size_ - 1]; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    void pop() noexcept { --size_; }
    T pop_value() noexcept { return data_[--size_]; }
    // Throws std::bad_alloc when growing fails.
    void push(const T& v) {
        if (size_ == cap_) grow();
        data_[size_++] = v;
    }

private:
    void grow() {
        const std::size_t cap = cap_ * 2;
        auto bigger = std::make_unique_for_overwrite<T[]>(cap);
        std::memcpy(bigger.get(), data_, size_ * sizeof(T));
        heap_ = std::move(bigger);
        data_ = heap_.get();
        cap_ = cap;
    }

    T inline_[N];
    std::unique_ptr<T[]> heap_;
    T* data_ = inline_;
    std::size_t size_ = 0;
    std::size_t cap_ = N;
};

}  // namespace otpp::detail
