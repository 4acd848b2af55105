#include "watchdog.hpp"
#include "thread_name.hpp"

#include "kernel.hpp"
#include "process.hpp"

#include <cstdio>

namespace otpp::runtime {

Watchdog::Watchdog(Kernel& kernel) : kernel_(kernel), thread_([this] { loop(); }) {}

Watchdog::~Watchdog() {
    stop_.word.store(1, std::memory_order_release);
    stop_.wake_all();
    thread_.join();
}

void Watchdog::loop() {
    name_this_thread("otpp-watchdog");
    using Clock = std::chrono::steady_clock;
    const auto threshold = kernel_.options().stuck_after;
    const auto tick = std::max(std::chrono::milliseconds(1), threshold / 4);
    struct Seen {
        uint64_t switches = 0;
        Process* running = nullptr;
        Clock::time_point since;
    };
    std::vector<Seen> seen(kernel_.schedulers().size());
    while (stop_.word.load(std::memory_order_acquire) == 0) {
        stop_.wait(0, Clock::now() + tick);
        auto now = Clock::now();
        for (std::size_t i = 0; i < seen.size(); ++i) {
            Scheduler& s = *kernel_.schedulers()[i];
            uint64_t switches = s.switches();
            Process* running = s.running();
            if (!running || switches != seen[i].switches || running != seen[i].running) {
                seen[i] = {switches, running, now};
                continue;
            }
            if (now - seen[i].since < threshold) continue;
            if (kernel_.replacement_threads() >= kernel_.options().max_replacement_threads) continue;
            // Stuck: hand its queue and timers to a fresh thread.
            std::fprintf(stderr,
                         "otpp: scheduler %zu stuck for %lld ms in %s (code that never yields); "
                         "a replacement thread takes over its queue\n",
                         i, static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(now - seen[i].since).count()),
                         Term(s.running_pid()).to_string().c_str());
            kernel_.count_replacement();
            kernel_.adopt_thread(s.replace_thread());
            seen[i] = {switches, nullptr, now};
        }
    }
}

}  // namespace otpp::runtime
