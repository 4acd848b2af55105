// jobs: the demo's load generator — N worker processes, each doing a small
// unit of CPU work about once a second and reporting it to the server.
//
//   init(N | #{workers => N})  N workers (default 10000); register it as `jobs`
//   call stats                 -> #{workers => N, jobs_per_sec => J, total => T, failed => F}
//   call {set_workers, N}      -> ok (starts or stops workers; N >= 0)
//   cast {done, Worker}        -- from a worker, once per job
//
// jobs_per_sec counts the jobs of the last full second. failed counts
// workers that crashed; each is replaced. Workers are linked to the server
// (which traps exits), so they go when it goes.
#include <otpp/gen_server.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

using namespace otpp;

namespace {

const Atom stats{"stats"}, set_workers{"set_workers"}, done{"done"}, workers_key{"workers"},
    jobs_per_sec{"jobs_per_sec"}, total_key{"total"}, failed_key{"failed"}, bad_request{"bad_request"};

constexpr int64_t default_workers = 10000;

// xorshift64: each worker's own generator, seeded from its pid, for jitter
// and for the work itself (no shared state, no locks).
uint64_t next_random(uint64_t& x) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

// About a few microseconds of arithmetic the compiler cannot fold away.
uint64_t unit_of_work(uint64_t seed) {
    uint64_t x = seed | 1;
    for (int i = 0; i < 2000; ++i) next_random(x);
    return x;
}

// The worker's whole state is its captures and this frame: a few hundred
// bytes of stack, so 10,000 of them cost ~4.5 KiB each (one stack page).
void worker(Pid server) {
    uint64_t rng = (static_cast<uint64_t>(self().id) << 32 | self().serial) * 0x9E3779B97F4A7C15ull | 1;
    // Spread the first wake-ups over a second, and keep them spread: a
    // 900–1100 ms sleep, so 10,000 workers never wake together.
    sleep_for(std::chrono::milliseconds(next_random(rng) % 1000));
    for (;;) {
        rng ^= unit_of_work(rng);
        gen_server::cast(server, Term::tuple({done, self()}));
        sleep_for(std::chrono::milliseconds(900 + next_random(rng) % 200));
    }
}

int64_t now_second() {
    using namespace std::chrono;
    return duration_cast<seconds>(steady_clock::now().time_since_epoch()).count();
}

struct Jobs {
    struct State {
        std::vector<Pid> workers;
        int64_t total = 0;
        int64_t failed = 0;
        int64_t second = 0;       // the steady-clock second this_second counts
        int64_t this_second = 0;
        int64_t last_second = 0;  // jobs in the second before it
        OTPP_TERM_FIELDS(workers, total, failed, second, this_second, last_second)
    };

    static gen_server::Init<State> init(const Term& args) {
        int64_t n = default_workers;
        if (args.is_integer()) n = args.get<int64_t>();
        else if (args.is_map() && args.find(workers_key)) n = args.find(workers_key)->get<int64_t>();
        if (n < 0) return gen_server::stop(Term::tuple({Atom("bad_workers"), args}));
        trap_exit(true);
        State s;
        s.second = now_second();
        resize(s, n);
        return s;
    }

    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State& s) {
        int64_t n = 0;
        if (request.is_atom(stats)) {
            roll(s);
            return gen_server::reply(Term::map({{workers_key, static_cast<int64_t>(s.workers.size())},
                                                {jobs_per_sec, s.last_second},
                                                {total_key, s.total},
                                                {failed_key, s.failed}}));
        }
        if (match::tuple(set_workers, match::bind(n))(request) && n >= 0) {
            resize(s, n);
            return gen_server::reply(atoms::ok);
        }
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }

    static void handle_cast(const Term& message, State& s) {
        if (!match::tuple(done, match::any)(message)) return;
        roll(s);
        ++s.this_second;
        ++s.total;
    }

    static void handle_info(const Term& message, State& s) {
        Pid from;
        Term reason;
        if (!match::tuple(atoms::EXIT, match::bind(from), match::bind(reason))(message)) return;
        auto it = std::find(s.workers.begin(), s.workers.end(), from);
        if (it == s.workers.end()) return;  // one we stopped
        ++s.failed;
        *it = start_worker();
    }

    static void terminate(const Term&, State& s) {
        // A normal stop sends no exit signal down the links: stop them here.
        for (Pid w : s.workers) exit(w, atoms::shutdown);
    }

private:
    static Pid start_worker() {
        const Pid server = self();
        return spawn_link([server] { worker(server); }, SpawnOptions{.label = "jobs worker"});
    }

    static void resize(State& s, int64_t n) {
        while (static_cast<int64_t>(s.workers.size()) > n) {
            exit(s.workers.back(), atoms::shutdown);
            s.workers.pop_back();
        }
        s.workers.reserve(static_cast<std::size_t>(n));
        while (static_cast<int64_t>(s.workers.size()) < n) s.workers.push_back(start_worker());
    }

    static void roll(State& s) {
        int64_t now = now_second();
        if (now == s.second) return;
        s.last_second = now == s.second + 1 ? s.this_second : 0;
        s.second = now;
        s.this_second = 0;
    }
};

}  // namespace

OTPP_GEN_SERVER(Jobs, "jobs", "1.0.0")
