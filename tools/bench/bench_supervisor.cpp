// sup N K: a one_for_one supervisor with N workers; K times, kill a random
// worker and time from the kill to the replacement's init -> sup_restart_us
// (median and p99).
#include "bench.hpp"

#include <otpp/gen_server.hpp>
#include <otpp/scoped_process.hpp>
#include <otpp/supervisor.hpp>

#include <algorithm>
#include <random>

namespace otpp::bench {

namespace {

const Atom observer{"bench_observer"};

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Reports {started, Id, Self, InitTimeNs} to the observer from init.
struct Worker {
    struct State {
        Term to_term() const { return atoms::undefined; }
        static State from_term(const Term&) { return {}; }
    };
    static gen_server::Init<State> init(const Term& id) {
        send(observer, Term::tuple({Atom("started"), id, self(), now_ns()}));
        return State{};
    }
    static gen_server::CallReply handle_call(const Term&, const gen_server::From&, State&) {
        return gen_server::reply(atoms::ok);
    }
};
constexpr ModuleDescriptor worker_module = gen_server::module<Worker>("bench_worker", "1.0.0");

}  // namespace

int run_sup(const std::vector<std::string>& args, const RuntimeOptions& options) {
    long n = args.size() > 0 ? std::stol(args[0]) : 10'000;
    long kills = args.size() > 1 ? std::stol(args[1]) : 1000;
    Runtime runtime(options);
    ScopedProcess me;
    trap_exit(true);
    register_name(observer, self());
    gen_server::register_builtin(worker_module);
    std::vector<Term> children;
    for (long i = 0; i < n; ++i) {
        std::string id = "w";  // (not "w" + to_string(i): GCC 12 -Wrestrict false positive at -O3)
        id += std::to_string(i);
        children.push_back(Term::map({{Atom("id"), Atom(id)},
                                      {Atom("start"), Term::tuple({Atom("bench_worker"), i})},
                                      {Atom("shutdown"), atoms::brutal_kill}}));
    }
    auto started = Clock::now();
    Pid sup = supervisor::start_link(Term::map({{Atom("strategy"), Atom("one_for_one")},
                                                {Atom("intensity"), kills + 1},
                                                {Atom("period"), 3'600'000},
                                                {Atom("children"), Term::list(children)}}))
                  .pid();
    double start_ms = ns_since(started) / 1e6;
    std::vector<Pid> pids(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) {
        Term m = receive();
        pids[static_cast<std::size_t>(m[1].get<int64_t>())] = m[2].get<Pid>();
    }
    std::mt19937_64 rng(42);
    std::vector<double> us;
    for (long k = 0; k < kills; ++k) {
        auto victim = static_cast<std::size_t>(rng() % static_cast<uint64_t>(n));
        int64_t t0 = now_ns();
        exit(pids[victim], atoms::kill);
        Term m = receive(match::tuple(Atom("started"), static_cast<int64_t>(victim), match::_, match::_));
        pids[victim] = m[2].get<Pid>();
        us.push_back(static_cast<double>(m[3].get<int64_t>() - t0) / 1000.0);
    }
    std::sort(us.begin(), us.end());
    std::string tags = "children=" + std::to_string(n) + " kills=" + std::to_string(kills) + " " +
                       "schedulers=" + std::to_string(runtime.stats().schedulers);
    metric("sup_start_ms", start_ms, tags);
    metric("sup_restart_us", us[us.size() / 2], tags + " stat=median");
    metric("sup_restart_us", us[std::min(us.size() - 1, us.size() * 99 / 100)], tags + " stat=p99");
    exit(sup, atoms::shutdown);
    return 0;
}

}  // namespace otpp::bench
