#include "futex.hpp"

#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace otpp::runtime {

namespace {
long futex(std::atomic<uint32_t>* addr, int op, uint32_t val, const timespec* timeout) {
    return syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), op | FUTEX_PRIVATE_FLAG, val,
                   timeout, nullptr, 0);
}
}  // namespace

void Futex::wait(uint32_t expected, Clock::time_point deadline) noexcept {
    if (deadline == Clock::time_point::max()) {
        futex(&word, FUTEX_WAIT, expected, nullptr);
        return;
    }
    auto now = Clock::now();
    if (deadline <= now) return;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now).count();
    timespec rel{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    futex(&word, FUTEX_WAIT, expected, &rel);
}

void Futex::wake_one() noexcept { futex(&word, FUTEX_WAKE, 1, nullptr); }
void Futex::wake_all() noexcept { futex(&word, FUTEX_WAKE, INT_MAX, nullptr); }

}  // namespace otpp::runtime
