// TLS distribution against real BEAM nodes (Debian's OTP 25, erl
// -proto_dist inet_tls -ssl_dist_optfile F) on loopback: pings and
// messages both ways; plain nodes and nodes with certificates another CA
// signed are refused, whichever side connects, with a log line that says
// why; traffic keeps flowing while the BEAM renegotiates (TLS 1.2) or
// updates its keys (TLS 1.3). The BEAM side is beam_tls_peer.erl.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"
#include "tls_test_pki.hpp"

#include <distribution.hpp>

#include "../../host/runtime/kernel.hpp"

#include <otpp/node.hpp>
#include <otpp/process.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>

#include <algorithm>
#include <map>
#include <sstream>
#include <thread>

using namespace otpp;
using namespace otpp::dist;
using namespace otpp::dist::test;

namespace {

bool connected_to(Atom node) {
    std::vector<Atom> now = nodes();  // one vector: find() needs both ends of the same one
    return std::find(now.begin(), now.end(), node) != now.end();
}

const Atom echo_atom("echo");

// {From, Msg} -> From ! {echo, Msg}.
void echo_loop() {
    for (;;) {
        Term m = receive();
        if (m.is_tuple(2) && m[0].is_pid()) send(m[0].get<Pid>(), Term::tuple({echo_atom, m[1]}));
    }
}

std::string random_cookie() { return "T" + std::to_string(::getpid()) + "X" + std::to_string(std::rand()); }

// The certificates: our CA, a rogue CA, the host's certificate and BEAM
// nodes' certificates from each.
struct Pki {
    TempDir dir;
    CertFiles ca = make_ca(dir.path(), "ca");
    CertFiles rogue_ca = make_ca(dir.path(), "rogue-ca");
    CertFiles host = make_node_cert(dir.path(), "otpp-host", ca, {.hosts = local_hosts()});
    CertFiles beam = make_node_cert(dir.path(), "beam", ca, {.hosts = local_hosts()});
    CertFiles rogue = make_node_cert(dir.path(), "rogue-beam", rogue_ca, {.hosts = local_hosts()});
};

// An otpp node with TLS distribution and an echo process.
struct TlsHost {
    std::string cookie = random_cookie();
    Runtime runtime{RuntimeOptions{.schedulers = 2}};
    std::unique_ptr<Distribution> dist;
    std::string name;

    TlsHost(std::string_view tag, const Pki& pki, std::chrono::milliseconds connect_timeout = std::chrono::seconds(7),
            std::chrono::milliseconds net_ticktime = std::chrono::seconds(8)) {
        LogCapture::get();  // before any thread logs
        DistributionOptions o;
        o.name = unique_alive(tag);
        o.cookie = cookie;
        o.net_ticktime = net_ticktime;
        o.connect_timeout = connect_timeout;
        o.tls = TlsOptions{pki.host.cert, pki.host.key, pki.ca.cert};
        dist = std::make_unique<Distribution>(runtime.kernel(), o);
        dist->start();
        name = std::string(dist->node_name().name());
        register_name(echo_atom, spawn(echo_loop));
    }
    ~TlsHost() { dist->stop(); }
};

// erl running beam_tls_peer:main([Host, Scenario]); with an optfile, over TLS.
std::vector<std::string> peer_args(const std::string& alive, const std::string& cookie, const std::string& host,
                                   const std::string& scenario, const std::optional<std::filesystem::path>& optfile,
                                   std::vector<std::string> extra = {}) {
    std::vector<std::string> a = std::move(extra);
    if (optfile)
        for (std::string s : {"-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile->c_str()}) a.push_back(s);
    for (std::string s : {"-sname", alive.c_str(), "-setcookie", cookie.c_str(), "-noshell", "-pa", OTPP_BEAM_TLS_PEER_DIR,
                          "-s", "beam_tls_peer", "main", host.c_str(), scenario.c_str()})
        a.push_back(s);
    return a;
}

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

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
}

}  // namespace

TEST_CASE("TLS: a BEAM node with -proto_dist inet_tls pings the otpp host and trades messages with it",
          "[dist][tls][beam]") {
    Pki pki;
    TlsHost host("tlshost", pki);
    std::string beam_alive = unique_alive("tlsbeam");
    auto optfile = write_erl_optfile(pki.dir.path(), "beam", pki.beam, pki.ca.cert);
    ErlNode erl(peer_args(beam_alive, host.cookie, host.name, "ping_and_echo", optfile));
    std::string out = erl.wait_exit(Deadline(60s));
    INFO(out);
    auto r = results(out);
    CHECK(r["ping"] == "pong");
    CHECK(r["visible"] == "true");
    CHECK(r["protocol"] == "tls");
    CHECK(r["echo"] == "hello");
    CHECK(r["echo_big"] == "true");
    CHECK(r.count("crashed") == 0);
    // Our side of it, as the log tells.
    INFO(joined(LogCapture::get().lines_with({beam_alive})));
    CHECK(!LogCapture::get().lines_with({"connected to " + beam_alive, "TLSv1.2", "CN=beam"}).empty());
}

TEST_CASE("TLS: the otpp host connects to a BEAM node with -proto_dist inet_tls and trades messages with it",
          "[dist][tls][beam]") {
    Pki pki;
    // A short net_ticktime on both sides: ticks must cross TLS both ways.
    TlsHost host("tlscli", pki, std::chrono::seconds(7), std::chrono::seconds(4));
    std::string beam_alive = unique_alive("tlsbeam");
    auto optfile = write_erl_optfile(pki.dir.path(), "beam", pki.beam, pki.ca.cert);
    ErlNode erl(peer_args(beam_alive, host.cookie, host.name, "serve", optfile, {"-kernel", "net_ticktime", "4"}));
    erl.read_until("READY", Deadline(30s));
    Atom beam(beam_alive + "@" + short_host());

    ScopedProcess me;
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(connect_node(beam));
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "measured: connect_node to a TLS erl (epmd + TCP + TLS + handshake): %lld us\n",
                 static_cast<long long>(us));
    CHECK(connected_to(beam));
    send(Atom("tls_peer"), beam, Term::tuple({self(), Atom("hello")}));
    auto echo = receive(match::tuple(echo_atom, match::_), std::chrono::seconds(5));
    REQUIRE(echo);
    CHECK((*echo)[1] == Term(Atom("hello")));
    Term big = Term::binary(std::string(1 << 20, 'z'));
    send(Atom("tls_peer"), beam, Term::tuple({self(), big}));
    auto big_back = receive(match::tuple(echo_atom, match::_), std::chrono::seconds(10));
    REQUIRE(big_back);
    CHECK((*big_back)[1] == big);
    // The BEAM sees us over TLS.
    send(Atom("tls_peer"), beam, Term::tuple({self(), Atom("nodes")}));
    auto seen = receive(match::tuple(Atom("nodes"), match::_, match::_), std::chrono::seconds(5));
    REQUIRE(seen);
    CHECK((*seen)[1] == Term::list({Atom(host.name)}));
    CHECK((*seen)[2] == Term::list({Atom("tls")}));
    // Idle for more than net_ticktime: only ticks keep the connection up.
    std::this_thread::sleep_for(6s);
    CHECK(connected_to(beam));
    CHECK(LogCapture::get().lines_with({"lost " + beam_alive}).empty());
    send(Atom("tls_peer"), beam, Term::tuple({self(), Atom("still_there")}));
    auto later = receive(match::tuple(echo_atom, match::_), std::chrono::seconds(5));
    REQUIRE(later);
    CHECK((*later)[1] == Term(Atom("still_there")));
    send(Atom("tls_peer"), beam, Term::tuple({Atom("halt"), self()}));
    CHECK(receive([](const Term& m) { return m == Term(Atom("halting")); }, std::chrono::seconds(5)).has_value());
    erl.wait_exit(Deadline(10s));
}

TEST_CASE("TLS: a plain BEAM node cannot join the TLS host, and the TLS host cannot join a plain BEAM node",
          "[dist][tls][beam]") {
    Pki pki;
    TlsHost host("tlsplain", pki, std::chrono::seconds(3));
    std::string beam_alive = unique_alive("plainbeam");

    ErlNode pinger(peer_args(beam_alive, host.cookie, host.name, "ping_only", std::nullopt));
    std::string out = pinger.wait_exit(Deadline(30s));
    INFO(out);
    CHECK(results(out)["ping"] == "pang");
    CHECK(results(out)["nodes"] == "[]");
    CHECK(LogCapture::get().wait_for({"refused a connection from 127.0.0.1:", "does not speak TLS"}, Deadline(5s)));
    INFO(joined(LogCapture::get().lines_with({"refused a connection"})));

    ErlNode server(peer_args(beam_alive + "s", host.cookie, host.name, "serve", std::nullopt));
    server.read_until("READY", Deadline(30s));
    ScopedProcess me;
    auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(connect_node(Atom(beam_alive + "s@" + short_host())));
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK(nodes().empty());
    INFO(joined(LogCapture::get().lines_with({"cannot connect to " + beam_alive + "s@"})));
    CHECK(!LogCapture::get().lines_with({"cannot connect to " + beam_alive + "s@", "TLS"}).empty());
}

TEST_CASE("TLS: a BEAM node whose certificate another CA signed is refused both ways", "[dist][tls][beam]") {
    Pki pki;
    TlsHost host("tlsrogue", pki);
    std::string beam_alive = unique_alive("roguebeam");
    // It trusts our CA: only our check can refuse it.
    auto optfile = write_erl_optfile(pki.dir.path(), "rogue", pki.rogue, pki.ca.cert);

    ErlNode pinger(peer_args(beam_alive, host.cookie, host.name, "ping_only", optfile));
    std::string out = pinger.wait_exit(Deadline(30s));
    INFO(out);
    CHECK(results(out)["ping"] == "pang");
    CHECK(LogCapture::get().wait_for({"refused a connection from 127.0.0.1:", "CN=rogue-beam", "is not trusted"},
                                     Deadline(5s)));

    ErlNode server(peer_args(beam_alive + "s", host.cookie, host.name, "serve", optfile));
    server.read_until("READY", Deadline(30s));
    ScopedProcess me;
    CHECK_FALSE(connect_node(Atom(beam_alive + "s@" + short_host())));
    CHECK(nodes().empty());
    auto lines = LogCapture::get().lines_with({"cannot connect to " + beam_alive + "s@"});
    INFO(joined(lines));
    CHECK(!LogCapture::get().lines_with({"cannot connect to " + beam_alive + "s@", "CN=rogue-beam", "is not trusted"}).empty());
}

TEST_CASE("TLS: a BEAM node that does not trust our CA refuses us both ways", "[dist][tls][beam]") {
    Pki pki;
    TlsHost host("tlsdistrust", pki);
    std::string beam_alive = unique_alive("wary");
    // Its certificate is one we trust, but it trusts only the rogue CA.
    auto optfile = write_erl_optfile(pki.dir.path(), "wary", pki.beam, pki.rogue_ca.cert);

    ErlNode pinger(peer_args(beam_alive, host.cookie, host.name, "ping_only", optfile));
    std::string out = pinger.wait_exit(Deadline(30s));
    INFO(out);
    CHECK(results(out)["ping"] == "pang");
    CHECK(LogCapture::get().wait_for({"refused a connection from 127.0.0.1:", "does not accept our certificate"},
                                     Deadline(5s)));
    INFO(joined(LogCapture::get().lines_with({"refused a connection"})));

    ErlNode server(peer_args(beam_alive + "s", host.cookie, host.name, "serve", optfile));
    server.read_until("READY", Deadline(30s));
    ScopedProcess me;
    CHECK_FALSE(connect_node(Atom(beam_alive + "s@" + short_host())));
    CHECK(nodes().empty());
    INFO(joined(LogCapture::get().lines_with({"cannot connect to " + beam_alive + "s@"})));
    CHECK(!LogCapture::get()
               .lines_with({"cannot connect to " + beam_alive + "s@", "does not accept our certificate"})
               .empty());
}

TEST_CASE("TLS: messages keep flowing both ways while a BEAM node renegotiates or updates its keys",
          "[dist][tls][beam]") {
    Pki pki;
    std::string extra;
    SECTION("TLS 1.2, renegotiation every 100 records") { extra = "{renegotiate_at, 100}"; }
    SECTION("TLS 1.3, a key update every 64 KiB") { extra = "{versions, ['tlsv1.3']}, {key_update_at, 65536}"; }
    TlsHost host("tlsstress", pki);
    auto optfile = write_erl_optfile(pki.dir.path(), "beam", pki.beam, pki.ca.cert, extra);
    auto t0 = std::chrono::steady_clock::now();
    ErlNode erl(peer_args(unique_alive("stress"), host.cookie, host.name, "echo_stress", optfile));
    std::string out = erl.wait_exit(Deadline(120s));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "measured: echo stress with %s: %.2f s (erl start included)\n", extra.c_str(), secs);
    INFO(out);
    auto r = results(out);
    CHECK(r["protocol"] == "tls");
    CHECK(r["echo_checked"] == "820");
    CHECK(r["echo_mismatches"] == "[]");
    CHECK(r.count("crashed") == 0);
}

TEST_CASE("TLS: messages keep flowing both ways while the BEAM node the host connected to renegotiates or updates "
          "its keys",
          "[dist][tls][beam]") {
    Pki pki;
    std::string extra;
    SECTION("TLS 1.2, renegotiation every 100 records") { extra = "{renegotiate_at, 100}"; }
    SECTION("TLS 1.3, a key update every 64 KiB") { extra = "{versions, ['tlsv1.3']}, {key_update_at, 65536}"; }
    TlsHost host("tlsstress2", pki);
    std::string beam_alive = unique_alive("stress2");
    auto optfile = write_erl_optfile(pki.dir.path(), "beam", pki.beam, pki.ca.cert, extra);
    ErlNode erl(peer_args(beam_alive, host.cookie, host.name, "serve", optfile));
    erl.read_until("READY", Deadline(30s));
    Atom beam(beam_alive + "@" + short_host());

    ScopedProcess me;
    REQUIRE(connect_node(beam));
    // Pipelined: everything is sent before the first echo is read, so our
    // writer and our reader are busy at the same time.
    std::vector<Term> sent;
    for (int i = 0; i < 600; ++i) {
        Term t = i % 50 == 0 ? Term::binary(std::string(static_cast<std::size_t>(100000 + i * 300), static_cast<char>('a' + i % 26)))
                             : Term::tuple({i, Term::binary(std::string(static_cast<std::size_t>(i % 700), 'x')), make_ref()});
        sent.push_back(t);
    }
    auto t0 = std::chrono::steady_clock::now();
    for (const Term& t : sent) send(Atom("tls_peer"), beam, Term::tuple({self(), t}));
    int mismatches = 0, received = 0;
    for (const Term& t : sent) {
        auto echo = receive(match::tuple(echo_atom, match::_), std::chrono::seconds(20));
        if (!echo) break;
        ++received;
        if ((*echo)[1] != t) ++mismatches;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "measured: 600 pipelined round trips (2.3 MiB each way) to a TLS erl with %s: %.3f s\n",
                 extra.c_str(), secs);
    CHECK(received == 600);
    CHECK(mismatches == 0);
    send(Atom("tls_peer"), beam, Term::tuple({self(), Atom("nodes")}));
    auto seen = receive(match::tuple(Atom("nodes"), match::_, match::_), std::chrono::seconds(5));
    REQUIRE(seen);
    CHECK((*seen)[2] == Term::list({Atom("tls")}));
    send(Atom("tls_peer"), beam, Term::tuple({Atom("halt"), self()}));
    CHECK(receive([](const Term& m) { return m == Term(Atom("halting")); }, std::chrono::seconds(5)).has_value());
}
