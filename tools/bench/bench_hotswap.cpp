// Code-server workloads:
//   hotswap N MODE LOAD [BATCH]
//                         N counter servers v1 -> v2 (the real plugins), MODE
//                         atomic|rolling, LOAD idle|load (50 clients calling
//                         random servers, 5 s timeout, during the upgrade),
//                         BATCH: rolling's processes at once (default 64);
//                         MODE none: the same traffic, no upgrade (baseline)
//                         -> hotswap_total_ms, hotswap_us_per_proc,
//                            hotswap_suspend_max_us, failed_calls,
//                            max_call_latency_ms, p999_/p9999_call_latency_ms,
//                            sum_check (1: the counters' sum equals the
//                            successful calls)
//   load K                K loads + unloads of a small plugin (copy, dlopen,
//                         resolve, validate)        -> plugin_load_us (median)
#include "bench.hpp"

#include "../../host/code/module_table.hpp"
#include "../../host/code/plugin_library.hpp"
#include "../../host/code/upgrade.hpp"
#include "../../host/runtime/kernel.hpp"

#include <otpp/gen_server.hpp>
#include <otpp/scoped_process.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>
#include <time.h>

namespace otpp::bench {

namespace {
double cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}
const Atom counter{"counter"}, add{"add"}, get{"get"}, stop_atom{"stop"};
constexpr int kClients = 50;

// Every call's latency, in 10 us buckets up to 100 ms (the last one: more).
// The maximum alone is at the mercy of the VM: on this 2-vCPU machine a bare
// spinning thread sees pauses of up to ~6 ms a few times a second, so the
// high percentiles say what the runtime itself adds.
class LatencyHistogram {
public:
    void add(int64_t ns) noexcept {
        std::size_t b = std::min<std::size_t>(static_cast<std::size_t>(std::max<int64_t>(ns, 0) / kBucketNs), kBuckets);
        counts_[b].fetch_add(1, std::memory_order_relaxed);
    }
    // The upper edge of the bucket holding the q-quantile, in ms.
    double quantile_ms(double q) const {
        uint64_t total = 0;
        for (auto& c : counts_) total += c.load(std::memory_order_relaxed);
        if (total == 0) return 0;
        const auto rank = static_cast<uint64_t>(q * static_cast<double>(total));
        uint64_t seen = 0;
        for (std::size_t b = 0; b <= kBuckets; ++b) {
            seen += counts_[b].load(std::memory_order_relaxed);
            if (seen > rank) return static_cast<double>((b + 1) * kBucketNs) / 1e6;
        }
        return static_cast<double>((kBuckets + 1) * kBucketNs) / 1e6;
    }

private:
    static constexpr int64_t kBucketNs = 10'000;
    static constexpr std::size_t kBuckets = 10'000;
    std::array<std::atomic<uint64_t>, kBuckets + 1> counts_{};
};
}  // namespace

int run_hotswap(const std::vector<std::string>& args, const RuntimeOptions& options) {
    long n = args.size() > 0 ? std::stol(args[0]) : 10'000;
    std::string mode = args.size() > 1 ? args[1] : "atomic";
    std::string load = args.size() > 2 ? args[2] : "idle";
    long batch = args.size() > 3 ? std::stol(args[3]) : 64;
    if ((mode != "atomic" && mode != "rolling" && mode != "none") || (load != "idle" && load != "load")) {
        std::fprintf(stderr, "hotswap N atomic|rolling|none idle|load [BATCH]\n");
        return 2;
    }
    Runtime runtime(options);
    ScopedProcess me;
    auto& modules = runtime.kernel().modules();
    modules.load(OTPP_COUNTER_V1);
    std::vector<Pid> servers;
    servers.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) servers.push_back(gen_server::start(counter, 0).pid());

    // Clients call random servers until told to stop, then report
    // {ok_calls, failed_calls, max_latency_ns}.
    Pid parent = self();
    std::vector<Pid> clients;
    std::atomic<int> running{0};
    auto latencies = std::make_unique<LatencyHistogram>();
    LatencyHistogram& histogram = *latencies;
    if (load == "load") {
        for (int c = 0; c < kClients; ++c) {
            clients.push_back(spawn([&servers, parent, c, &running, &histogram] {
                std::mt19937_64 rng(static_cast<uint64_t>(c) * 7919 + 1);
                std::uniform_int_distribution<std::size_t> pick(0, servers.size() - 1);
                int64_t ok = 0, failed = 0, max_ns = 0;
                running.fetch_add(1);
                Term request = Term::tuple({add, 1});
                while (!receive(std::chrono::milliseconds(0))) {
                    auto t0 = Clock::now();
                    auto r = gen_server::try_call(servers[pick(rng)], request, std::chrono::seconds(5));
                    const auto ns = static_cast<int64_t>(ns_since(t0));
                    max_ns = std::max(max_ns, ns);
                    histogram.add(ns);
                    (r.ok ? ok : failed)++;
                }
                send(parent, Term::tuple({ok, failed, max_ns}));
            }));
        }
        while (running.load() < kClients) sleep_for(std::chrono::milliseconds(1));
        sleep_for(std::chrono::milliseconds(200));  // steady state before the upgrade
    }

    code::UpgradeOptions upgrade_options;
    upgrade_options.mode = mode == "atomic" ? code::UpgradeMode::atomic : code::UpgradeMode::rolling;
    upgrade_options.batch = static_cast<std::size_t>(std::max(1L, batch));
    upgrade_options.suspend_timeout = std::chrono::seconds(5);
    std::size_t rss_before = rss_bytes();
    auto cpu_before = cpu_ms();
    // mode none: the same traffic for as long, no upgrade (the baseline the
    // latency figures compare with).
    code::UpgradeReport report;
    if (mode == "none") {
        sleep_for(std::chrono::milliseconds(300));
        report.outcome = code::UpgradeReport::Outcome::upgraded;
        report.migrated.resize(static_cast<std::size_t>(n));
    } else {
        report = code::upgrade(modules, OTPP_COUNTER_V2, upgrade_options);
    }
    double upgrade_cpu_ms = cpu_ms() - cpu_before;
    std::size_t rss_after = rss_bytes();
    if (load == "load") sleep_for(std::chrono::milliseconds(200));  // traffic on the new version too

    int64_t ok = 0, failed = 0, max_ns = 0;
    for (Pid c : clients) send(c, stop_atom);
    for (std::size_t i = 0; i < clients.size(); ++i) {
        Term r = receive();
        ok += r[0].get<int64_t>();
        failed += r[1].get<int64_t>();
        max_ns = std::max(max_ns, r[2].get<int64_t>());
    }
    int64_t sum = 0;
    if (load == "load")  // idle: nothing was added; skip 100k sequential calls
        for (Pid s : servers) sum += gen_server::call(s, get).get<int64_t>();

    std::string tags = "n=" + std::to_string(n) + " mode=" + mode + " load=" + load +
                       (mode == "rolling" ? " batch=" + std::to_string(batch) : "") +
                       " schedulers=" + std::to_string(runtime.stats().schedulers);
    bool upgraded = report.outcome == code::UpgradeReport::Outcome::upgraded &&
                    report.migrated.size() == static_cast<std::size_t>(n);
    if (!upgraded) std::fprintf(stderr, "%s", report.to_text().c_str());
    double total_ms = static_cast<double>(report.total.count()) / 1000.0;
    metric("hotswap_total_ms", total_ms, tags + (upgraded ? "" : " NOT_UPGRADED"));
    metric("hotswap_us_per_proc", static_cast<double>(report.total.count()) / static_cast<double>(n), tags);
    metric("hotswap_suspend_max_us", static_cast<double>(report.suspend_max.count()), tags);
    // CPU time of the whole process during the upgrade (all threads, idle
    // spinning included): on a busy machine, wall time says less.
    metric("hotswap_cpu_ms", upgrade_cpu_ms, tags);
    // What migrating costs in resident memory per server (stack pages the
    // conversion touched, the new state): measured, so that it stays small.
    metric("hotswap_rss_growth_per_proc_bytes",
           (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / static_cast<double>(n), tags);
    if (load == "load") {
        metric("failed_calls", static_cast<double>(failed), tags + " ok_calls=" + std::to_string(ok));
        metric("max_call_latency_ms", static_cast<double>(max_ns) / 1e6, tags);
        metric("p999_call_latency_ms", histogram.quantile_ms(0.999), tags);
        metric("p9999_call_latency_ms", histogram.quantile_ms(0.9999), tags);
    }
    metric("sum_check", sum == ok ? 1 : 0, tags + " sum=" + std::to_string(sum) + " ok_calls=" + std::to_string(ok));
    // Tearing 100k servers down takes longer than the benchmark and measures
    // nothing: leave at once.
    std::fflush(stdout);
    std::_Exit(upgraded && sum == ok ? 0 : 1);
}

int run_load(const std::vector<std::string>& args, const RuntimeOptions&) {
    long k = args.size() > 0 ? std::stol(args[0]) : 200;
    auto dir = std::filesystem::temp_directory_path() / ("otpp-bench-load-" + std::to_string(::getpid()));
    std::vector<double> us;
    for (long i = 0; i < k; ++i) {
        auto t0 = Clock::now();
        auto library = code::PluginLibrary::load(OTPP_COUNTER_V1, code::LoadOptions{dir, false});
        us.push_back(ns_since(t0) / 1000.0);
        library->unload();
    }
    std::filesystem::remove_all(dir);
    std::sort(us.begin(), us.end());
    metric("plugin_load_us", us[us.size() / 2], "k=" + std::to_string(k) + " p90=" + std::to_string(us[us.size() * 9 / 10]));
    return 0;
}

}  // namespace otpp::bench
