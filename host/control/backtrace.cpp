#include "backtrace.hpp"

#include "../runtime/current.hpp"
#include "../runtime/kernel.hpp"
#include "../runtime/process.hpp"

#include <otpp/runtime.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace otpp::control {

namespace {

constexpr int max_frames = 64;

// The one capture in flight. States: idle -> armed (requester) -> capturing
// (the handler of the thread running `target`) -> done; the requester moves
// armed -> idle itself when nobody answered in time.
enum State : int { idle, armed, capturing, done };
struct Request {
    std::atomic<int> state{idle};
    std::atomic<const runtime::Process*> target{nullptr};
    std::uintptr_t frames[max_frames];
    int count = 0;
    std::uintptr_t interrupted_ip = 0;  // where the signal hit
};
Request g_request;
std::mutex g_capture_mutex;  // one requester at a time

struct UnwindState {
    std::uintptr_t* out;
    int count;
};

_Unwind_Reason_Code collect(_Unwind_Context* ctx, void* arg) {
    auto* st = static_cast<UnwindState*>(arg);
    if (st->count >= max_frames) return _URC_END_OF_STACK;
    int before = 0;
    std::uintptr_t ip = _Unwind_GetIPInfo(ctx, &before);
    if (ip == 0) return _URC_END_OF_STACK;
    // A return address points after the call: step back into it, except in
    // a signal frame where the IP is the interrupted instruction itself.
    st->out[st->count++] = before ? ip : ip - 1;
    return _URC_NO_REASON;
}

int unwind_into(std::uintptr_t* out) {
    UnwindState st{out, 0};
    _Unwind_Backtrace(&collect, &st);
    return st.count;
}

void on_signal(int, siginfo_t*, void* uc) {
    const int saved_errno = errno;
    const runtime::Process* target = g_request.target.load(std::memory_order_acquire);
    int expected = armed;
    if (target && runtime::current_process() == target &&
        g_request.state.compare_exchange_strong(expected, capturing, std::memory_order_acq_rel)) {
#if defined(__x86_64__)
        g_request.interrupted_ip =
            static_cast<std::uintptr_t>(static_cast<ucontext_t*>(uc)->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
        g_request.interrupted_ip = static_cast<std::uintptr_t>(static_cast<ucontext_t*>(uc)->uc_mcontext.pc);
#else
        (void)uc;
#endif
        g_request.count = unwind_into(g_request.frames);
        g_request.state.store(done, std::memory_order_release);
    }
    errno = saved_errno;
}

std::once_flag g_install_once;

void install_once() {
    // Warm-up: the first unwind binds symbols and builds caches; never do that
    // for the first time inside a signal handler.
    std::uintptr_t scratch[max_frames];
    (void)unwind_into(scratch);
    struct sigaction sa {};
    sa.sa_sigaction = &on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(backtrace_signal(), &sa, nullptr);
}

// Every thread of this process but the caller.
std::vector<pid_t> other_threads() {
    std::vector<pid_t> out;
    const pid_t me = static_cast<pid_t>(::syscall(SYS_gettid));
    if (DIR* d = ::opendir("/proc/self/task")) {
        while (dirent* e = ::readdir(d)) {
            char* end = nullptr;
            long tid = std::strtol(e->d_name, &end, 10);
            if (end && *end == '\0' && tid > 0 && tid != me) out.push_back(static_cast<pid_t>(tid));
        }
        ::closedir(d);
    }
    return out;
}

}  // namespace

int backtrace_signal() noexcept { return SIGRTMIN + 5; }

void install_backtrace_handler() { std::call_once(g_install_once, install_once); }

Backtrace backtrace_of(Pid pid, std::chrono::milliseconds wait) {
    install_backtrace_handler();
    Backtrace result;
    Runtime* rt = Runtime::current();
    if (!rt) {
        result.note = "no runtime";
        return result;
    }
    runtime::Process* p = rt->kernel().table().lookup(pid);  // holds the slot: it cannot be reused meanwhile
    if (!p) {
        result.note = "no such process";
        return result;
    }
    struct Release {
        runtime::Process* p;
        ~Release() { p->release(); }
    } release{p};
    if (!p->is_alive()) {
        result.note = "no such process";
        return result;
    }
    result.info = p->info();
    if (p->status() != ProcessStatus::running) {
        result.note = "not running (" + std::string(to_string(p->status())) +
                      "): a suspended process's stack cannot be unwound safely from another thread; "
                      "its current callback says where it is";
        return result;
    }

    std::unique_lock lock(g_capture_mutex);
    // A capture that overran its wait finishes later (`done`): nobody reads
    // it any more, so it is idle again. Only one still `capturing` blocks us.
    int finished = done;
    g_request.state.compare_exchange_strong(finished, idle);
    if (g_request.state.load() != idle) {
        result.note = "a previous capture did not finish";
        return result;
    }
    g_request.count = 0;
    g_request.interrupted_ip = 0;
    g_request.target.store(p, std::memory_order_release);
    g_request.state.store(armed, std::memory_order_release);
    const pid_t me = ::getpid();
    for (pid_t tid : other_threads()) ::syscall(SYS_tgkill, me, tid, backtrace_signal());

    const auto deadline = std::chrono::steady_clock::now() + wait;
    bool captured = false;
    for (;;) {
        int s = g_request.state.load(std::memory_order_acquire);
        if (s == done) {
            captured = true;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            int expected = armed;
            if (g_request.state.compare_exchange_strong(expected, idle)) break;  // nobody answered
            // A handler is capturing right now: it finishes without blocking.
            if (std::chrono::steady_clock::now() >= deadline + std::chrono::seconds(2)) {
                g_request.target.store(nullptr);
                result.note = "the capture did not finish";
                return result;  // state stays `capturing`: later requests refuse, nothing reads a torn buffer
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    g_request.target.store(nullptr, std::memory_order_release);
    if (!captured) {
        result.info = p->info();
        result.note = "not running any more when the signal arrived (now " +
                      std::string(to_string(p->status())) + ")";
        return result;
    }
    // Skip the handler's own frames: start at the interrupted instruction.
    int first = 0;
    for (int i = 0; i < g_request.count; ++i) {
        if (g_request.frames[i] == g_request.interrupted_ip) {
            first = i;
            break;
        }
    }
    std::vector<std::uintptr_t> frames(g_request.frames + first, g_request.frames + g_request.count);
    g_request.state.store(idle, std::memory_order_release);
    lock.unlock();
    result.captured = true;
    for (std::uintptr_t a : frames) result.frames.push_back(symbolize(a));
    return result;
}

}  // namespace otpp::control
