// The runtime: scheduler threads, the process table, names and timers of one
// host. Embedders (otpp-host, tests, benchmarks) create exactly one Runtime;
// plugins never do. Creating a second one while one is running throws.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <otpp/export.hpp>
#include <otpp/process_info.hpp>
#include <otpp/term.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace otpp {

namespace runtime { class Kernel; }

struct RuntimeOptions {
    // Scheduler threads; 0 means one per core.
    unsigned schedulers = 0;
    // Default fiber stack per process (see SpawnOptions::stack_size).
    std::size_t default_stack_size = 64 * 1024;
    // Check a canary word at the bottom of every stack at every switch (see
    // host/runtime/stack_allocator.hpp). Costs one resident page per process.
    bool stack_canaries = false;
    // Reductions a process may use before it is put back in its run queue.
    uint32_t reductions_per_slice = 4000;
    // A scheduler thread that has run one process this long without a switch is
    // declared stuck: a fresh thread takes over its run queue and timers, and the
    // stuck thread retires once its process finally yields. See ARCHITECTURE.md.
    std::chrono::milliseconds stuck_after{20};
    // Upper bound on threads started to replace stuck ones (0 = never replace).
    unsigned max_replacement_threads = 64;
    // How long the destructor's shutdown() waits for processes to unwind.
    std::chrono::milliseconds shutdown_grace{5000};
};

struct RuntimeStats {
    unsigned schedulers = 0;
    unsigned replacement_threads = 0;       // started so far to replace stuck ones
    std::vector<std::size_t> run_queue_lengths;  // per scheduler, then the global queue last
    std::size_t process_count = 0;
    std::size_t stack_bytes_reserved = 0;   // virtual
    std::uint64_t processes_spawned = 0;
};

class OTPP_API Runtime {
public:
    explicit Runtime(RuntimeOptions options = {});
    ~Runtime();  // shutdown(), then frees everything
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    // Kills every process (untrappable, reason `killed`), waits up to `grace`
    // for them to unwind, then stops the scheduler threads. Idempotent.
    // Processes stuck in code that never yields cannot be unwound: their threads
    // are abandoned and a warning says which pids.
    void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

    std::size_t process_count() const noexcept;
    std::vector<Pid> processes() const;
    std::optional<ProcessInfo> process_info(Pid pid) const;
    RuntimeStats stats() const;

    // The running runtime, or nullptr.
    static Runtime* current() noexcept;
    runtime::Kernel& kernel() noexcept { return *kernel_; }

private:
    std::unique_ptr<runtime::Kernel> kernel_;
};

}  // namespace otpp
