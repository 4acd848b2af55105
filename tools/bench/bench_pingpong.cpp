// pingpong N: two processes bounce a message N times (N round trips).
#include "bench.hpp"

#include <otpp/process.hpp>
#include <otpp/scoped_process.hpp>

namespace otpp::bench {

int run_pingpong(const std::vector<std::string>& args, const RuntimeOptions& options) {
    long n = args.size() > 0 ? std::stol(args[0]) : 1'000'000;
    Runtime runtime(options);
    ScopedProcess me;
    Pid parent = self();
    Pid ponger = spawn([] {
        for (;;) {
            Term m = receive();
            send(m[0].get<Pid>(), m[1]);
        }
    });
    Pid pinger = spawn([parent, ponger, n] {
        Term ping = Term::tuple({self(), Atom("ping")});
        auto start = Clock::now();
        for (long i = 0; i < n; ++i) {
            send(ponger, ping);
            receive();
        }
        send(parent, ns_since(start) / static_cast<double>(n));
    });
    double rt_ns = receive().get<double>();
    metric("pingpong_rt_ns", rt_ns,
           "n=" + std::to_string(n) + " schedulers=" + std::to_string(runtime.stats().schedulers));
    exit(ponger, atoms::kill);
    (void)pinger;
    return 0;
}

}  // namespace otpp::bench
