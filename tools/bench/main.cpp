// otpp-bench WORKLOAD ARGS... [--schedulers N]
#include "bench.hpp"

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

}  // namespace otpp::bench

namespace {
int usage() {
    std::fprintf(stderr,
                 "usage: otpp-bench WORKLOAD ARGS... [--schedulers N]\n"
                 "  spawn N R       spawn N processes blocked in receive, R rounds\n"
                 "  pingpong N      two processes, N round trips\n"
                 "  ring P H        P processes in a ring, one token, H hops\n");
    return 2;
}
}  // namespace

int main(int argc, char** argv) {
    using namespace otpp::bench;
    if (argc < 2) return usage();
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
    return usage();
}
