// spawn N R: N processes that block in receive, R rounds in one runtime.
// Round 1 touches fresh stacks and control blocks (cold); later rounds reuse
// them (warm). Reports per-process spawn time, memory and teardown time.
#include "bench.hpp"

#include <otpp/process.hpp>
#include <otpp/scoped_process.hpp>

#include <atomic>
#include <string>

namespace otpp::bench {

int run_spawn(const std::vector<std::string>& args, const RuntimeOptions& options) {
    std::size_t n = args.size() > 0 ? std::stoul(args[0]) : 1'000'000;
    int rounds = args.size() > 1 ? std::stoi(args[1]) : 2;
    Runtime runtime(options);
    std::string tags = "n=" + std::to_string(n) + " schedulers=" + std::to_string(runtime.stats().schedulers);
    for (int round = 1; round <= rounds; ++round) {
        ScopedProcess me;
        Pid parent = self();
        std::atomic<std::size_t> waiting{0};
        std::size_t rss_before = rss_bytes();
        std::vector<Pid> pids(n);
        auto start = Clock::now();
        // The spawner is itself a process, so new processes land on its
        // scheduler's queue and idle schedulers steal them, as on the BEAM.
        Pid spawner = spawn([&, parent] {
            for (std::size_t i = 0; i < n; ++i)
                pids[i] = spawn([&waiting] {
                    waiting.fetch_add(1, std::memory_order_relaxed);
                    receive();
                });
            send(parent, Atom("spawned"));
        });
        receive();
        while (waiting.load(std::memory_order_relaxed) < n) sleep_for(std::chrono::milliseconds(1));
        double spawn_ns = ns_since(start) / static_cast<double>(n);
        std::size_t rss_after = rss_bytes();
        std::string round_tags = tags + " round=" + std::to_string(round) + (round == 1 ? " phase=cold" : " phase=warm");
        metric("spawn_ns", spawn_ns, round_tags);
        metric("proc_mem_bytes",
               static_cast<double>(rss_after > rss_before ? rss_after - rss_before : 0) / static_cast<double>(n),
               round_tags);
        start = Clock::now();
        std::size_t before = runtime.process_count();
        for (Pid p : pids) exit(p, atoms::kill);
        while (runtime.process_count() > before - n) sleep_for(std::chrono::milliseconds(1));
        metric("teardown_ns", ns_since(start) / static_cast<double>(n), round_tags);
        (void)spawner;
    }
    return 0;
}

}  // namespace otpp::bench
