// preempt_overhead N K: what the compiler-inserted preemption checks cost
// plugin code, and what they buy.
//   preempt_ns_per_iter   the same loop with checks=on and checks=off
//                         (loop=tight: a register-only recurrence; loop=calc:
//                         calc 1.0.0's volatile sum), median of 5 runs of N
//   preempt_overhead_ratio  checks=on time / checks=off time, per loop
//   kill_spinner_latency_us from exit(Pid, kill) to the monitor's 'DOWN', for
//                         a plugin process spinning in a plain loop (median,
//                         max over K kills)
//   spinner_neighbour_rtt_us round trip to another process on the spinner's
//                         scheduler while it spins (median, p99, max)
#include "bench.hpp"

#include "../../host/runtime/kernel.hpp"

#include <otpp/gen_server.hpp>
#include <otpp/process.hpp>
#include <otpp/scoped_process.hpp>

#include <algorithm>
#include <string>

namespace otpp::bench {

namespace {

const Atom checked{"preempt_loop_checked"}, unchecked{"preempt_loop_unchecked"}, spin{"spin"};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Waits until `pid` has used a few slices: it is spinning.
void wait_spinning(Runtime& runtime, Pid pid) {
    for (;;) {
        auto info = runtime.process_info(pid);
        if (!info || info->reductions > 20000) return;
        sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace

int run_preempt_overhead(const std::vector<std::string>& args, const RuntimeOptions& options) {
    if (args.size() != 2) return 2;
    const int64_t n = std::stoll(args[0]);
    const int kills = std::stoi(args[1]);
    Runtime runtime(options);
    ScopedProcess me;
    runtime.kernel().modules().load(OTPP_PREEMPT_LOOP_CHECKED);
    runtime.kernel().modules().load(OTPP_PREEMPT_LOOP_UNCHECKED);
    const unsigned schedulers = static_cast<unsigned>(runtime.stats().schedulers);
    const std::string sched_tag = "schedulers=" + std::to_string(schedulers);

    for (const char* loop : {"tight", "calc"}) {
        double per_iter[2] = {0, 0};
        for (int on = 0; on < 2; ++on) {
            Pid server = gen_server::start(on ? checked : unchecked, Term()).pid();
            std::vector<double> runs;
            Term expected;
            for (int r = 0; r < 5; ++r) {
                Term reply = gen_server::call(server, Term::tuple({Atom(loop), n}), infinity);
                if (!expected.is_nil() && reply[0] != expected) {
                    std::printf("WRONG_RESULT\n");
                    return 1;
                }
                expected = reply[0];
                runs.push_back(static_cast<double>(reply[1].get<int64_t>()) / static_cast<double>(n));
            }
            per_iter[on] = median(runs);
            metric("preempt_ns_per_iter", per_iter[on],
                   std::string("loop=") + loop + " checks=" + (on ? "on" : "off") + " " + sched_tag);
            gen_server::stop_server(server);
        }
        metric("preempt_overhead_ratio", per_iter[1] / per_iter[0], std::string("loop=") + loop + " " + sched_tag);
    }

    std::vector<double> latencies;
    for (int k = 0; k < kills; ++k) {
        Pid spinner = gen_server::start(checked, Term()).pid();
        Ref ref = monitor(spinner);
        gen_server::cast(spinner, spin);
        wait_spinning(runtime, spinner);
        auto start = Clock::now();
        exit(spinner, atoms::kill);
        receive(match::tuple(atoms::DOWN, ref, match::any, match::any, match::any));
        latencies.push_back(ns_since(start) / 1000.0);
    }
    metric("kill_spinner_latency_us", median(latencies), "stat=median kills=" + std::to_string(kills) + " " + sched_tag);
    metric("kill_spinner_latency_us", percentile(latencies, 1.0), "stat=max kills=" + std::to_string(kills) + " " + sched_tag);

    // A pinger and an echo process next to one spinner per scheduler: each
    // hop waits for the spinner's slice to end (a preemption), as between
    // any two processes that share a thread with a loop.
    std::vector<Pid> spinners;
    for (unsigned i = 0; i < schedulers; ++i) {
        Pid s = gen_server::start(checked, Term()).pid();
        gen_server::cast(s, spin);
        spinners.push_back(s);
    }
    for (Pid s : spinners) wait_spinning(runtime, s);
    Pid echo = spawn([] {
        for (;;) send(receive().get<Pid>(), Atom("pong"));
    });
    const Pid main = self();
    spawn([echo, main] {
        std::vector<Term> ns;
        for (int i = 0; i < 1000; ++i) {
            auto start = Clock::now();
            send(echo, self());
            receive(match::as_pattern(Atom("pong")));
            ns.emplace_back(static_cast<int64_t>(ns_since(start)));
        }
        send(main, Term::list(std::move(ns)));
    });
    std::vector<double> rtts;
    for (const Term& t : receive().elements()) rtts.push_back(static_cast<double>(t.get<int64_t>()) / 1000.0);
    metric("spinner_neighbour_rtt_us", median(rtts), "stat=median " + sched_tag);
    metric("spinner_neighbour_rtt_us", percentile(rtts, 0.99), "stat=p99 " + sched_tag);
    metric("spinner_neighbour_rtt_us", percentile(rtts, 1.0), "stat=max " + sched_tag);
    for (Pid s : spinners) exit(s, atoms::kill);
    exit(echo, atoms::kill);
    return 0;
}

}  // namespace otpp::bench
