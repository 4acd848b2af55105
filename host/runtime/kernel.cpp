#include "kernel.hpp"

#include "current.hpp"
#include "process.hpp"
#include "../behaviours/builtin_modules.hpp"

#include <otpp/error.hpp>

#include <cstdio>

namespace otpp::runtime {

Kernel::Kernel(const RuntimeOptions& options)
    : options_(options), epoch_(std::chrono::steady_clock::now()), registry_(table_) {
    if (options_.schedulers == 0) options_.schedulers = std::max(1u, std::thread::hardware_concurrency());
    if (options_.reductions_per_slice == 0) options_.reductions_per_slice = 1;
    if (options_.default_stack_size < StackArena::kMinStack) options_.default_stack_size = StackArena::kMinStack;
    for (unsigned i = 0; i < options_.schedulers; ++i)
        schedulers_.push_back(std::make_unique<Scheduler>(*this, static_cast<int>(i), now_ms()));
    modules_.make_current(modules_.static_version(supervisor::builtin_module()));
    modules_.set_pin_finder([this](const code::ModuleVersion* version, std::vector<Pid>& behaviours,
                                   std::vector<Pid>& inherited) {
        // Counted first: reading the words twice costs less than growing a
        // vector of 100k pins (copies, and page faults on each new block).
        std::size_t counts[2] = {0, 0};
        table_.for_each_pinned(version->pin_id, [&](Pid, bool by_spawn) { ++counts[by_spawn]; });
        // (and room for those pinned meanwhile)
        behaviours.reserve(behaviours.size() + counts[0] + 64);
        inherited.reserve(inherited.size() + counts[1] + 64);
        table_.for_each_pinned(version->pin_id,
                               [&](Pid pid, bool by_spawn) { (by_spawn ? inherited : behaviours).push_back(pid); });
    });
    for (auto& s : schedulers_) adopt_thread(s->start_thread());
    watchdog_ = std::make_unique<Watchdog>(*this);
}

Kernel::~Kernel() { shutdown(options_.shutdown_grace); }

// ---------------------------------------------------------------- processes

detail::SpawnResult Kernel::spawn(detail::ProcessBody body, const SpawnOptions& options,
                                  detail::SpawnLink how, const std::source_location& where) {
    Process* parent = current_process();
    if (how != detail::SpawnLink::none && !parent) {
        body.destroy(body.object);
        throw BadArg("spawn_link/spawn_monitor: not in a process");
    }
    if (stopping()) {
        body.destroy(body.object);
        throw BadArg("spawn: the runtime is shutting down");
    }
    Process* p;
    try {
        p = table_.allocate();
    } catch (...) {
        body.destroy(body.object);
        throw;
    }
    p->reset_for_spawn(*this, p->pid_);
    p->body_ = body;
    if (options.stack_size) p->stack_size_ = options.stack_size;
    p->guard_page_ = options.guard_page;
    // The child may run code of the module its parent runs (a lambda from a
    // plugin): it keeps that version loaded. The parent owns its own pin, so
    // reading it needs no lock.
    if (parent && parent->code_) {
        p->code_ = parent->code_;
        p->code_inherited_ = true;
        table_.pin_slot(p->pid_.id).store(ProcessTable::pin_word(p->pid_.serial, p->code_->pin_id, true),
                                          std::memory_order_release);
    }
    p->label_ = options.label;
    p->spawned_at_ = where;

    detail::SpawnResult result{p->pid_, Ref()};
    if (how == detail::SpawnLink::link) {
        p->links_.insert(parent->pid_);
        std::lock_guard lock(parent->info_lock_);
        parent->links_.insert(p->pid_);
    } else if (how == detail::SpawnLink::monitor) {
        result.monitor = make_ref();
        p->monitored_by_.push_back({result.monitor, parent->pid_});
        std::lock_guard lock(parent->info_lock_);
        parent->monitors_.push_back({result.monitor, p->pid_});
    }
    spawned_.fetch_add(1, std::memory_order_relaxed);
    p->refs_.store(1, std::memory_order_release);  // published: lookups may find it now
    make_runnable(p);
    // A spawn costs about as much as ten sends (the BEAM charges it more, too).
    if (parent) parent->consume_reductions(10);
    return result;
}

void Kernel::process_exited(Process* p) noexcept {
    p->status_.store(ProcessStatus::exiting, std::memory_order_relaxed);
    p->release();  // the table's reference
}

void Kernel::make_runnable(Process* p) noexcept {
    if (p->is_thread_) {
        p->thread_wake_.word.store(1, std::memory_order_release);
        p->thread_wake_.wake_one();
        return;
    }
    p->status_.store(ProcessStatus::runnable, std::memory_order_relaxed);
    p->prefetch_context();
    if (Scheduler* s = current_scheduler()) {
        // Keep the woken process next to its waker (message-passing locality);
        // call in another scheduler only when there is more than one thing to do.
        if (s->queue().push(p) > 0) wake_idle_scheduler();
        return;
    }
    global_.push(p);
    wake_idle_scheduler();
}

void Kernel::wake_idle_scheduler() noexcept {
    // Pairs with the fence in Scheduler::park(): our queue push (a plain store
    // under a spinlock) must be visible before we read the idle count.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (idle_.load(std::memory_order_relaxed) == 0) return;
    // A scheduler still spinning sees the work without a system call and
    // within a microsecond; waking a sleeping one costs a futex wake and, on a
    // VM, tens of microseconds. A sleeper only if nobody spins.
    Scheduler* sleeper = nullptr;
    for (auto& s : schedulers_) {
        if (!s->parked()) continue;
        if (!s->sleeping()) {
            s->notify();
            return;
        }
        if (!sleeper) sleeper = s.get();
    }
    if (sleeper) sleeper->notify();
}

bool Kernel::send_signal(Pid to, Signal* s) noexcept {
    if (to.node != 0) {
        // Another node's process: distribution answers for it (asynchronously,
        // as a live process would); without distribution it cannot exist.
        if (Remote* r = remote()) {
            r->route(to, s);
            return true;
        }
        delete s;
        return false;
    }
    Process* p = table_.lookup(to);
    bool ok = p && p->deliver(s);
    if (p) p->release();
    if (!ok) delete s;
    return ok;
}

void Kernel::send_many(const Pid* begin, const Pid* end, Pid from, const Term& message) {
    constexpr std::size_t kBatch = 16;
    Process* woken[kBatch];
    while (begin != end) {
        const Pid* batch_end = begin + std::min<std::size_t>(kBatch, static_cast<std::size_t>(end - begin));
        for (const Pid* p = begin; p != batch_end; ++p)
            if (p->node == 0) table_.prefetch(p->id);
        std::size_t n = 0;
        // Wakes (and releases) the ones told so far, whatever happens next.
        auto wake_all = [&]() noexcept {
            // Their stacks first, all at once: each is a page walk.
            for (std::size_t i = 0; i < n; ++i) woken[i]->prefetch_context();
            for (std::size_t i = 0; i < n; ++i) {
                make_runnable(woken[i]);
                woken[i]->release();
            }
            n = 0;
        };
        for (const Pid* to = begin; to != batch_end; ++to) {
            Signal* s = new (std::nothrow) Signal(SignalKind::Message, from, message);
            if (!s) {
                wake_all();
                throw std::bad_alloc();
            }
            if (to->node != 0) {
                send_signal(*to, s);
                continue;
            }
            Process* p = table_.lookup(*to);
            if (!p) {
                delete s;
                continue;
            }
            switch (p->deliver_unwoken(s)) {
                case Process::Delivery::wake:
                    woken[n++] = p;
                    continue;
                case Process::Delivery::queued:
                    break;
                case Process::Delivery::closed:
                    delete s;
                    break;
            }
            p->release();
        }
        wake_all();
        begin = batch_end;
    }
}

Ref Kernel::make_ref() noexcept { return Ref{0, next_ref_.fetch_add(1, std::memory_order_relaxed)}; }

// ---------------------------------------------------------------- time and timers

// The wheel advances to the last *completed* millisecond (floor) while
// deadlines round up (to_ms), so a timer never fires early.
uint64_t Kernel::now_ms() const noexcept {
    auto t = std::chrono::steady_clock::now();
    return t <= epoch_ ? 0 : static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(t - epoch_).count());
}

uint64_t Kernel::to_ms(std::chrono::steady_clock::time_point t) const noexcept {
    if (t <= epoch_) return 0;
    // Round up: a timeout never fires early.
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - epoch_).count();
    return static_cast<uint64_t>((us + 999) / 1000);
}

Ref Kernel::send_after(std::chrono::milliseconds delay, Pid to_pid, std::optional<Atom> to_name, Term msg) {
    if (delay.count() < 0) throw BadArg("send_after: negative delay");
    auto* e = new TimerEntry;
    e->kind = SignalKind::Message;
    e->timer_kind = TimerEntry::Kind::SendAfter;
    e->expires_ms = to_ms(std::chrono::steady_clock::now() + delay);
    e->to_pid = to_pid;
    e->to_name = to_name;
    e->payload = std::move(msg);
    e->ref = make_ref();
    e->holders.store(2, std::memory_order_relaxed);  // the wheel and the map
    {
        std::lock_guard lock(timers_lock_);
        send_timers_.emplace(e->ref.id, e);
    }
    const Ref ref = e->ref;  // once inserted, e may fire and be freed at any moment
    Scheduler* s = current_scheduler();
    // From a plain thread, any scheduler's wheel will do; its thread wakes at
    // least every millisecond while it has timers.
    Scheduler& owner = s ? *s : *schedulers_[ref.id % schedulers_.size()];
    owner.wheel().insert(e);
    if (!s) owner.notify();
    return ref;
}

namespace {
void drop_holder(TimerEntry* e) noexcept {
    if (e->holders.fetch_sub(1, std::memory_order_acq_rel) == 1) delete e;
}
}  // namespace

std::optional<std::chrono::milliseconds> Kernel::cancel_timer(Ref ref) {
    TimerEntry* e = nullptr;
    {
        std::lock_guard lock(timers_lock_);
        auto it = send_timers_.find(ref.id);
        if (it == send_timers_.end()) return std::nullopt;
        e = it->second;
        send_timers_.erase(it);
    }
    uint8_t armed = TimerEntry::Armed;
    bool cancelled = e->state.compare_exchange_strong(armed, TimerEntry::Cancelled);
    uint64_t expires = e->expires_ms;
    // The wheel keeps its count until the entry's slot comes round (lazy removal:
    // send_after timers are not on any hot path).
    drop_holder(e);
    if (!cancelled) return std::nullopt;
    uint64_t now = to_ms(std::chrono::steady_clock::now());
    return std::chrono::milliseconds(expires > now ? expires - now : 0);
}

void Kernel::fire(TimerEntry* e) noexcept {
    if (e->timer_kind == TimerEntry::Kind::ReceiveTimeout) {
        Process* target = e->target;
        if (!target->deliver(e)) {  // it is exiting: nobody to wake
            delete e;
            target->release();
        }
        return;
    }
    uint8_t armed = TimerEntry::Armed;
    if (e->state.compare_exchange_strong(armed, TimerEntry::Fired)) {
        {
            std::lock_guard lock(timers_lock_);
            if (send_timers_.erase(e->ref.id)) e->holders.fetch_sub(1, std::memory_order_relaxed);
        }
        Pid to = e->to_pid;
        bool found = true;
        if (e->to_name) {
            auto pid = registry_.whereis(*e->to_name);
            found = pid.has_value();
            if (found) to = *pid;
        }
        if (found) send_signal(to, new Signal(SignalKind::Message, Pid{}, e->payload));
    }
    drop_holder(e);
}

// ---------------------------------------------------------------- lifecycle

void Kernel::adopt_thread(std::thread t) {
    std::lock_guard lock(threads_mutex_);
    threads_.push_back(std::move(t));
}

bool Kernel::shutdown(std::chrono::milliseconds grace) {
    if (shut_down_) return clean_;
    shut_down_ = true;
    table_.for_each([](Process& p) {
        if (p.is_thread_) return;
        auto* kill = new Signal(SignalKind::Exit, Pid{}, atoms::kill);
        if (!p.deliver(kill)) delete kill;  // already exiting
    });
    auto deadline = std::chrono::steady_clock::now() + grace;
    std::size_t threads_left = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        threads_left = 0;
        table_.for_each([&](Process& p) { threads_left += p.is_thread_ ? 1 : 0; });
        if (table_.live() <= threads_left) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::vector<Pid> stuck;
    table_.for_each([&](Process& p) {
        if (!p.is_thread_) stuck.push_back(p.pid());
    });
    stopping_.store(true, std::memory_order_release);
    watchdog_.reset();
    for (auto& s : schedulers_) s->notify();
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(threads_mutex_);
        threads.swap(threads_);
    }
    // A thread still inside a process that never yields cannot be joined.
    for (auto& t : threads) {
        if (!stuck.empty()) t.detach();
        else t.join();
    }
    clean_ = stuck.empty();
    if (!stuck.empty()) {
        std::fprintf(stderr, "otpp: shutdown: %zu process(es) did not exit within %lld ms (stuck in code "
                             "that never yields); their threads were abandoned:",
                     stuck.size(), static_cast<long long>(grace.count()));
        for (Pid pid : stuck) std::fprintf(stderr, " %s", Term(pid).to_string().c_str());
        std::fprintf(stderr, "\n");
        return false;
    }
    // Timers left on the wheels: free them (their targets are gone).
    for (auto& s : schedulers_) {
        std::vector<TimerEntry*> due;
        s->wheel().advance(UINT64_MAX / 2, due);
        for (TimerEntry* e : due) {
            if (e->timer_kind == TimerEntry::Kind::ReceiveTimeout) {
                e->target->release();
                delete e;
            } else {
                drop_holder(e);
            }
        }
    }
    std::lock_guard lock(timers_lock_);
    for (auto& [id, e] : send_timers_) drop_holder(e);
    send_timers_.clear();
    return true;
}

}  // namespace otpp::runtime
