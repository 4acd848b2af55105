// otpp::Runtime: the public face of the kernel for embedders.
#include "kernel.hpp"
#include "process.hpp"

#include <otpp/error.hpp>
#include <otpp/runtime.hpp>

#include <atomic>
#include <cstdio>

namespace otpp {

namespace {
std::atomic<Runtime*> g_runtime{nullptr};
}

Runtime::Runtime(RuntimeOptions options) {
    Runtime* expected = nullptr;
    if (!g_runtime.compare_exchange_strong(expected, this))
        throw BadArg("an otpp::Runtime is already running in this process");
    try {
        kernel_ = std::make_unique<runtime::Kernel>(options);
    } catch (...) {
        g_runtime.store(nullptr);
        throw;
    }
}

Runtime::~Runtime() {
    if (!kernel_->shutdown(kernel_->options().shutdown_grace)) {
        // Threads still run inside stuck processes and use the kernel's memory.
        (void)kernel_.release();
    }
    g_runtime.store(nullptr);
}

void Runtime::shutdown(std::chrono::milliseconds grace) { kernel_->shutdown(grace); }

Runtime* Runtime::current() noexcept { return g_runtime.load(std::memory_order_acquire); }

std::size_t Runtime::process_count() const noexcept { return kernel_->table().live(); }

std::vector<Pid> Runtime::processes() const {
    std::vector<Pid> out;
    kernel_->table().for_each([&](runtime::Process& p) {
        if (p.is_alive()) out.push_back(p.pid());
    });
    return out;
}

std::optional<ProcessInfo> Runtime::process_info(Pid pid) const {
    runtime::Process* p = kernel_->table().lookup(pid);
    if (!p) return std::nullopt;
    std::optional<ProcessInfo> info;
    if (p->is_alive()) info = p->info();
    p->release();
    return info;
}

RuntimeStats Runtime::stats() const {
    RuntimeStats s;
    s.schedulers = static_cast<unsigned>(kernel_->schedulers().size());
    s.replacement_threads = kernel_->replacement_threads();
    for (auto& sched : kernel_->schedulers()) s.run_queue_lengths.push_back(sched->queue().size());
    s.run_queue_lengths.push_back(kernel_->global_queue().size());
    s.process_count = kernel_->table().live();
    s.stack_bytes_reserved = kernel_->stacks().reserved_bytes();
    s.processes_spawned = kernel_->spawned();
    return s;
}

}  // namespace otpp
