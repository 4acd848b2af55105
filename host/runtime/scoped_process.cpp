#include "current.hpp"
#include "kernel.hpp"
#include "process.hpp"

#include <otpp/error.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>

namespace otpp {

ScopedProcess::ScopedProcess() {
    Runtime* rt = Runtime::current();
    if (!rt) throw BadArg("ScopedProcess: no otpp::Runtime is running");
    if (runtime::current_process()) throw BadArg("ScopedProcess: this thread already is a process");
    runtime::Kernel& k = rt->kernel();
    process_ = k.table().allocate();
    process_->reset_for_spawn(k, process_->pid_);
    process_->is_thread_ = true;
    process_->started_.store(true, std::memory_order_relaxed);
    process_->reductions_left_ = static_cast<int32_t>(k.options().reductions_per_slice);
    process_->label_ = "ScopedProcess";
    process_->status_.store(ProcessStatus::running, std::memory_order_relaxed);
    process_->refs_.store(1, std::memory_order_release);
    pid_ = process_->pid_;
    previous_ = nullptr;
    runtime::set_current_process(process_);
}

ScopedProcess::~ScopedProcess() {
    Term reason = atoms::normal;
    if (process_->exiting_) reason = process_->pending_exit_;
    process_->terminate(reason);
    runtime::set_current_process(previous_);
    process_->release();
}

}  // namespace otpp
