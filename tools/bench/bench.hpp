// otpp-bench: one workload per run, one `metric=NAME value=X [key=value...]`
// line per figure on stdout (see README.md beside this file).
#pragma once

#include <otpp/runtime.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace otpp::bench {

using Clock = std::chrono::steady_clock;

inline double ns_since(Clock::time_point start) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

inline void metric(const char* name, double value, const std::string& tags = "") {
    std::printf("metric=%s value=%.1f%s%s\n", name, value, tags.empty() ? "" : " ", tags.c_str());
    std::fflush(stdout);
}

// Resident set size of this process, from /proc/self/statm.
std::size_t rss_bytes();

int run_spawn(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_pingpong(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_ring(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_call_seq(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_call_conc(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_genserver_mem(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_sup(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_hotswap(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_load(const std::vector<std::string>& args, const RuntimeOptions& options);
int run_preempt_overhead(const std::vector<std::string>& args, const RuntimeOptions& options);

}  // namespace otpp::bench
