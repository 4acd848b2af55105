// The plugin behind `otpp-bench preempt_overhead`: the same loops built with
// the compiler-inserted preemption checks and without (NO_PREEMPTION).
//
//   call {tight, N}   -> {X, Ns}  N steps of a register-only recurrence
//   call {calc, N}    -> {Sum, Ns} calc 1.0.0's loop (a volatile accumulator)
//   cast spin         -- loops forever in the server's own process
// Ns is the loop's own time, measured inside the server.
#include <otpp/gen_server.hpp>

#include <chrono>

using namespace otpp;

namespace {

const Atom tight{"tight"}, calc{"calc"}, spin{"spin"}, bad_request{"bad_request"};

// One multiply-add per step, each depending on the last: nothing to fold,
// vectorize or hoist, so the checks' cost shows undiluted.
int64_t tight_loop(int64_t n) {
    uint64_t x = static_cast<uint64_t>(n);
    for (int64_t i = 0; i < n; ++i) x = x * 6364136223846793005ull + static_cast<uint64_t>(i);
    return static_cast<int64_t>(x >> 1);
}

int64_t calc_loop(int64_t n) {
    volatile int64_t total = 0;
    for (int64_t i = 1;; ++i) {
        total = total + i;
        if (i == n) return total;
    }
}

template <class F>
Term timed(F&& loop, int64_t n) {
    auto start = std::chrono::steady_clock::now();
    int64_t result = loop(n);
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
    return Term::tuple({result, static_cast<int64_t>(ns.count())});
}

struct PreemptLoop {
    struct State {
        OTPP_TERM_FIELDS()
    };
    static gen_server::Init<State> init(const Term&) { return State{}; }
    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State&) {
        int64_t n = 0;
        if (match::tuple(tight, match::bind(n))(request)) return gen_server::reply(timed(tight_loop, n));
        if (match::tuple(calc, match::bind(n))(request) && n > 0) return gen_server::reply(timed(calc_loop, n));
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }
    static void handle_cast(const Term& message, State&) {
        if (!message.is_atom(spin)) return;
        volatile uint64_t turns = 0;
        for (;;) turns = turns + 1;
    }
};

}  // namespace

OTPP_GEN_SERVER(PreemptLoop, PREEMPT_LOOP_MODULE, "1.0.0")
