// Distribution against a real BEAM node (Debian's OTP 25) on loopback: the
// host answers a BEAM node's sends, calls, casts, monitors and links, and
// calls, monitors and links a BEAM node's processes itself; connection loss,
// wrong cookies, and random terms echoed both ways. The BEAM side is
// beam_peer.erl (compiled at build time); every erl is killed at the end of
// its test, whatever happens.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"

#include <distribution.hpp>

#include "../../host/runtime/kernel.hpp"

#include <otpp/gen_server.hpp>
#include <otpp/node.hpp>
#include <otpp/process.hpp>
#include <otpp/rpc.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <sys/wait.h>
#include <unistd.h>
#include <sstream>

using namespace otpp;
using namespace otpp::dist;
using namespace otpp::dist::test;

namespace {

const Atom echo_atom("echo"), pid_atom("pid"), whoami("whoami"), die("die"), calc("calc"), add("add");

// A GenServer on the host for the BEAM to call: {add, A, B} -> A + B;
// self_pid -> its pid; {store, X} (cast) then stored -> X; anything else comes back.
struct Calc {
    struct State {
        Term stored;
        OTPP_TERM_FIELDS(stored)
    };
    static gen_server::Init<State> init(const Term&) { return State{}; }
    static gen_server::CallReply handle_call(const Term& r, const gen_server::From&, State& s) {
        if (r.is_tuple(3) && r[0].is_atom(add)) return gen_server::reply(r[1].get<int64_t>() + r[2].get<int64_t>());
        if (r.is_atom(Atom("self_pid"))) return gen_server::reply(self());
        if (r.is_atom(Atom("stored"))) return gen_server::reply(s.stored);
        return gen_server::reply(r);
    }
    static void handle_cast(const Term& m, State& s) {
        if (m.is_tuple(2) && m[0].is_atom(Atom("store"))) s.stored = m[1];
    }
    // rpc:call(Host, interop_calc, sum, [List]) and fail/0.
    static Term rpc(Atom f, const Term& args) {
        if (f == Atom("sum") && args.size() == 1) {
            int64_t total = 0;
            for (const Term& t : args[0].elements()) total += t.get<int64_t>();
            return total;
        }
        if (f == Atom("fail")) throw std::runtime_error("asked to fail");
        throw gen_server::Undef{};
    }
};
constexpr ModuleDescriptor calc_module = gen_server::module<Calc>("interop_calc", "1.0.0");

// {From, Msg} -> From ! {echo, Msg}; {From, whoami} -> From ! {pid, Self};
// {From, {die, R}} -> exits with R.
void echo_loop() {
    for (;;) {
        Term m = receive();
        if (!m.is_tuple(2) || !m[0].is_pid()) continue;
        Pid from = m[0].get<Pid>();
        if (m[1].is_atom(whoami)) send(from, Term::tuple({pid_atom, self()}));
        else if (m[1].is_tuple(2) && m[1][0].is_atom(die)) exit(m[1][1]);
        else send(from, Term::tuple({echo_atom, m[1]}));
    }
}

std::string random_cookie() { return "C" + std::to_string(::getpid()) + "X" + std::to_string(std::rand()); }

// A host node: a runtime, distribution under a unique name, and the echo
// process and calc server the BEAM scripts talk to.
struct HostNode {
    std::string cookie = random_cookie();
    Runtime runtime{RuntimeOptions{.schedulers = 2}};
    std::unique_ptr<Distribution> dist;
    std::string name;

    explicit HostNode(std::string_view tag) {
        DistributionOptions o;
        o.name = unique_alive(tag);
        o.cookie = cookie;
        o.net_ticktime = std::chrono::seconds(4);
        dist = std::make_unique<Distribution>(runtime.kernel(), o);
        dist->start();
        name = std::string(dist->node_name().name());
        register_name(echo_atom, spawn(echo_loop));
        register_name(Atom("echo_small"), spawn(echo_loop));
        ScopedProcess starter;
        gen_server::register_builtin(calc_module);  // rpc:call finds it as the current interop_calc
        auto r = gen_server::start(calc_module, Term(), {.name = calc});
        REQUIRE(r.ok());
    }
    ~HostNode() { dist->stop(); }
};

std::string beam_peer_dir() { return OTPP_BEAM_PEER_DIR; }

// erl running beam_peer:main([Host, Scenario]).
std::vector<std::string> peer_args(const std::string& alive, const std::string& cookie, const std::string& host,
                                   const std::string& scenario) {
    return {"-sname", alive, "-setcookie", cookie, "-noshell", "-pa", beam_peer_dir(),
            "-s", "beam_peer", "main", host, scenario};
}

// "RESULT key term" lines.
std::map<std::string, std::string> results(const std::string& output) {
    std::map<std::string, std::string> out;
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.starts_with("RESULT ")) continue;
        auto sp = line.find(' ', 7);
        out[line.substr(7, sp - 7)] = sp == std::string::npos ? "" : line.substr(sp + 1);
    }
    return out;
}

}  // namespace

TEST_CASE("a BEAM node pings, sends to, calls, casts, monitors and links the host's processes", "[dist][beam]") {
    HostNode host("hsrv");
    ErlNode erl(peer_args(unique_alive("beam"), host.cookie, host.name, "host_serves"));
    std::string out = erl.wait_exit(Deadline(60s));
    INFO(out);
    auto r = results(out);
    CHECK(r["ping"] == "pong");
    // Hidden to the BEAM: otpp does not speak global's protocol, and a
    // visible node that does not makes global:sync() hang there.
    CHECK(r["visible"] == "false");
    CHECK(r["hidden"] == "true");
    CHECK(r["global_sync"] == "ok");
    CHECK(r["echo"] == "hello");
    CHECK(r["echo_node"] == host.name);
    CHECK(r["echo_by_pid"] == "[1,2,3]");
    CHECK(r["call"] == "42");
    CHECK(r["call_roundtrip"] == "true");
    CHECK(r["call_by_pid"] == "2");
    CHECK(r["cast"] == "casted");
    CHECK(r["call_missing"].starts_with("{'EXIT',{noproc,{gen_server,call,[{nobody,"));
    CHECK(r["down"] == "boom");
    CHECK(r["exit"] == "boom");
    CHECK(r["monitor_dead"] == "noproc");
    CHECK(r["rpc_sum"] == "6");
    CHECK(r["rpc_fail"] == "{badrpc,{'EXIT',{exception,<<\"std::runtime_error: asked to fail\">>}}}");
    CHECK(r["rpc_undef"] == "{badrpc,{'EXIT',{undef,[{interop_calc,nope,[],[]}]}}}");
    CHECK(r["rpc_no_module"] == "{badrpc,{'EXIT',{undef,[{no_such_module,f,[1],[]}]}}}");
    CHECK(r.count("crashed") == 0);
}

TEST_CASE("the host calls, monitors and links a BEAM node's processes, and sees it go", "[dist][beam]") {
    HostNode host("hcli");
    std::string beam_alive = unique_alive("beam");
    ErlNode erl(peer_args(beam_alive, host.cookie, host.name, "beam_serves"));
    erl.read_until("READY", Deadline(30s));
    Atom beam(beam_alive + "@" + short_host());

    ScopedProcess me;
    trap_exit(true);
    monitor_nodes(true);
    REQUIRE(connect_node(beam));
    CHECK(receive(std::chrono::seconds(5)) == Term(Term::tuple({Atom("nodeup"), beam})));
    std::vector<Atom> connected = nodes();
    CHECK(connected == std::vector<Atom>{beam});

    gen_server::NameOnNode server{Atom("beam_server"), beam};
    CHECK(gen_server::call(server, Term::tuple({add, 2, 3})) == Term(5));
    Term big = Term::tuple({Term::binary(std::string(100000, 'x')), Term::list({1, 2, 3}), make_ref(), self(), 2.5,
                            Term::map({{Atom("k"), Term::list({})}})});
    CHECK(gen_server::call(server, Term::tuple({echo_atom, big})) == big);
    Pid server_pid = gen_server::call(server, whoami).get<Pid>();
    CHECK(node(server_pid) == beam);
    CHECK(gen_server::call(server_pid, Term::tuple({add, 1, 1})) == Term(2));
    gen_server::cast(server, Term::tuple({Atom("send_to"), self(), Atom("casted")}));
    auto casted = [](const Term& m) { return m == Term(Atom("casted")); };
    CHECK(receive(casted, std::chrono::seconds(5)).has_value());

    // A name nobody holds there: noproc at once (a monitor by name).
    auto missing = gen_server::try_call(gen_server::NameOnNode{Atom("nobody"), beam}, Atom("x"), std::chrono::seconds(5));
    CHECK_FALSE(missing.ok);
    CHECK(missing.value == Term(atoms::noproc));

    // rpc:call on the BEAM node: a function's value, its output (through our
    // group leader), and its failure.
    CHECK(rpc::call(beam, Atom("lists"), Atom("sum"), Term::list({Term::list({1, 2, 3})}), std::chrono::seconds(5)) ==
          Term(6));
    CHECK(rpc::call(beam, Atom("io"), Atom("format"), Term::list({Term::list({'h', 'i', '~', 'n'})}),
                    std::chrono::seconds(5)) == Term(atoms::ok));
    Term failed = rpc::call(beam, Atom("erlang"), Atom("error"), Term::list({Atom("oops")}), std::chrono::seconds(5));
    INFO(failed.to_string());
    REQUIRE(failed.is_tuple(2));
    CHECK(failed[0] == Term(Atom("badrpc")));
    CHECK(failed[1][0] == Term(atoms::EXIT));
    CHECK(failed[1][1][0] == Term(Atom("oops")));
    CHECK(rpc::call(Atom("nobody_at_all@" + short_host()), Atom("lists"), Atom("sum"), Term::list({Term::list({})}),
                    std::chrono::seconds(5)) == Term::tuple({Atom("badrpc"), Atom("nodedown")}));

    // Processes to link and monitor: one we shoot with exit/2, one that is
    // still alive when its node goes.
    Pid victim = gen_server::call(server, Atom("spawn_sleeper")).get<Pid>();
    Pid sleeper = gen_server::call(server, Atom("spawn_sleeper")).get<Pid>();
    Ref vref = monitor(victim);
    exit(victim, Atom("shot"));
    auto shot = receive(match::tuple(atoms::DOWN, vref, match::_, match::_, match::_), std::chrono::seconds(5));
    REQUIRE(shot);
    CHECK((*shot)[4] == Term(Atom("shot")));
    link(sleeper);
    Ref sref = monitor(sleeper);

    // A BEAM process that stops: our monitor says why.
    Ref mref = monitor(server_pid);
    CHECK(gen_server::call(server_pid, Term::tuple({Atom("exit_with"), Atom("bye")})) == Term(atoms::ok));
    auto down = receive(match::tuple(atoms::DOWN, mref, match::_, match::_, match::_), std::chrono::seconds(5));
    REQUIRE(down);
    CHECK((*down)[3] == Term(server_pid));
    CHECK((*down)[4] == Term(Atom("bye")));

    // The BEAM node halts: the link and the monitor fire with noconnection,
    // monitor_nodes says nodedown.
    send(Atom("beam_main"), beam, Term::tuple({Atom("halt"), self()}));
    CHECK(receive([](const Term& m) { return m == Term(Atom("halting")); }, std::chrono::seconds(5)).has_value());
    bool exit_seen = false, down_seen = false, nodedown_seen = false;
    for (int i = 0; i < 3; ++i) {
        auto m = receive(std::chrono::seconds(15));
        REQUIRE(m);
        if (*m == Term::tuple({atoms::EXIT, sleeper, atoms::noconnection})) exit_seen = true;
        else if (*m == Term::tuple({atoms::DOWN, sref, atoms::process, sleeper, atoms::noconnection})) down_seen = true;
        else if (*m == Term::tuple({Atom("nodedown"), beam})) nodedown_seen = true;
        else FAIL("unexpected " << m->to_string());
    }
    CHECK(exit_seen);
    CHECK(down_seen);
    CHECK(nodedown_seen);
    CHECK(nodes().empty());
    erl.wait_exit(Deadline(10s));
}

TEST_CASE("a wrong cookie is refused both ways", "[dist][beam]") {
    HostNode host("hcookie");
    std::string beam_alive = unique_alive("beam");
    ErlNode erl(peer_args(beam_alive, "not-" + host.cookie, host.name, "ping_only"));
    std::string out = erl.wait_exit(Deadline(30s));
    INFO(out);
    CHECK(results(out)["ping"] == "pang");

    ErlNode server(peer_args(beam_alive + "s", "not-" + host.cookie, host.name, "beam_serves"));
    server.read_until("READY", Deadline(30s));
    ScopedProcess me;
    CHECK_FALSE(connect_node(Atom(beam_alive + "s@" + short_host())));
    CHECK(nodes().empty());
}

TEST_CASE("random terms sent by a BEAM node come back =:=", "[dist][beam]") {
    HostNode host("hecho");
    ErlNode erl(peer_args(unique_alive("beam"), host.cookie, host.name, "echo_property"));
    std::string out = erl.wait_exit(Deadline(60s));
    INFO(out);
    auto r = results(out);
    CHECK(r["echo_checked"] == "300");
    CHECK(r["echo_mismatches"] == "[]");
}

TEST_CASE("a 64 MiB message each way does not hold up small messages", "[dist][beam]") {
    HostNode host("hbig");
    ErlNode erl(peer_args(unique_alive("beam"), host.cookie, host.name, "large_message"));
    std::string out = erl.wait_exit(Deadline(120s));
    INFO(out);
    auto r = results(out);
    CHECK(r["big_back"] == std::to_string(64 * 1024 * 1024));
    REQUIRE(r.count("small_during_big"));
    CHECK(std::stol(r["small_during_big"]) >= 1);
    // On the wire, both ways: the big message went in fragments, and small
    // messages of other processes travelled between its fragments.
    const TrafficCounters& t = host.dist->traffic();
    CHECK(t.fragments_in.load() >= 1024);   // 64 MiB in 64 KiB fragments
    CHECK(t.fragments_out.load() >= 1024);
    CHECK(t.interleaved_in.load() >= 1);
    CHECK(t.interleaved_out.load() >= 1);
    // The echo was suspended while its 64 MiB left (the busy limit, per
    // sender); echo_small was not (its replies interleaved above).
    CHECK(t.busy_waits.load() >= 1);
}

TEST_CASE("a flood to a frozen BEAM node suspends its senders past the busy limit and all arrives in order",
          "[dist][beam]") {
    HostNode host("hflood");  // busy limit: the default, 1 MiB
    ScopedProcess me;
    register_name(Atom("flood_test"), self());
    ErlNode erl(peer_args(unique_alive("beam"), host.cookie, host.name, "flood_sink"));
    auto hello = receive([](const Term& t) { return t.is_tuple(2) && t[0].is_atom(Atom("sink")); }, 30s);
    REQUIRE(hello);
    const Pid sink = (*hello)[1].get<Pid>();
    static constexpr int senders = 3, each = 1500;
    static std::atomic<int> progress[senders];
    send(sink, Term::tuple({Atom("flood_expect"), int64_t{senders}}));
    const TrafficCounters& t = host.dist->traffic();
    const std::uint64_t direct_before = t.direct_out.load();
    // Frozen: the socket's buffers fill; a sender's own write finds it full
    // and leaves the rest (in part or whole) to the connection's writer;
    // then the queue passes the busy limit and the senders are suspended.
    ::kill(erl.pid(), SIGSTOP);
    std::int64_t bytes = 0;
    auto start_sender = [&](int s) {
        progress[s] = 0;
        for (int i = 1; i <= each; ++i) bytes += (i * 7919 + s * 131) % 40000 + 1;
        spawn([s, sink, me = self()] {
            for (int i = 1; i <= each; ++i) {
                std::string blob(static_cast<std::size_t>((i * 7919 + s * 131) % 40000 + 1), static_cast<char>('a' + s));
                send(sink, Term::tuple({Atom("flood"), int64_t{s}, int64_t{i}, Term::binary(blob)}));
                progress[s].store(i);
                // The first sender's first messages spaced out: each finds the
                // connection idle (not a burst, which the writer would take),
                // so that its own write is the one that finds the socket full.
                if (s == 0 && i <= 400) sleep_for(std::chrono::milliseconds(1));
            }
            send(sink, Term::tuple({Atom("flood_end"), int64_t{s}, int64_t{each}}));
            send(me, Atom("sent"));
        });
    };
    auto sent = [](Timeout within) {
        return receive([](const Term& m) { return m.is_atom(Atom("sent")); }, within).has_value();
    };
    // The first alone: with nothing queued, its packets go straight to the
    // socket until it is full (30 MB > loopback's buffers).
    start_sender(0);
    CHECK_FALSE(sent(1500ms));  // without the limit: done in ~0.5 s, the 30 MB queued
    CHECK(t.direct_out.load() > direct_before);
    CHECK(t.deferred_out.load() >= 1);
    CHECK(t.busy_now.load() == 1);
    const std::uint64_t waits = t.busy_waits.load();
    CHECK(waits >= 1);
    // What it got out: the socket's buffers and at most the limit queued
    // (plus the message that crossed it; the messages average 20 KB).
    INFO("sent before the limit held it: " << progress[0].load());
    CHECK(progress[0].load() < each / 2);
    // The others too are suspended, behind what waits.
    for (int s = 1; s < senders; ++s) start_sender(s);
    CHECK_FALSE(sent(500ms));
    ::kill(erl.pid(), SIGCONT);
    for (int s = 0; s < senders; ++s) CHECK(sent(60s));
    std::string out = erl.wait_exit(Deadline(120s));
    INFO(out);
    auto r = results(out);
    CHECK(r["flood_messages"] == std::to_string(senders * each));
    CHECK(r["flood_bytes"] == std::to_string(bytes));
    CHECK(r["flood_disorder"] == "0");
    CHECK(t.busy_now.load() == 0);
    CHECK(t.busy_waits.load() > waits);
}

TEST_CASE("a peer that stops answering is declared down after net_ticktime", "[dist][beam]") {
    HostNode host("htick");  // net_ticktime 4 s
    std::string beam_alive = unique_alive("beam");
    ErlNode erl(peer_args(beam_alive, host.cookie, host.name, "beam_serves"));
    erl.read_until("READY", Deadline(30s));
    Atom beam(beam_alive + "@" + short_host());
    ScopedProcess me;
    monitor_nodes(true);
    REQUIRE(connect_node(beam));
    CHECK(receive(std::chrono::seconds(5)) == Term(Term::tuple({Atom("nodeup"), beam})));
    // Frozen: the socket stays open, but nothing comes back, not even ticks.
    ::kill(erl.pid(), SIGSTOP);
    auto t0 = std::chrono::steady_clock::now();
    auto down = receive(std::chrono::seconds(30));
    auto waited = std::chrono::steady_clock::now() - t0;
    ::kill(erl.pid(), SIGCONT);
    REQUIRE(down);
    CHECK(*down == Term::tuple({Atom("nodedown"), beam}));
    // Not before the ticktime has passed (it is a lower bound, not a timing target).
    CHECK(waited >= std::chrono::seconds(3));
}

TEST_CASE("a BEAM node sees nodedown when an otpp-host is killed, and connects to its next incarnation",
          "[dist][beam]") {
    TempDir dir;
    std::string cookie = random_cookie();
    std::string alive = unique_alive("victim");
    {
        std::ofstream(dir.path() / "host.toml") << "[node]\nname = \"" << alive << "@" << short_host()
                                                << "\"\nschedulers = 1\n[control]\nenabled = false\n"
                                                << "[distribution]\nenabled = true\ncookie = \"" << cookie << "\"\n";
    }
    auto start_host = [&] {
        pid_t pid = fork();
        if (pid == 0) {
            std::freopen((dir.path() / "host.log").c_str(), "a", stderr);
            ::execl(OTPP_HOST_BINARY, OTPP_HOST_BINARY, "--config", (dir.path() / "host.toml").c_str(), nullptr);
            ::_exit(127);
        }
        return pid;
    };
    pid_t host = start_host();
    std::string host_name = alive + "@" + short_host();
    ErlNode erl(peer_args(unique_alive("beam"), cookie, host_name, "watch_host"));
    erl.read_until("WATCHING", Deadline(30s));
    ::kill(host, SIGKILL);
    ::waitpid(host, nullptr, 0);
    erl.read_until("RESULT nodedown", Deadline(30s));
    // The next incarnation (same name, new creation): the BEAM reconnects on
    // its next ping.
    host = start_host();
    std::string out = erl.wait_exit(Deadline(60s));
    ::kill(host, SIGKILL);
    ::waitpid(host, nullptr, 0);
    INFO(out);
    auto r = results(out);
    CHECK(r["nodedown"] == host_name);
    CHECK(r["monitor"] == "noconnection");
    CHECK(r["ping_again"] == "pong");
}
