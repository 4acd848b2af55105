// The handshake against a real erl (Debian's OTP 25) on loopback, both ways,
// with the right and a wrong cookie, and hidden. Our node registers in the
// system's epmd (started if none runs) under a name unique to this process;
// every erl is killed at the end of its test, whatever happens.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"

#include <epmd_client.hpp>
#include <handshake.hpp>

#include <cstdio>

using namespace otpp::dist;
using namespace otpp::dist::test;

namespace {

// Our side of a test: a node name on this host, a listening socket on
// loopback, and its registration in epmd.
struct OurNode {
    std::string alive;
    LocalNode self;
    Socket listener;
    std::optional<EpmdRegistration> registration;

    explicit OurNode(std::string_view tag) : alive(unique_alive(tag)) {
        ensure_epmd(epmd_port_from_env(), Deadline(10s));
        listener = listen_tcp(Ipv4::loopback(), 0);
        registration.emplace(EpmdRegistration::register_node(alive, local_port(listener.fd()), Deadline(5s)));
        self = LocalNode{alive + "@" + short_host(), registration->creation()};
    }
};

void report_flags(const char* who, const HandshakeResult& r) {
    std::fprintf(stderr, "measured: %s sent flags %#llx (%s), creation %u; connection flags %#llx\n", who,
                 static_cast<unsigned long long>(r.peer_flags), flag_names(r.peer_flags).c_str(), r.peer_creation,
                 static_cast<unsigned long long>(r.flags));
}

}  // namespace

TEST_CASE("erl connects to us: net_kernel:connect_node returns true", "[handshake][erl]") {
    OurNode us("acc");
    const std::string erl_alive = unique_alive("erlc");
    ErlNode erl(erl_args(erl_alive, "SHAREDCOOKIE",
                         "R = net_kernel:connect_node('" + us.self.name +
                             "'), io:format(\"result ~w ~w~n\", [R, nodes()]), halt()."));
    auto t0 = SteadyClock::now();
    Socket conn = accept_tcp(us.listener.fd(), Deadline(20s));
    HandshakeResult r = handshake_accept(conn.fd(), us.self, "SHAREDCOOKIE", Deadline(5s));
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0);
    std::fprintf(stderr, "measured: accept + handshake as acceptor with erl: %lld us\n",
                 static_cast<long long>(took.count()));
    report_flags("erl (initiator)", r);
    CHECK(r.peer_name == erl_alive + "@" + short_host());
    CHECK(r.peer_creation != 0);
    CHECK((expand_mandatory_25(r.peer_flags) & DFLAGS_REQUIRED) == DFLAGS_REQUIRED);
    CHECK((r.peer_flags & DFLAG_PUBLISHED) != 0);
    CHECK_FALSE(r.hidden());
    CHECK(r.flags == (DFLAGS_ADVERTISED & expand_mandatory_25(r.peer_flags)));
    // Keep the connection alive (ticks answered) until erl halts and closes it.
    ServeStats stats = serve_until_closed(conn.fd(), Deadline(20s));
    std::string out = erl.wait_exit(Deadline(20s));
    INFO(out);
    CHECK_THAT(out, Catch::Contains("result true [" + us.self.name + "]"));
    std::fprintf(stderr, "measured: after the handshake erl sent %d ticks and %d other packets\n", stats.ticks,
                 stats.messages);
}

TEST_CASE("we connect to erl through epmd: it sees nodeup", "[handshake][erl]") {
    OurNode us("ini");
    const std::string erl_alive = unique_alive("erla");
    ErlNode erl(erl_args(erl_alive, "SHAREDCOOKIE",
                         "net_kernel:monitor_nodes(true), io:format(\"ready~n\"), "
                         "receive {nodeup, N} -> io:format(\"nodeup ~w ~w~n\", [N, nodes()]) "
                         "after 15000 -> io:format(\"no nodeup~n\") end, halt()."));
    erl.read_until("ready", Deadline(20s));
    const std::string peer = erl_alive + "@" + short_host();
    auto t0 = SteadyClock::now();
    NodeConnection c = connect_node(us.self, peer, "SHAREDCOOKIE", HandshakeOptions{.timeout = 5s});
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0);
    std::fprintf(stderr, "measured: connect_node (epmd + connect + handshake) to erl: %lld us\n",
                 static_cast<long long>(took.count()));
    report_flags("erl (acceptor)", c.peer);
    CHECK(c.peer.peer_name == peer);
    CHECK(c.peer.status == HandshakeStatus::ok);
    CHECK_FALSE(c.peer.hidden());
    serve_until_closed(c.socket.fd(), Deadline(20s));
    std::string out = erl.wait_exit(Deadline(20s));
    INFO(out);
    CHECK_THAT(out, Catch::Contains("nodeup " + us.self.name + " [" + us.self.name + "]"));
}

TEST_CASE("erl with a wrong cookie: erl gets false and we get bad_cookie", "[handshake][erl]") {
    OurNode us("acc_bad");
    const std::string erl_alive = unique_alive("erlw");
    ErlNode erl(erl_args(erl_alive, "WRONGCOOKIE",
                         "R = net_kernel:connect_node('" + us.self.name +
                             "'), io:format(\"result ~w~n\", [R]), halt()."));
    Socket conn = accept_tcp(us.listener.fd(), Deadline(20s));
    try {
        handshake_accept(conn.fd(), us.self, "RIGHTCOOKIE", Deadline(5s));
        FAIL("the handshake succeeded with different cookies");
    } catch (const HandshakeError& e) {
        CHECK(e.failure() == HandshakeFailure::bad_cookie);
        CHECK_THAT(std::string(e.what()), Catch::Contains(erl_alive) && Catch::Contains("cookie differs"));
        CHECK_THAT(std::string(e.what()), !Catch::Contains("RIGHTCOOKIE") && !Catch::Contains("WRONGCOOKIE"));
    }
    conn.reset();
    std::string out = erl.wait_exit(Deadline(20s));
    INFO(out);
    CHECK_THAT(out, Catch::Contains("result false"));
}

TEST_CASE("we connect to erl with a wrong cookie: a clear bad_cookie error and erl logs it", "[handshake][erl]") {
    OurNode us("ini_bad");
    const std::string erl_alive = unique_alive("erlv");
    ErlNode erl(erl_args(erl_alive, "RIGHTCOOKIE",
                         "net_kernel:monitor_nodes(true), io:format(\"ready~n\"), "
                         "receive {nodeup, N} -> io:format(\"nodeup ~w~n\", [N]) after 15000 -> ok end, halt()."));
    erl.read_until("ready", Deadline(20s));
    const std::string peer = erl_alive + "@" + short_host();
    try {
        connect_node(us.self, peer, "WRONGCOOKIE", HandshakeOptions{.timeout = 5s});
        FAIL("the handshake succeeded with different cookies");
    } catch (const HandshakeError& e) {
        CHECK(e.failure() == HandshakeFailure::bad_cookie);
        CHECK_THAT(std::string(e.what()), Catch::Contains(peer) && Catch::Contains("cookie"));
        CHECK_THAT(std::string(e.what()), !Catch::Contains("RIGHTCOOKIE") && !Catch::Contains("WRONGCOOKIE"));
    }
    // erl's own account: dist_util's error report.
    std::string out = erl.read_until("Invalid challenge reply", Deadline(10s));
    CHECK_THAT(out, !Catch::Contains("nodeup"));
}

TEST_CASE("a hidden connect: erl sees a hidden node that is not in nodes()", "[handshake][erl]") {
    OurNode us("hid");
    const std::string erl_alive = unique_alive("erlh");
    ErlNode erl(erl_args(erl_alive, "SHAREDCOOKIE",
                         "net_kernel:monitor_nodes(true, [{node_type, all}]), io:format(\"ready~n\"), "
                         "receive {nodeup, N, Info} -> io:format(\"nodeup ~w ~w visible=~w hidden=~w~n\", "
                         "[N, proplists:get_value(node_type, Info), nodes(), nodes(hidden)]) "
                         "after 15000 -> io:format(\"no nodeup~n\") end, halt()."));
    erl.read_until("ready", Deadline(20s));
    NodeConnection c = connect_node(us.self, erl_alive + "@" + short_host(), "SHAREDCOOKIE",
                                    HandshakeOptions{.advertised = DFLAGS_ADVERTISED_HIDDEN, .timeout = 5s});
    CHECK(c.peer.hidden());
    CHECK((c.peer.our_flags & DFLAG_PUBLISHED) == 0);
    CHECK((c.peer.peer_flags & DFLAG_PUBLISHED) != 0);  // erl itself is published
    serve_until_closed(c.socket.fd(), Deadline(20s));
    std::string out = erl.wait_exit(Deadline(20s));
    INFO(out);
    CHECK_THAT(out, Catch::Contains("nodeup " + us.self.name + " hidden visible=[] hidden=[" + us.self.name + "]"));
}

TEST_CASE("connecting to a node that is not registered is unreachable", "[handshake][erl]") {
    OurNode us("unreg");
    try {
        connect_node(us.self, unique_alive("nobody") + "@" + short_host(), "C", HandshakeOptions{.timeout = 5s});
        FAIL("connected to nobody");
    } catch (const HandshakeError& e) {
        CHECK(e.failure() == HandshakeFailure::unreachable);
        CHECK_THAT(std::string(e.what()), Catch::Contains("not registered in epmd"));
    }
}
