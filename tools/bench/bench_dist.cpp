// Distribution over loopback, four pairs measured in one run, interleaved
// round by round so that the machine's drift hits them alike:
//
//   host-host  this otpp node -> a second otpp node (otpp-bench re-executed
//              as `dist_peer`: one Runtime per OS process)
//   host-beam  this otpp node -> erl node E1
//   beam-host  E1 -> this otpp node
//   beam-beam  E1 -> erl node E2
//
// The first side is the active one (pinger, sender). Every node runs the
// same three registered processes (bench_dist.erl; echo_loop/sink_loop
// below): bench_echo, bench_sink and, on erl, bench_ctl, which runs E1's
// side of a measurement when this driver asks it over distribution.
//
//   dist_rtt N [ROUNDS]          per pair and round: 1,000 warm-up round
//                                trips, then N timed one by one (pinger sends
//                                {Self, I} to the echo's pid, the echo sends I
//                                back) -> dist_rtt_us, median and p99 over the
//                                rounds' samples together
//   dist_throughput N [ROUNDS]   per pair and round: the sender sends
//                                {start, Report, N} then {seq, 1..N} to
//                                {bench_sink, Node} (REG_SEND); the receiver
//                                times from start to the N-th on its own clock
//                                -> dist_msgs_per_s (median over rounds; every
//                                round in the tags), checked: count == N
//   dist N_RTT N_MSGS [ROUNDS]   both
//   ... --pairs host-host,beam-beam   only these pairs
//   dist_peer NAME COOKIE        (internal) the second otpp node
//
// Tags: cs_per_rt / cs_per_msg are the context switches (voluntary and not,
// all threads) of the pair's two OS processes per round trip / message, from
// /proc: each hand-off between threads on a message's path costs one.
// OTPP_BENCH_DEBUG=1 prints progress on stderr; OTPP_BENCH_TIMEOUT_S bounds
// every wait (default 300 s).
//
// Every child (the peer, two erl) runs in its own process group with
// PR_SET_PDEATHSIG(SIGKILL) and is killed with its group when the run ends.
#include "bench.hpp"

#include <distribution.hpp>

#include <otpp/node.hpp>
#include <otpp/process.hpp>
#include <otpp/scoped_process.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <poll.h>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace otpp::bench {

namespace {

using namespace std::chrono_literals;

const Atom echo_name("bench_echo"), sink_name("bench_sink"), ctl_name("bench_ctl");
const Atom whoami_a("whoami"), echo_pid_a("echo_pid"), start_a("start"), seq_a("seq"), sink_done_a("sink_done"),
    rtt_a("rtt"), rtt_done_a("rtt_done"), send_a("send"), sent_a("sent"), connect_a("connect"),
    connected_a("connected");

constexpr long warmup_round_trips = 1000;
// OTPP_BENCH_TIMEOUT_S overrides it.
const Timeout reply_timeout = std::getenv("OTPP_BENCH_TIMEOUT_S")
                                  ? Timeout(1000 * std::atol(std::getenv("OTPP_BENCH_TIMEOUT_S")))
                                  : Timeout(300s);

// ---------------------------------------------------------------- the served processes

// {From, whoami} -> From ! {echo_pid, Self}; {From, Msg} -> From ! Msg.
void echo_loop() {
    for (;;) {
        Term m = receive();
        if (!m.is_tuple(2) || !m[0].is_pid()) continue;
        if (m[1].is_atom(whoami_a)) send(m[0].get<Pid>(), Term::tuple({echo_pid_a, self()}));
        else send(m[0].get<Pid>(), m[1]);
    }
}

// {start, Report, N}, then {seq, I}...: at I == N, Report ! {sink_done, node(), Count, Ns}.
void sink_loop() {
    for (;;) {
        Term m = receive();
        if (!m.is_tuple(3) || !m[0].is_atom(start_a) || !m[1].is_pid()) continue;
        Pid report = m[1].get<Pid>();
        int64_t n = m[2].get<int64_t>();
        auto t0 = Clock::now();
        int64_t count = 0;
        for (;;) {
            Term s = receive();
            if (!s.is_tuple(2) || !s[0].is_atom(seq_a)) continue;
            ++count;
            if (s[1].get<int64_t>() == n) {
                send(report, Term::tuple({sink_done_a, node(), count, static_cast<int64_t>(ns_since(t0))}));
                break;
            }
        }
    }
}

void serve() {
    register_name(echo_name, spawn(echo_loop, SpawnOptions{.label = "bench_echo"}));
    register_name(sink_name, spawn(sink_loop, SpawnOptions{.label = "bench_sink"}));
}

std::unique_ptr<dist::Distribution> start_node(Runtime& runtime, const std::string& name, const std::string& cookie) {
    dist::DistributionOptions o;
    o.name = name;
    o.cookie = cookie;
    auto d = std::make_unique<dist::Distribution>(runtime.kernel(), o);
    d->start();
    return d;
}

// ---------------------------------------------------------------- children

// A child in its own process group, stdout and stderr into one pipe, stdin a
// pipe we hold (closed when we go). Killed (SIGKILL, the whole group) and
// reaped by the destructor; PR_SET_PDEATHSIG kills it if we die first.
class Child {
public:
    explicit Child(std::vector<std::string> args) : what_(args.at(0)) {
        int out[2], in[2];
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0)
            throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
        if (pid_ == 0) {  // async-signal-safe calls only from here to exec
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            ::dup2(out[1], 2);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::setpgid(pid_, pid_);  // also here: no window where a kill of the group misses it
        ::close(in[0]);
        ::close(out[1]);
        in_fd_ = in[1];
        out_fd_ = out[0];
    }
    ~Child() {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        ::close(in_fd_);
        if (out_fd_ >= 0) ::close(out_fd_);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const noexcept { return pid_; }

    // The rest of the line after `needle` (e.g. "READY name@host").
    std::string read_line_after(const std::string& needle, Clock::time_point deadline) {
        for (;;) {
            if (auto at = out_.find(needle); at != std::string::npos) {
                if (auto nl = out_.find('\n', at); nl != std::string::npos)
                    return out_.substr(at + needle.size(), nl - at - needle.size());
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0 || out_fd_ < 0)
                throw std::runtime_error(what_ + " did not print '" + needle + "'; output:\n" + out_);
            pollfd p{out_fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            char buf[4096];
            ssize_t r = ::read(out_fd_, buf, sizeof buf);
            if (r > 0) out_.append(buf, static_cast<std::size_t>(r));
            else if (r == 0 || errno != EINTR) {
                ::close(out_fd_);
                out_fd_ = -1;
            }
        }
    }

private:
    std::string what_;
    pid_t pid_ = -1;
    int in_fd_ = -1, out_fd_ = -1;
    std::string out_;
};

std::string random_cookie() {
    std::random_device rd;
    const char* letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string c;
    for (int i = 0; i < 24; ++i) c += letters[rd() % 26];
    return c;
}

std::string self_exe() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe");
    return std::string(buf, static_cast<std::size_t>(n));
}

// Context switches (voluntary and not) of all of a process's threads so far:
// how many times a thread slept or was put off a core. A diagnostic: each
// thread hand-off on the path of a message costs one or two.
std::uint64_t context_switches(pid_t pid) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream in(task.path() / "status");
        std::string line;
        while (std::getline(in, line)) {
            if (line.starts_with("voluntary_ctxt_switches:") || line.starts_with("nonvoluntary_ctxt_switches:"))
                total += std::stoull(line.substr(line.find(':') + 1));
        }
    }
    return total;
}

// ---------------------------------------------------------------- measuring

// OTPP_BENCH_DEBUG=1: progress on stderr.
void debug(const std::string& what) {
    static const bool on = std::getenv("OTPP_BENCH_DEBUG") != nullptr;
    if (on) std::fprintf(stderr, "dist: %s\n", what.c_str());
}

Term expect(FunctionRef<bool(const Term&)> accept, const char* what) {
    auto m = detail::receive(accept, reply_timeout);
    if (!m) throw std::runtime_error(std::string("timed out waiting for ") + what);
    debug(std::string("got ") + what);
    return *m;
}

bool is_tagged(const Term& m, Atom tag) { return m.is_tuple() && m.size() >= 1 && m[0].is_atom(tag); }

Pid echo_of(Atom node) {
    send(echo_name, node, Term::tuple({self(), whoami_a}));
    Term m = expect([](const Term& t) { return is_tagged(t, echo_pid_a); }, "bench_echo's pid");
    return m[1].get<Pid>();
}

// This node pings `echo`: samples in ns.
std::vector<double> host_rtt(Pid echo, long n) {
    auto samples = std::make_shared<std::vector<double>>();
    samples->reserve(static_cast<std::size_t>(n));
    Pid report = self();
    spawn([echo, n, samples, report] {
        Pid me = self();
        for (long i = 0; i < warmup_round_trips + n; ++i) {
            auto t0 = Clock::now();
            send(echo, Term::tuple({me, i}));
            Term back = receive();
            double ns = ns_since(t0);
            if (back != Term(i)) {
                send(report, Term::tuple({rtt_done_a, Atom("wrong_reply"), back}));
                return;
            }
            if (i >= warmup_round_trips) samples->push_back(ns);
        }
        send(report, Term::tuple({rtt_done_a, atoms::ok}));
    }, SpawnOptions{.label = "bench_pinger"});
    Term m = expect([](const Term& t) { return is_tagged(t, rtt_done_a); }, "the pinger");
    if (!m[1].is_atom(atoms::ok)) throw std::runtime_error("wrong echo reply: " + m.to_string(200));
    return std::move(*samples);
}

// E1's bench_ctl pings `echo`.
std::vector<double> beam_rtt(Atom beam, Pid echo, long n) {
    send(ctl_name, beam, Term::tuple({rtt_a, self(), echo, warmup_round_trips, n}));
    Term m = expect([](const Term& t) { return is_tagged(t, rtt_done_a); }, "erl's pinger");
    std::vector<double> out;
    for (const Term& t : m[1].elements()) out.push_back(static_cast<double>(t.get<int64_t>()));
    if (out.size() != static_cast<std::size_t>(n)) throw std::runtime_error("erl returned a short sample");
    return out;
}

struct Throughput {
    double msgs_per_s = 0;   // at the receiver, start to last
    double sender_s = 0;     // until the sender had sent (queued) the last
};

Throughput wait_sink(long n, const char* pair) {
    Term m = expect([](const Term& t) { return is_tagged(t, sink_done_a); }, "the receiver");
    Term s = expect([](const Term& t) { return is_tagged(t, sent_a); }, "the sender");
    if (m[2].get<int64_t>() != n) {
        std::printf("WRONG_COUNT pair=%s sent=%ld received=%lld\n", pair, n,
                    static_cast<long long>(m[2].get<int64_t>()));
        std::fflush(stdout);
        throw std::runtime_error("messages lost");
    }
    return {static_cast<double>(n) / (static_cast<double>(m[3].get<int64_t>()) / 1e9),
            static_cast<double>(s[1].get<int64_t>()) / 1e9};
}

// This node sends N to {bench_sink, to}.
Throughput host_send(Atom to, long n, const char* pair) {
    Pid report = self();
    auto progress = std::make_shared<std::atomic<long>>(0);
    Pid sender = spawn([to, n, report, progress] {
        auto t0 = Clock::now();
        send(sink_name, to, Term::tuple({start_a, report, static_cast<int64_t>(n)}));
        for (long i = 1; i <= n; ++i) {
            send(sink_name, to, Term::tuple({seq_a, i}));
            progress->store(i, std::memory_order_relaxed);
            // A remote send costs one reduction like a local one but takes
            // ~1 us (encoding, the connection's queue): a slice of them would
            // hold the scheduler for ~4 ms. Yield about as often as a slice
            // of local sends would.
            if (i % 256 == 0) yield();
        }
        send(report, Term::tuple({sent_a, static_cast<int64_t>(ns_since(t0))}));
    }, SpawnOptions{.label = "bench_sender"});
    try {
        return wait_sink(n, pair);
    } catch (const std::exception& e) {
        auto info = Runtime::current()->process_info(sender);
        throw std::runtime_error(std::string(e.what()) + " (" + pair + ": the sender had sent " +
                                 std::to_string(progress->load()) + " of " + std::to_string(n) + ", status " +
                                 (info ? std::string(to_string(info->status)) : std::string("gone")) + ")");
    }
}

// E1's bench_ctl sends N to {bench_sink, to}.
Throughput beam_send(Atom beam, Atom to, long n, const char* pair) {
    send(ctl_name, beam, Term::tuple({send_a, self(), to, static_cast<int64_t>(n), self()}));
    return wait_sink(n, pair);
}

double percentile(std::vector<double>& v, double p) {
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(static_cast<double>(v.size()) * p);
    return v[std::min(v.size() - 1, i)];
}

// Four nodes share two cores with whatever else runs: a scheduler thread the
// OS keeps off its core for 20 ms would be declared stuck by the watchdog,
// and a process that yields on a replaced scheduler can then be left in a
// run queue nobody wakes (README.md, "Distribution"). Nothing here loops
// without yielding, so the watchdog is given 2 s.
RuntimeOptions dist_runtime_options(RuntimeOptions o) {
    o.stuck_after = std::max(o.stuck_after, std::chrono::milliseconds(2000));
    return o;
}

int usage_error(const char* why) {
    std::fprintf(stderr, "dist: %s\n", why);
    return 2;
}

}  // namespace

// ---------------------------------------------------------------- the peer

int run_dist_peer(const std::vector<std::string>& args, const RuntimeOptions& options) {
    if (args.size() < 2) return usage_error("dist_peer NAME COOKIE");
    Runtime runtime(dist_runtime_options(options));
    auto node = start_node(runtime, args[0], args[1]);
    serve();
    std::printf("READY %s\n", std::string(node->node_name().name()).c_str());
    std::fflush(stdout);
    // Until the driver closes our stdin (or kills us).
    for (char c;;) {
        ssize_t r = ::read(0, &c, 1);
        if (r == 0 || (r < 0 && errno != EINTR)) break;
    }
    node->stop();
    return 0;
}

// ---------------------------------------------------------------- the driver

int run_dist(const std::vector<std::string>& args_in, const RuntimeOptions& options, bool rtt, bool throughput) {
    std::vector<std::string> args;
    std::vector<std::string> pairs = {"host-host", "host-beam", "beam-host", "beam-beam"};
    for (std::size_t i = 0; i < args_in.size(); ++i) {
        if (args_in[i] == "--pairs" && i + 1 < args_in.size()) {
            pairs.clear();
            std::istringstream in(args_in[++i]);
            for (std::string p; std::getline(in, p, ',');) pairs.push_back(p);
        } else {
            args.push_back(args_in[i]);
        }
    }
    std::size_t at = 0;
    long n_rtt = rtt ? (args.size() > at ? std::stol(args[at++]) : 10'000) : 0;
    long n_msgs = throughput ? (args.size() > at ? std::stol(args[at++]) : 500'000) : 0;
    long rounds = args.size() > at ? std::stol(args[at++]) : 3;
    for (const std::string& p : pairs)
        if (p != "host-host" && p != "host-beam" && p != "beam-host" && p != "beam-beam")
            return usage_error("pairs: host-host, host-beam, beam-host, beam-beam");
    auto wants = [&](const std::string& p) { return std::find(pairs.begin(), pairs.end(), p) != pairs.end(); };
    const bool need_peer = wants("host-host");
    const bool need_beam = wants("host-beam") || wants("beam-host") || wants("beam-beam");
#ifndef OTPP_BENCH_ERL
    if (need_beam) return usage_error("built without erl/erlc: only --pairs host-host");
#endif
    if (n_rtt < 1 && rtt) return usage_error("N must be >= 1");
    if (n_msgs < 1 && throughput) return usage_error("N must be >= 1");

    try {
        const std::string cookie = random_cookie();
        const std::string tag = std::to_string(::getpid());
        const auto deadline = Clock::now() + 60s;
        // The children start while this node does.
        std::unique_ptr<Child> peer, e1, e2;
        if (need_peer) {
            std::vector<std::string> a = {self_exe(), "dist_peer", "otppbench_b_" + tag, cookie};
            if (options.schedulers != 0) {
                a.push_back("--schedulers");
                a.push_back(std::to_string(options.schedulers));
            }
            peer = std::make_unique<Child>(a);
        }
#ifdef OTPP_BENCH_ERL
        auto erl = [&](const std::string& alive) {
            return std::make_unique<Child>(std::vector<std::string>{OTPP_BENCH_ERL, "-sname", alive, "-setcookie", cookie,
                                                                    "-noshell", "-pa", OTPP_BENCH_BEAM_DIR, "-s",
                                                                    "bench_dist", "main"});
        };
        if (need_beam) {
            e1 = erl("otppbench_e1_" + tag);
            if (wants("beam-beam")) e2 = erl("otppbench_e2_" + tag);
        }
#endif
        Runtime runtime(dist_runtime_options(options));
        auto node = start_node(runtime, "otppbench_a_" + tag, cookie);
        serve();
        ScopedProcess me;

        Atom host_b, beam1, beam2;
        Pid echo_b, echo_a, echo_e1, echo_e2;
        echo_a = *whereis(echo_name);
        auto connect = [&](Atom n) {
            if (!connect_node(n)) throw std::runtime_error("cannot connect to " + std::string(n.name()));
        };
        if (peer) {
            host_b = Atom(peer->read_line_after("READY ", deadline));
            debug("connecting to " + std::string(host_b.name()));
            connect(host_b);
            echo_b = echo_of(host_b);
        }
        if (e1) {
            beam1 = Atom(e1->read_line_after("READY ", deadline));
            debug("connecting to " + std::string(beam1.name()));
            connect(beam1);
            echo_e1 = echo_of(beam1);
        }
        if (e2) {
            beam2 = Atom(e2->read_line_after("READY ", deadline));
            debug("connecting to " + std::string(beam2.name()));
            connect(beam2);
            echo_e2 = echo_of(beam2);
            send(ctl_name, beam1, Term::tuple({connect_a, self(), beam2}));
            Term m = expect([](const Term& t) { return is_tagged(t, connected_a); }, "E1 -> E2");
            if (!m[1].is_atom(atoms::true_)) throw std::runtime_error("E1 cannot connect to E2");
        }

        // The two OS processes of each pair (for context_switches).
        const pid_t a_pid = ::getpid();
        auto procs = [&](const std::string& p) -> std::vector<pid_t> {
            if (p == "host-host") return {a_pid, peer->pid()};
            if (p == "beam-beam") return {e1->pid(), e2->pid()};
            return {a_pid, e1->pid()};
        };
        auto switches = [&](const std::string& p) {
            std::uint64_t n = 0;
            for (pid_t pid : procs(p)) n += context_switches(pid);
            return static_cast<double>(n);
        };
        std::map<std::string, std::vector<double>> rtt_samples;
        std::map<std::string, std::vector<double>> rates, sender_s;
        std::map<std::string, double> rtt_switches, msg_switches;
        for (long r = 0; r < rounds; ++r) {
            for (const std::string& p : pairs) {
                if (rtt) {
                    double cs0 = switches(p);
                    std::vector<double> s;
                    if (p == "host-host") s = host_rtt(echo_b, n_rtt);
                    else if (p == "host-beam") s = host_rtt(echo_e1, n_rtt);
                    else if (p == "beam-host") s = beam_rtt(beam1, echo_a, n_rtt);
                    else if (p == "beam-beam") s = beam_rtt(beam1, echo_e2, n_rtt);
                    rtt_switches[p] += switches(p) - cs0;
                    auto& all = rtt_samples[p];
                    all.insert(all.end(), s.begin(), s.end());
                }
                if (throughput) {
                    double cs0 = switches(p);
                    Throughput t;
                    if (p == "host-host") t = host_send(host_b, n_msgs, p.c_str());
                    else if (p == "host-beam") t = host_send(beam1, n_msgs, p.c_str());
                    else if (p == "beam-host") t = beam_send(beam1, node->node_name(), n_msgs, p.c_str());
                    else if (p == "beam-beam") t = beam_send(beam1, beam2, n_msgs, p.c_str());
                    msg_switches[p] += switches(p) - cs0;
                    rates[p].push_back(t.msgs_per_s);
                    sender_s[p].push_back(t.sender_s);
                }
            }
        }

        const std::string common = "rounds=" + std::to_string(rounds) +
                                   " schedulers=" + std::to_string(runtime.stats().schedulers);
        for (const std::string& p : pairs) {
            if (rtt) {
                auto& v = rtt_samples[p];
                std::string tags = "pair=" + p + " n=" + std::to_string(n_rtt) + " " + common;
                char cs[64];
                std::snprintf(cs, sizeof cs, " cs_per_rt=%.2f",
                              rtt_switches[p] / static_cast<double>(rounds * (n_rtt + warmup_round_trips)));
                metric("dist_rtt_us", percentile(v, 0.5) / 1000.0, tags + " stat=median" + cs);
                metric("dist_rtt_us", percentile(v, 0.99) / 1000.0, tags + " stat=p99");
            }
            if (throughput) {
                auto v = rates[p];
                std::string each;
                for (double x : rates[p]) {
                    if (!each.empty()) each += ',';
                    each += std::to_string(static_cast<long>(x));
                }
                std::string sent;
                for (double x : sender_s[p]) {
                    char b[32];
                    std::snprintf(b, sizeof b, "%s%.3f", sent.empty() ? "" : ",", x);
                    sent += b;
                }
                char cs[64];
                std::snprintf(cs, sizeof cs, " cs_per_msg=%.3f", msg_switches[p] / static_cast<double>(rounds * n_msgs));
                metric("dist_msgs_per_s", percentile(v, 0.5),
                       "pair=" + p + " n=" + std::to_string(n_msgs) + " " + common + " stat=median rounds_each=" +
                           each + " sender_done_s=" + sent + cs);
            }
        }
        node->stop();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dist: %s\n", e.what());
        return 1;
    }
}

int run_dist_rtt(const std::vector<std::string>& args, const RuntimeOptions& options) {
    return run_dist(args, options, true, false);
}
int run_dist_throughput(const std::vector<std::string>& args, const RuntimeOptions& options) {
    return run_dist(args, options, false, true);
}
int run_dist_all(const std::vector<std::string>& args, const RuntimeOptions& options) {
    return run_dist(args, options, true, true);
}

}  // namespace otpp::bench
