// ring P H: the Savina thread ring. P processes, each forwarding a countdown
// token to the next; H hops in all.
#include "bench.hpp"

#include <otpp/process.hpp>
#include <otpp/scoped_process.hpp>

namespace otpp::bench {

int run_ring(const std::vector<std::string>& args, const RuntimeOptions& options) {
    long p = args.size() > 0 ? std::stol(args[0]) : 100'000;
    long hops = args.size() > 1 ? std::stol(args[1]) : 10'000'000;
    Runtime runtime(options);
    ScopedProcess me;
    Pid parent = self();
    auto start = Clock::now();
    // Each member receives its successor's pid first, then forwards tokens.
    auto member = [parent] {
        Pid next = receive().get<Pid>();
        for (;;) {
            int64_t token = receive().get<int64_t>();
            if (token == 0) {
                send(parent, Atom("done"));
                continue;
            }
            send(next, token - 1);
        }
    };
    std::vector<Pid> ring(static_cast<std::size_t>(p));
    for (auto& pid : ring) pid = spawn(member);
    for (std::size_t i = 0; i < ring.size(); ++i) send(ring[i], ring[(i + 1) % ring.size()]);
    double setup_ms = ns_since(start) / 1e6;
    start = Clock::now();
    send(ring[0], static_cast<int64_t>(hops));
    receive(match::atom);
    double hop_ns = ns_since(start) / static_cast<double>(hops);
    std::string tags = "p=" + std::to_string(p) + " hops=" + std::to_string(hops) +
                       " schedulers=" + std::to_string(runtime.stats().schedulers);
    metric("ring_setup_ms", setup_ms, tags);
    metric("ring_hop_ns", hop_ns, tags);
    for (Pid pid : ring) exit(pid, atoms::kill);
    return 0;
}

}  // namespace otpp::bench
