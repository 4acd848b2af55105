// otpp-bench WORKLOAD ARGS... [--schedulers N]
#include "bench.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace otpp::bench {

std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// bench_dist.cpp
int run_dist_rtt(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_dist_throughput(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_dist_all(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_dist_peer(const std::vector<std::string>& args, const RuntimeOptions& options);

}  // namespace otpp::bench

namespace {
int usage() {
    std::fprintf(stderr,
                 "usage: otpp-bench WORKLOAD ARGS... [--schedulers N]\n"
                 "  spawn N R       spawn N processes blocked in receive, R rounds\n"
                 "  pingpong N      two processes, N round trips\n"
                 "  ring P H        P processes in a ring, one token, H hops\n"
                 "  call_seq N      1 client, 1 GenServer, N sequential calls\n"
                 "  call_conc C S K C clients, S servers, K calls per client\n"
                 "  sup N K         one_for_one with N workers, K random kills\n"
                 "  genserver_mem N N idle GenServers\n"
                 "  hotswap N MODE LOAD  N counter servers v1 -> v2; MODE atomic|rolling,\n"
                 "                  LOAD idle|load (50 clients calling during the upgrade)\n"
                 "  load K          K loads of a small plugin (copy, dlopen, validate)\n"
                 "  preempt_overhead N K  a plugin loop of N steps with and without preemption\n"
                 "                  checks; K kills of a spinning plugin process\n"
                 "  dist_rtt N [ROUNDS]  distribution round trips over loopback, host-host,\n"
                 "                  host-beam, beam-host, beam-beam (a second otpp-bench and two\n"
                 "                  erl nodes are started and killed); --pairs P,Q for some only\n"
                 "  dist_throughput N [ROUNDS]  N small messages one way, per pair\n"
                 "  dist N_RTT N_MSGS [ROUNDS]  both\n");
    return 2;
}
}  // namespace

int main(int argc, char** argv) {
    using namespace otpp::bench;
    if (argc < 2) return usage();
    // Supervisor restart reports are info-level: keep them out of the timings
    // (the host logs asynchronously; here we measure the runtime).
    spdlog::set_level(spdlog::level::warn);
    std::string workload = argv[1];
    std::vector<std::string> args;
    otpp::RuntimeOptions options;
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "--schedulers") == 0 && i + 1 < argc) {
            options.schedulers = static_cast<unsigned>(std::atoi(argv[++i]));
        } else {
            args.emplace_back(argv[i]);
        }
    }
    if (workload == "spawn") return run_spawn(args, options);
    if (workload == "pingpong") return run_pingpong(args, options);
    if (workload == "ring") return run_ring(args, options);
    if (workload == "call_seq") return run_call_seq(args, options);
    if (workload == "call_conc") return run_call_conc(args, options);
    if (workload == "sup") return run_sup(args, options);
    if (workload == "genserver_mem") return run_genserver_mem(args, options);
    if (workload == "hotswap") return run_hotswap(args, options);
    if (workload == "load") return run_load(args, options);
    if (workload == "preempt_overhead") return run_preempt_overhead(args, options);
    if (workload == "dist_rtt") return run_dist_rtt(args, options);
    if (workload == "dist_throughput") return run_dist_throughput(args, options);
    if (workload == "dist") return run_dist_all(args, options);
    if (workload == "dist_peer") return run_dist_peer(args, options);  // started by the three above
    return usage();
}
