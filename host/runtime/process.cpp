#include "process.hpp"

#include "current.hpp"
#include "fiber_switch.hpp"
#include "kernel.hpp"
#include "../code/module_version.hpp"

#include <otpp/error.hpp>

#include <spdlog/spdlog.h>

#include <cxxabi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <typeinfo>


namespace otpp {
ProcessExit::~ProcessExit() = default;
}

namespace otpp::runtime {

namespace {

Term exit_message(Pid from, const Term& reason) {
    return Term::tuple({atoms::EXIT, from, reason});
}

Term down_message(Ref ref, Pid from, const Term& reason) {
    return Term::tuple({atoms::DOWN, ref, atoms::process, from, reason});
}

std::string demangle(const char* mangled) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                               std::free);
    return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

// {exception, <<"Type: what()">>}: the exception's text is copied into a
// host-owned binary at once, so nothing of a plugin's exception survives it.
Term exception_reason(const std::type_info* type, const char* what) {
    std::string text = type ? demangle(type->name()) : std::string("unknown exception");
    if (what) text += std::string(": ") + what;
    return Term::tuple({atoms::exception, Term::binary(text)});
}

}  // namespace

// ---------------------------------------------------------------- lifetime

bool Process::try_acquire() noexcept {
    uint32_t r = refs_.load(std::memory_order_relaxed);
    while (r != 0)
        if (refs_.compare_exchange_weak(r, r + 1, std::memory_order_acquire, std::memory_order_relaxed))
            return true;
    return false;
}

void Process::release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) kernel_->table().recycle(this);
}

void Process::reset_for_spawn(Kernel& kernel, Pid pid) {
    kernel_ = &kernel;
    pid_ = pid;
    inbox_.reset();
    queued_signals_.store(0, std::memory_order_relaxed);
    status_.store(ProcessStatus::runnable, std::memory_order_relaxed);
    mbox_head_ = mbox_tail_ = nullptr;
    mbox_len_.store(0, std::memory_order_relaxed);
    context_ = {};
    caller_ = {};
    stack_ = {};
    switch_reason_ = SwitchReason::Yield;
    reductions_left_ = 0;
    reductions_.store(0, std::memory_order_relaxed);
    last_scheduler_.store(-1, std::memory_order_relaxed);
    body_ = {};
    stack_size_ = kernel.options().default_stack_size;
    guard_page_ = false;
    started_.store(false, std::memory_order_relaxed);
    is_thread_ = false;
    trap_exit_ = false;
    exiting_ = false;
    in_exit_protocol_ = false;
    pending_exit_ = Term();
    unapplied_ = nullptr;
    receive_timer_ = nullptr;
    receive_timer_wheel_ = nullptr;
    timed_out_ = false;
    aliases_.clear();
    label_ = nullptr;
    spawned_at_ = {};
    std::lock_guard lock(info_lock_);
    links_.clear();
    monitors_.clear();
    monitored_by_.clear();
    registered_name_.reset();
    code_.reset();
    code_inherited_ = false;
    kernel.table().pin_slot(pid_.id).store(0, std::memory_order_release);
    callback_.store(nullptr, std::memory_order_relaxed);
}

void Process::set_code(std::shared_ptr<const code::ModuleVersion> version, PinKind kind) {
    std::shared_ptr<const code::ModuleVersion> previous;  // released outside the lock
    std::lock_guard lock(info_lock_);
    previous = std::move(code_);
    code_ = std::move(version);
    code_inherited_ = kind == PinKind::inherited;
    // A process whose inbox has closed is no longer found by its pin.
    bool indexed = code_ && !inbox_.closed();
    kernel_->table().pin_slot(pid_.id).store(
        indexed ? ProcessTable::pin_word(pid_.serial, code_->pin_id, code_inherited_) : 0, std::memory_order_release);
}

std::pair<const code::ModuleVersion*, Process::PinKind> Process::pin() const {
    std::lock_guard lock(info_lock_);
    return {code_.get(), code_inherited_ ? PinKind::inherited : PinKind::behaviour};
}

std::shared_ptr<const code::ModuleVersion> Process::code() const {
    std::lock_guard lock(info_lock_);
    return code_;
}

// ---------------------------------------------------------------- signals in

Process::Delivery Process::deliver_unwoken(Signal* s) noexcept {
    queued_signals_.fetch_add(1, std::memory_order_relaxed);
    switch (inbox_.push(s)) {
        case Inbox::PushResult::Queued:
            return Delivery::queued;
        case Inbox::PushResult::QueuedWakeOwner:
            return Delivery::wake;
        case Inbox::PushResult::Closed:
            break;
    }
    queued_signals_.fetch_sub(1, std::memory_order_relaxed);
    return Delivery::closed;
}

bool Process::deliver(Signal* s) noexcept {
    queued_signals_.fetch_add(1, std::memory_order_relaxed);
    switch (inbox_.push(s)) {
        case Inbox::PushResult::Queued:
            return true;
        case Inbox::PushResult::QueuedWakeOwner:
            kernel_->make_runnable(this);
            return true;
        case Inbox::PushResult::Closed:
            break;
    }
    queued_signals_.fetch_sub(1, std::memory_order_relaxed);
    return false;
}

void Process::process_signals() {
    if (exiting_) rethrow_exit();
    Signal* list = inbox_.take_all();
    while (list) {
        Signal* s = list;
        list = list->next;
        queued_signals_.fetch_sub(1, std::memory_order_relaxed);
        if (!apply_signal(s)) {
            unapplied_ = list;
            exiting_ = true;
            exit_throws_ = 1;
            throw ProcessExit(pending_exit_);
        }
    }
}

bool Process::remove_link(Pid other) {
    std::lock_guard lock(info_lock_);
    return links_.erase(other);
}

bool Process::apply_signal(Signal* s) {
    switch (s->kind) {
        case SignalKind::Message:
            append_message(s);
            return true;

        case SignalKind::Timeout: {
            auto* e = static_cast<TimerEntry*>(s);
            if (e == receive_timer_) {
                timed_out_ = true;
                receive_timer_ = nullptr;
            }
            e->target = nullptr;  // the reference it held is ours: drop it below
            delete e;
            release();
            return true;
        }

        case SignalKind::Reply: {
            if (std::find(aliases_.begin(), aliases_.end(), s->ref) == aliases_.end()) {
                delete s;  // the caller gave up waiting: drop it, as OTP's aliases do
                return true;
            }
            s->payload = Term::tuple({s->ref, std::move(s->payload)});
            s->kind = SignalKind::Message;
            append_message(s);
            return true;
        }

        case SignalKind::Link: {
            {
                std::lock_guard lock(info_lock_);
                links_.insert(s->from);
            }
            delete s;
            return true;
        }

        case SignalKind::Unlink:
            remove_link(s->from);
            delete s;
            return true;

        case SignalKind::Monitor: {
            std::lock_guard lock(info_lock_);
            monitored_by_.push_back({s->ref, s->from});
        }
            delete s;
            return true;

        case SignalKind::Demonitor: {
            std::lock_guard lock(info_lock_);
            std::erase_if(monitored_by_, [&](const MonitorRecord& m) { return m.ref == s->ref; });
        }
            delete s;
            return true;

        case SignalKind::Down: {
            bool ours;
            {
                std::lock_guard lock(info_lock_);
                ours = std::erase_if(monitors_, [&](const MonitorRecord& m) { return m.ref == s->ref; }) > 0;
            }
            if (!ours) {  // demonitored meanwhile: the DOWN must not show up
                delete s;
                return true;
            }
            s->payload = down_message(s->ref, s->from, s->payload);
            s->kind = SignalKind::Message;
            append_message(s);
            return true;
        }

        case SignalKind::LinkExit: {
            if (!remove_link(s->from)) {  // unlinked meanwhile
                delete s;
                return true;
            }
            if (trap_exit_) return deliver_as_exit_message(s);
            bool normal = s->payload.is_atom(atoms::normal);
            if (!normal) pending_exit_ = std::move(s->payload);
            delete s;
            return normal;
        }

        case SignalKind::Exit: {
            if (s->payload.is_atom(atoms::kill)) {  // untrappable
                pending_exit_ = atoms::killed;
                delete s;
                return false;
            }
            if (trap_exit_) return deliver_as_exit_message(s);
            bool normal = s->payload.is_atom(atoms::normal);
            if (normal && s->from != pid_) {  // exit(Other, normal) is ignored
                delete s;
                return true;
            }
            pending_exit_ = std::move(s->payload);
            delete s;
            return false;
        }
    }
    delete s;
    return true;
}

bool Process::deliver_as_exit_message(Signal* s) noexcept {
    s->payload = exit_message(s->from, s->payload);
    s->kind = SignalKind::Message;
    append_message(s);
    return true;
}

void Process::append_message(Signal* s) noexcept {
    s->next = nullptr;
    s->prev = mbox_tail_;
    if (mbox_tail_) mbox_tail_->next = s;
    else mbox_head_ = s;
    mbox_tail_ = s;
    mbox_len_.store(mbox_len_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Process::unlink_message(Signal* s) noexcept {
    if (s->prev) s->prev->next = s->next;
    else mbox_head_ = s->next;
    if (s->next) s->next->prev = s->prev;
    else mbox_tail_ = s->prev;
    mbox_len_.store(mbox_len_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

// ---------------------------------------------------------------- receive

std::optional<Term> Process::receive(FunctionRef<bool(const Term&)> accept,
                                     std::chrono::steady_clock::time_point deadline, Signal* mark, Pid* sender) {
    consume_reductions(1);
    process_signals();
    Signal* scanned = mark;  // the last message already rejected by `accept` (or known irrelevant)
    timed_out_ = false;
    for (;;) {
        for (Signal* s = scanned ? scanned->next : mbox_head_; s; s = s->next) {
            if (accept(s->payload)) {
                unlink_message(s);
                if (sender) *sender = s->from;
                Term message = std::move(s->payload);
                delete s;
                cancel_receive_timer();
                return message;
            }
            scanned = s;
        }
        if (inbox_.has_signals()) {
            process_signals();
            continue;
        }
        if (timed_out_ || (deadline != std::chrono::steady_clock::time_point::max() &&
                           std::chrono::steady_clock::now() >= deadline)) {
            cancel_receive_timer();
            timed_out_ = false;
            return std::nullopt;
        }
        block(deadline);
        process_signals();
    }
}

void Process::deactivate_alias(Ref ref) noexcept {
    auto it = std::find(aliases_.begin(), aliases_.end(), ref);
    if (it != aliases_.end()) aliases_.erase(it);
}

void Process::cancel_receive_timer() noexcept {
    TimerEntry* e = receive_timer_;
    if (!e) return;
    receive_timer_ = nullptr;
    if (receive_timer_wheel_->cancel(e)) {
        delete e;
        release();  // the entry's reference on us
    }
    // Otherwise it fired: it is on its way to our inbox, and apply_signal()
    // will see it is no longer the armed one and drop it.
}

void Process::block(std::chrono::steady_clock::time_point deadline) {
    using Clock = std::chrono::steady_clock;
    if (is_thread_) {
        thread_wake_.word.store(0, std::memory_order_relaxed);
        if (!inbox_.try_block()) return;
        status_.store(ProcessStatus::waiting, std::memory_order_relaxed);
        for (;;) {
            thread_wake_.wait(0, deadline);
            if (thread_wake_.word.load(std::memory_order_acquire) != 0) break;
            if (deadline != Clock::time_point::max() && Clock::now() >= deadline) {
                if (inbox_.try_unblock()) {
                    timed_out_ = true;
                    break;
                }
                // A sender got in first and is about to wake us: wait for it.
                deadline = Clock::time_point::max();
            }
        }
        status_.store(ProcessStatus::running, std::memory_order_relaxed);
        return;
    }
    if (deadline != Clock::time_point::max() && !receive_timer_) {
        auto* e = new TimerEntry;
        e->kind = SignalKind::Timeout;
        e->timer_kind = TimerEntry::Kind::ReceiveTimeout;
        e->expires_ms = kernel_->to_ms(deadline);
        e->target = this;
        acquire();
        receive_timer_ = e;
        receive_timer_wheel_ = &current_scheduler()->wheel();
        receive_timer_wheel_->insert(e);
    }
    switch_out(SwitchReason::Block);  // the scheduler does the try_block
}

// ---------------------------------------------------------------- scheduling

void Process::switch_out(SwitchReason why) {
    switch_reason_ = why;
    switch_sp_ = __builtin_frame_address(0);
    fiber_switch::leave_process(sanitizer_, why == SwitchReason::Abandoned);
    caller_ = std::move(caller_).resume();
    fiber_switch::arrived_in_process(sanitizer_);
}

void Process::consume_reductions(int32_t n) {
    if (exiting_) rethrow_exit();
    reductions_left_ -= n;
    if (reductions_left_ <= 0) yield();
}

void Process::yield() {
    if (is_thread_) {
        process_signals();
        reductions_left_ = static_cast<int32_t>(kernel_->options().reductions_per_slice);
        return;
    }
    switch_out(SwitchReason::Yield);
    process_signals();
}

void Process::die(Term reason) {
    pending_exit_ = reason;
    exiting_ = true;
    exit_throws_ = 1;
    throw ProcessExit(std::move(reason));
}

void Process::rethrow_exit() {
    if (exit_throws_++ == 0 || is_thread_) throw ProcessExit(pending_exit_);
    // The body caught its ProcessExit and carried on. Erlang exits cannot be
    // caught, so neither can ours: finish the exit protocol here, then leave
    // this stack for good. Its remaining frames are never unwound (their
    // destructors do not run and the stack is not reused): a leak that the
    // log names, in exchange for the guarantee that a kill kills.
    std::fprintf(stderr,
                 "otpp: process %s swallowed its exit (catch (...) without rethrow); "
                 "it is cut loose without unwinding its stack\n",
                 Term(pid_).to_string().c_str());
    leak_on_purpose(body_.object);  // its frames still use the callable
    body_ = {};
    terminate(pending_exit_);
    switch_out(SwitchReason::Abandoned);
    std::abort();  // never resumed
}

bool Process::set_trap_exit(bool on) noexcept {
    std::lock_guard lock(info_lock_);
    return std::exchange(trap_exit_, on);
}

// ---------------------------------------------------------------- links, monitors

void Process::send_signal_to(Pid to, SignalKind kind, Term payload, Ref ref) {
    kernel_->send_signal(to, new Signal(kind, pid_, std::move(payload), ref));
}

void Process::link(Pid other) {
    if (other == pid_) return;
    {
        std::lock_guard lock(info_lock_);
        if (!links_.insert(other)) return;
    }
    if (kernel_->send_signal(other, new Signal(SignalKind::Link, pid_))) return;
    remove_link(other);
    if (trap_exit_) {
        append_message(new Signal(SignalKind::Message, other, exit_message(other, atoms::noproc)));
        return;
    }
    die(atoms::noproc);
}

void Process::unlink(Pid other) {
    if (other == pid_ || !remove_link(other)) return;
    send_signal_to(other, SignalKind::Unlink);
}

Ref Process::monitor(Pid target) {
    Ref ref = kernel_->make_ref();
    if (target == pid_) return ref;  // monitoring yourself: nothing will ever fire
    {
        std::lock_guard lock(info_lock_);
        monitors_.push_back({ref, target});
    }
    if (!kernel_->send_signal(target, new Signal(SignalKind::Monitor, pid_, Term(), ref))) {
        {
            std::lock_guard lock(info_lock_);
            std::erase_if(monitors_, [&](const MonitorRecord& m) { return m.ref == ref; });
        }
        append_message(new Signal(SignalKind::Message, target, down_message(ref, target, atoms::noproc)));
    }
    return ref;
}

Ref Process::monitor_name(Atom name, Pid stand_in) {
    Ref ref = kernel_->make_ref();
    {
        std::lock_guard lock(info_lock_);
        monitors_.push_back({ref, stand_in});
    }
    // The name travels as the signal's payload (dist::Connection sends it).
    if (!kernel_->send_signal(stand_in, new Signal(SignalKind::Monitor, pid_, Term(name), ref))) {
        {
            std::lock_guard lock(info_lock_);
            std::erase_if(monitors_, [&](const MonitorRecord& m) { return m.ref == ref; });
        }
        append_message(new Signal(SignalKind::Message, stand_in, down_message(ref, stand_in, atoms::noproc)));
    }
    return ref;
}

bool Process::demonitor(Ref ref, bool flush) {
    std::optional<Pid> target;
    {
        std::lock_guard lock(info_lock_);
        auto it = std::find_if(monitors_.begin(), monitors_.end(),
                               [&](const MonitorRecord& m) { return m.ref == ref; });
        if (it != monitors_.end()) {
            target = it->other;
            monitors_.erase(it);
        }
    }
    if (target) send_signal_to(*target, SignalKind::Demonitor, Term(), ref);
    if (flush) {
        // A DOWN still in flight is dropped on arrival (the monitor is gone);
        // only one already in the mailbox needs removing.
        for (Signal* s = mbox_head_; s;) {
            Signal* next = s->next;
            const Term& m = s->payload;
            if (m.is_tuple(5) && m[0].is_atom(atoms::DOWN) && m[1].is_ref() && m[1].get<Ref>() == ref) {
                unlink_message(s);
                delete s;
            }
            s = next;
        }
    }
    return target.has_value();
}

void Process::forget_monitor(Ref ref, Signal* mark) noexcept {
    {
        std::lock_guard lock(info_lock_);
        std::erase_if(monitors_, [&](const MonitorRecord& m) { return m.ref == ref; });
    }
    for (Signal* s = mark ? mark->next : mbox_head_; s;) {
        Signal* next = s->next;
        const Term& m = s->payload;
        if (m.is_tuple(5) && m[0].is_atom(atoms::DOWN) && m[1].is_ref() && m[1].get<Ref>() == ref) {
            unlink_message(s);
            delete s;
        }
        s = next;
    }
}

void Process::forget_watcher(Ref ref, Pid watcher) noexcept {
    std::lock_guard lock(info_lock_);
    std::erase_if(monitored_by_, [&](const MonitorRecord& m) { return m.ref == ref && m.other == watcher; });
}

// ---------------------------------------------------------------- names

bool Process::claim_name(Atom name) noexcept {
    std::lock_guard lock(info_lock_);
    if (inbox_.closed() || registered_name_) return false;
    registered_name_ = name;
    return true;
}

void Process::drop_name(Atom name) noexcept {
    std::lock_guard lock(info_lock_);
    if (registered_name_ == name) registered_name_.reset();
}

// ---------------------------------------------------------------- body and exit

namespace {
// Thrown by hibernate() and caught only by run_body: not a std::exception, and
// not a ProcessExit, so nothing in between mistakes it for an error or a kill.
struct Hibernation {};
}  // namespace

void Process::hibernate() {
    if (is_thread_) throw BadArg("hibernate: a ScopedProcess has no stack to give back");
    if (exiting_) rethrow_exit();
    throw Hibernation{};
}

// Erlang logs "Error in process <0.42.0> ... with exit value: ..." when a
// process dies of an error nobody handled; so do we. (Behaviour engines
// catch their callbacks' exceptions and write their own crash reports.)
void Process::log_uncaught(const Term& reason) const noexcept {
    try {
        std::string what;
        {
            std::lock_guard lock(info_lock_);
            if (code_) what = " running " + code_->label();
            if (registered_name_) what += " (" + std::string(registered_name_->name()) + ")";
        }
        spdlog::error("crash report: process {}{} terminated by an uncaught exception: reason {}",
                      Term(pid_).to_string(), what, reason.to_string(500));
    } catch (...) {
        // Logging must never take the runtime down with it.
    }
}

bool Process::run_body() noexcept {
    Term reason = atoms::normal;
    try {
        body_.invoke(body_.object);
        if (exiting_) reason = pending_exit_;  // a kill was caught by the body and ignored
    } catch (const Hibernation&) {
        return false;
    } catch (const ProcessExit& e) {
        reason = e.reason();
    } catch (const std::exception& e) {
        reason = exception_reason(&typeid(e), e.what());
        log_uncaught(reason);
    } catch (...) {
        reason = exception_reason(abi::__cxa_current_exception_type(), nullptr);
        log_uncaught(reason);
    }
    in_exit_protocol_ = true;
    // The callable was created by the spawner's code (maybe a plugin): destroy
    // it now, while that code is certainly still loaded.
    if (body_.destroy) body_.destroy(body_.object);
    body_ = {};
    terminate(std::move(reason));
    return true;
}

void Process::terminate(Term reason) noexcept {
    status_.store(ProcessStatus::exiting, std::memory_order_relaxed);
    exiting_ = true;
    cancel_receive_timer();

    // From here on every signal sent to us fails at the sender, which then
    // acts as if we never existed (noproc). What is already queued was sent
    // while we lived and gets the answer a live process would give.
    Signal* leftover = inbox_.close();
    // Not alive any more: not pinned as far as the code server is concerned
    // (the pin itself goes last, below).
    kernel_->table().pin_slot(pid_.id).store(0, std::memory_order_release);
    for (Signal* list : {unapplied_, leftover}) {
        while (list) {
            Signal* s = list;
            list = list->next;
            switch (s->kind) {
                case SignalKind::Link:
                    send_signal_to(s->from, SignalKind::LinkExit, reason);
                    break;
                case SignalKind::Monitor:
                    send_signal_to(s->from, SignalKind::Down, reason, s->ref);
                    break;
                case SignalKind::Timeout: {
                    auto* e = static_cast<TimerEntry*>(s);
                    e->target = nullptr;
                    delete e;
                    release();
                    continue;
                }
                default:
                    break;
            }
            delete s;
        }
    }
    unapplied_ = nullptr;
    queued_signals_.store(0, std::memory_order_relaxed);
    while (mbox_head_) {
        Signal* s = mbox_head_;
        mbox_head_ = s->next;
        delete s;
    }
    mbox_tail_ = nullptr;
    mbox_len_.store(0, std::memory_order_relaxed);

    std::vector<Pid> links;
    std::vector<MonitorRecord> monitored_by, monitors;
    std::optional<Atom> name;
    {
        std::lock_guard lock(info_lock_);
        links = links_.take();
        monitored_by.swap(monitored_by_);
        monitors.swap(monitors_);
        name = registered_name_;
    }
    if (name) kernel_->registry().erase(*name, pid_);
    for (Pid other : links) send_signal_to(other, SignalKind::LinkExit, reason);
    for (auto& m : monitored_by) send_signal_to(m.other, SignalKind::Down, reason, m.ref);
    for (auto& m : monitors) send_signal_to(m.other, SignalKind::Demonitor, Term(), m.ref);
    pending_exit_ = std::move(reason);
    // Last: the code this process ran may be unloaded once nobody pins it.
    std::shared_ptr<const code::ModuleVersion> pin;
    {
        std::lock_guard lock(info_lock_);
        pin.swap(code_);
    }
}

// ---------------------------------------------------------------- info

std::size_t Process::memory_estimate() const noexcept {
    return sizeof(Process) +
           (mbox_len_.load(std::memory_order_relaxed) + queued_signals_.load(std::memory_order_relaxed)) *
               sizeof(Signal) +
           (started_.load(std::memory_order_relaxed) ? stack_size_ : 0);  // a hibernating process holds no stack
}

ProcessInfo Process::info() const {
    ProcessInfo out;
    out.pid = pid_;
    out.status = status_.load(std::memory_order_relaxed);
    out.message_queue_len =
        mbox_len_.load(std::memory_order_relaxed) + queued_signals_.load(std::memory_order_relaxed);
    out.reductions = reductions_.load(std::memory_order_relaxed);
    out.memory = memory_estimate();
    out.stack_size = stack_size_;
    out.scheduler = last_scheduler_.load(std::memory_order_relaxed);
    std::lock_guard lock(info_lock_);
    out.links = links_.pids();
    for (auto& m : monitors_) out.monitors.push_back(m.other);
    for (auto& m : monitored_by_) out.monitored_by.push_back(m.other);
    out.registered_name = registered_name_;
    out.trap_exit = trap_exit_;
    if (label_) {
        out.initial_call = label_;
    } else if (spawned_at_.file_name()[0]) {
        out.initial_call = std::string(spawned_at_.function_name()) + " (" + spawned_at_.file_name() + ":" +
                           std::to_string(spawned_at_.line()) + ")";
    }
    if (code_) {
        out.module = std::string(code_->name.name());
        out.module_version = code_->version;
    }
    if (const char* cb = callback_.load(std::memory_order_relaxed)) out.current_callback = cb;
    return out;
}

}  // namespace otpp::runtime
