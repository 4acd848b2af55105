// GenServer workloads:
//   call_seq N        1 client, 1 server, N sequential calls      -> gencall_seq_ns
//   call_conc C S K   C clients, S servers, K calls per client;
//                     client i calls server i mod S             -> gencall_conc_calls_per_s,
//                                                                  gencall_conc_max_lat_us
//   genserver_mem N   N idle servers (hibernate_after = 0, so an idle
//                     server holds no stack)                    -> genserver_mem_bytes
#include "bench.hpp"

#include <otpp/gen_server.hpp>
#include <otpp/scoped_process.hpp>

#include <algorithm>
#include <atomic>

namespace otpp::bench {

namespace {

const Atom get{"get"};

// The server under test: an integer; `get` replies with it, anything else
// adds one and replies with the new value.
struct Echo {
    struct State {
        int64_t n = 0;
        Term to_term() const { return n; }
        static State from_term(const Term& t) { return State{t.get<int64_t>()}; }
    };
    static gen_server::Init<State> init(const Term&) { return State{}; }
    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State& s) {
        if (request.is_atom(get)) return gen_server::reply(s.n);
        return gen_server::reply(++s.n);
    }
};
constexpr ModuleDescriptor echo_module = gen_server::module<Echo>("bench_echo", "1.0.0");

std::string sched_tag(const Runtime& rt) { return "schedulers=" + std::to_string(rt.stats().schedulers); }

}  // namespace

int run_call_seq(const std::vector<std::string>& args, const RuntimeOptions& options) {
    long n = args.size() > 0 ? std::stol(args[0]) : 1'000'000;
    Runtime runtime(options);
    ScopedProcess me;
    Pid parent = self();
    spawn([parent, n] {
        Pid server = gen_server::start(echo_module, atoms::undefined).pid();
        Term request = Atom("incr");
        auto start = Clock::now();
        for (long i = 0; i < n; ++i) gen_server::call(server, request);
        double ns = ns_since(start) / static_cast<double>(n);
        bool correct = gen_server::call(server, get) == Term(static_cast<int64_t>(n));
        send(parent, Term::tuple({ns, correct}));
    });
    Term r = receive();
    metric("gencall_seq_ns", r[0].get<double>(),
           "n=" + std::to_string(n) + " " + sched_tag(runtime) + (r[1] == Term(true) ? "" : " WRONG_COUNT"));
    return r[1] == Term(true) ? 0 : 1;
}

int run_call_conc(const std::vector<std::string>& args, const RuntimeOptions& options) {
    long clients = args.size() > 0 ? std::stol(args[0]) : 1000;
    long servers = args.size() > 1 ? std::stol(args[1]) : 100;
    long calls = args.size() > 2 ? std::stol(args[2]) : 1000;
    Runtime runtime(options);
    ScopedProcess me;
    Pid parent = self();
    std::vector<Pid> pids;
    for (long s = 0; s < servers; ++s) pids.push_back(gen_server::start(echo_module, atoms::undefined).pid());
    const Atom go{"go"};
    std::vector<Pid> workers;
    for (long c = 0; c < clients; ++c) {
        Pid server = pids[static_cast<std::size_t>(c % servers)];
        workers.push_back(spawn([parent, server, calls, go] {
            receive(match::atom);  // go
            Term request = Atom("incr");
            int64_t max_ns = 0;
            for (long i = 0; i < calls; ++i) {
                auto t0 = Clock::now();
                gen_server::call(server, request);
                max_ns = std::max<int64_t>(max_ns, static_cast<int64_t>(ns_since(t0)));
            }
            send(parent, max_ns);
            (void)go;
        }));
    }
    auto start = Clock::now();
    for (Pid w : workers) send(w, go);
    int64_t max_ns = 0;
    for (long c = 0; c < clients; ++c) max_ns = std::max(max_ns, receive().get<int64_t>());
    double secs = ns_since(start) / 1e9;
    int64_t total = 0;
    for (Pid s : pids) total += gen_server::call(s, get).get<int64_t>();
    std::string tags = "clients=" + std::to_string(clients) + " servers=" + std::to_string(servers) +
                       " calls=" + std::to_string(calls) + " " + sched_tag(runtime);
    bool correct = total == clients * calls;
    metric("gencall_conc_calls_per_s", static_cast<double>(clients * calls) / secs,
           tags + (correct ? "" : " WRONG_COUNT"));
    metric("gencall_conc_max_lat_us", static_cast<double>(max_ns) / 1000.0, tags);
    return correct ? 0 : 1;
}

int run_genserver_mem(const std::vector<std::string>& args, const RuntimeOptions& options) {
    std::size_t n = args.size() > 0 ? std::stoul(args[0]) : 1'000'000;
    Runtime runtime(options);
    ScopedProcess me;
    Pid parent = self();
    std::size_t before = rss_bytes();
    // Started from a process so that start() can wait for each init.
    spawn([parent, n] {
        for (std::size_t i = 0; i < n; ++i)
            gen_server::start(echo_module, atoms::undefined, {.hibernate_after = Timeout(0)});
        send(parent, atoms::ok);
    });
    receive();
    std::size_t after = rss_bytes();
    metric("genserver_mem_bytes", static_cast<double>(after - before) / static_cast<double>(n),
           "n=" + std::to_string(n) + " hibernate_after=0 " + sched_tag(runtime));
    return 0;
}

}  // namespace otpp::bench
