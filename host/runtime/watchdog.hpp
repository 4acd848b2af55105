// Detects scheduler threads stuck in one process and replaces them.
//
// Every stuck_after/4 it samples each scheduler's switch counter. A scheduler
// that is running a process and whose counter has not moved for stuck_after
// is stuck: the watchdog starts a replacement thread for it (see scheduler.hpp)
// and logs the pid. It never touches processes itself.
#pragma once

#include "futex.hpp"

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace otpp::runtime {

class Kernel;

class Watchdog {
public:
    explicit Watchdog(Kernel& kernel);
    ~Watchdog();  // stops and joins
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

private:
    void loop();

    Kernel& kernel_;
    Futex stop_;
    std::thread thread_;
};

}  // namespace otpp::runtime
