// Allocation probe for the External Term Format tests: this test executable
// replaces the global operator new/delete (external_term_alloc_probe.cpp) so a
// test can assert that decoding hostile input never asks for huge amounts of
// memory. Counts every thread's allocations while active.
#pragma once

#include <cstddef>

namespace otpp::test::alloc_probe {

struct Stats {
    std::size_t largest = 0;  // largest single request, bytes
    std::size_t total = 0;    // sum of all requests, bytes
    std::size_t count = 0;    // number of requests
};

void start() noexcept;
Stats stop() noexcept;

}  // namespace otpp::test::alloc_probe
