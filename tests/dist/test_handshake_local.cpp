// The handshake between our own two sides (over a socketpair), and against
// a scripted peer that misbehaves: statuses, flags, cookies, names,
// timeouts, malformed messages.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"

#include <handshake.hpp>

#include <spdlog/spdlog.h>

#include <exception>
#include <future>
#include <sys/socket.h>
#include <thread>

using namespace otpp::dist;
using namespace otpp::dist::test;

namespace {

struct Pair {
    Socket a, b;
    Pair() {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        a = Socket(fds[0]);
        b = Socket(fds[1]);
    }
};

struct Outcome {
    std::optional<HandshakeResult> result;
    std::optional<HandshakeFailure> failure;
    std::string message;
};

template <class F>
Outcome outcome_of(F&& f) {
    Outcome o;
    try {
        o.result = f();
    } catch (const HandshakeError& e) {
        o.failure = e.failure();
        o.message = e.what();
    }
    return o;
}

const LocalNode alpha{"alpha@h", 1111};
const LocalNode beta{"beta@h", 2222};

// Runs beta's acceptor on its own thread (its socket closed when it is done)
// and alpha's initiator here.
std::pair<Outcome, Outcome> run(std::string_view alpha_cookie, std::string_view beta_cookie,
                                const HandshakeOptions& alpha_opts = {}, const HandshakeOptions& beta_opts = {},
                                AcceptDecision decide = {}, AliveAnswer on_alive = {},
                                std::string expected_peer = beta.name) {
    // spdlog's registry is made on first use, inside the (uninstrumented)
    // libspdlog: made here first, as otpp-host does at start-up, rather than
    // by the two sides' first log lines at once, which TSan cannot see
    // ordered by the library's static-init guard.
    spdlog::default_logger();
    Pair p;
    auto acceptor = std::async(std::launch::async, [&, s = std::move(p.b)]() mutable {
        Outcome o = outcome_of([&] { return handshake_accept(s.fd(), beta, beta_cookie, Deadline(5s), beta_opts, decide); });
        s.reset();
        return o;
    });
    Outcome init = outcome_of(
        [&] { return handshake_initiate(p.a.fd(), alpha, expected_peer, alpha_cookie, Deadline(5s), alpha_opts, on_alive); });
    p.a.reset();
    return {init, acceptor.get()};
}

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("our initiator and our acceptor agree", "[handshake]") {
    auto [a, b] = run("C00KIE", "C00KIE");
    REQUIRE(a.result);
    REQUIRE(b.result);
    CHECK(a.result->peer_name == "beta@h");
    CHECK(a.result->peer_creation == 2222);
    CHECK(b.result->peer_name == "alpha@h");
    CHECK(b.result->peer_creation == 1111);
    CHECK(a.result->peer_flags == DFLAGS_ADVERTISED);
    CHECK(b.result->peer_flags == DFLAGS_ADVERTISED);
    CHECK(a.result->flags == DFLAGS_ADVERTISED);
    CHECK(a.result->status == HandshakeStatus::ok);
    CHECK_FALSE(a.result->hidden());
}

TEST_CASE("either side advertising no PUBLISHED makes the connection hidden", "[handshake]") {
    auto [a, b] = run("C", "C", HandshakeOptions{.advertised = DFLAGS_ADVERTISED_HIDDEN});
    REQUIRE(a.result);
    REQUIRE(b.result);
    CHECK(a.result->hidden());
    CHECK(b.result->hidden());
    CHECK(b.result->peer_flags == DFLAGS_ADVERTISED_HIDDEN);
}

TEST_CASE("a wrong cookie fails on both sides with bad_cookie", "[handshake]") {
    auto [a, b] = run("ONE", "TWO");
    REQUIRE(b.failure);
    CHECK(*b.failure == HandshakeFailure::bad_cookie);
    CHECK_THAT(b.message, Catch::Contains("alpha@h") && Catch::Contains("cookie differs"));
    REQUIRE(a.failure);
    CHECK(*a.failure == HandshakeFailure::bad_cookie);
    CHECK_THAT(a.message, Catch::Contains("beta@h") && Catch::Contains("cookie"));
    // Never the cookies themselves.
    CHECK_THAT(a.message + b.message, !Catch::Contains("ONE") && !Catch::Contains("TWO"));
}

TEST_CASE("a peer lacking mandatory flags is refused", "[handshake]") {
    SECTION("the acceptor refuses an initiator without UNLINK_ID and V4_NC (status not_allowed)") {
        auto [a, b] = run("C", "C", HandshakeOptions{.advertised = DFLAGS_MANDATORY_25 | DFLAG_PUBLISHED});
        REQUIRE(b.failure);
        CHECK(*b.failure == HandshakeFailure::missing_flags);
        CHECK_THAT(b.message, Catch::Contains("UNLINK_ID, V4_NC"));
        REQUIRE(a.failure);
        CHECK(*a.failure == HandshakeFailure::refused);
        CHECK_THAT(a.message, Catch::Contains("not_allowed"));
    }
    SECTION("the initiator refuses an acceptor without MAP_TAG") {
        auto [a, b] = run("C", "C", {}, HandshakeOptions{.advertised = DFLAGS_ADVERTISED & ~DFLAG_MAP_TAG});
        REQUIRE(a.failure);
        CHECK(*a.failure == HandshakeFailure::missing_flags);
        CHECK_THAT(a.message, Catch::Contains("beta@h") && Catch::Contains("MAP_TAG"));
        CHECK(b.failure);
    }
    SECTION("MANDATORY_25_DIGEST stands for the OTP 25 mandatory flags") {
        auto [a, b] = run("C", "C",
                          HandshakeOptions{.advertised = DFLAG_MANDATORY_25_DIGEST | DFLAGS_MANDATORY_26 |
                                                         DFLAG_PUBLISHED});
        REQUIRE(b.result);
        REQUIRE(a.result);
        CHECK((b.result->flags & DFLAG_MAP_TAG) != 0);
    }
}

TEST_CASE("the acceptor's status decides", "[handshake]") {
    SECTION("nok: the initiator is refused, told why") {
        auto [a, b] = run("C", "C", {}, {}, [](const std::string&, std::uint64_t) { return HandshakeStatus::nok; });
        CHECK(a.failure == HandshakeFailure::refused);
        CHECK_THAT(a.message, Catch::Contains("nok") && Catch::Contains("name is greater"));
        CHECK(b.failure == HandshakeFailure::refused);
    }
    SECTION("not_allowed") {
        auto [a, b] =
            run("C", "C", {}, {}, [](const std::string&, std::uint64_t) { return HandshakeStatus::not_allowed; });
        CHECK(a.failure == HandshakeFailure::refused);
        CHECK_THAT(a.message, Catch::Contains("not_allowed"));
    }
    SECTION("ok_simultaneous goes on") {
        auto [a, b] =
            run("C", "C", {}, {}, [](const std::string&, std::uint64_t) { return HandshakeStatus::ok_simultaneous; });
        REQUIRE(a.result);
        CHECK(a.result->status == HandshakeStatus::ok_simultaneous);
        REQUIRE(b.result);
    }
    SECTION("alive, answered true, goes on") {
        std::string asked;
        auto [a, b] = run(
            "C", "C", {}, {}, [](const std::string&, std::uint64_t) { return HandshakeStatus::alive; },
            [&](const std::string& peer) {
                asked = peer;
                return true;
            });
        REQUIRE(a.result);
        REQUIRE(b.result);
        CHECK(asked == "beta@h");
        CHECK(b.result->status == HandshakeStatus::alive);
    }
    SECTION("alive, answered false, stops both") {
        auto [a, b] = run(
            "C", "C", {}, {}, [](const std::string&, std::uint64_t) { return HandshakeStatus::alive; },
            [](const std::string&) { return false; });
        CHECK(a.failure == HandshakeFailure::refused);
        CHECK(b.failure == HandshakeFailure::refused);
        CHECK_THAT(b.message, Catch::Contains("answered false"));
    }
    SECTION("the decision sees the initiator's name and flags") {
        std::string seen;
        std::uint64_t flags = 0;
        auto [a, b] = run("C", "C", {}, {}, [&](const std::string& peer, std::uint64_t f) {
            seen = peer;
            flags = f;
            return HandshakeStatus::ok;
        });
        CHECK(seen == "alpha@h");
        CHECK(flags == DFLAGS_ADVERTISED);
    }
}

TEST_CASE("reaching another node than the one meant is an error", "[handshake]") {
    auto [a, b] = run("C", "C", {}, {}, {}, {}, "gamma@h");
    REQUIRE(a.failure);
    CHECK(*a.failure == HandshakeFailure::wrong_peer);
    CHECK_THAT(a.message, Catch::Contains("gamma@h") && Catch::Contains("beta@h"));
    CHECK(b.failure);
}

TEST_CASE("the whole handshake has one deadline", "[handshake]") {
    Pair p;  // nobody ever answers on p.b
    auto t0 = SteadyClock::now();
    Outcome a = outcome_of([&] { return handshake_initiate(p.a.fd(), alpha, "beta@h", "C", Deadline(300ms)); });
    auto took = SteadyClock::now() - t0;
    REQUIRE(a.failure);
    CHECK(*a.failure == HandshakeFailure::timeout);
    CHECK_THAT(a.message, Catch::Contains("beta@h") && Catch::Contains("timed out while waiting for its status"));
    CHECK(took >= 290ms);
    CHECK(took < 2s);

    Pair q;
    Outcome b = outcome_of([&] { return handshake_accept(q.b.fd(), beta, "C", Deadline(200ms)); });
    CHECK(b.failure == HandshakeFailure::timeout);

    // A peer that answers every step slowly runs out of the one budget.
    Pair r;
    std::thread slow([s = std::move(r.b)]() mutable {
        try {
            read_frame16(s.fd(), Deadline(2s));
            std::this_thread::sleep_for(150ms);
            write_frame16(s.fd(), bytes("sok"), Deadline(2s));
            std::this_thread::sleep_for(1s);
        } catch (...) {
        }
    });
    Outcome c = outcome_of([&] { return handshake_initiate(r.a.fd(), alpha, "beta@h", "C", Deadline(400ms)); });
    slow.join();
    CHECK(c.failure == HandshakeFailure::timeout);
    CHECK_THAT(c.message, Catch::Contains("waiting for its challenge"));
}

TEST_CASE("malformed or old messages are protocol errors", "[handshake]") {
    SECTION("the version-5 name message ('n')") {
        Pair p;
        std::vector<std::uint8_t> old{'n', 0, 5};
        put_u32(old, static_cast<std::uint32_t>(DFLAGS_MANDATORY_25));
        auto name = bytes("old@h");
        old.insert(old.end(), name.begin(), name.end());
        write_frame16(p.a.fd(), old, Deadline(1s));
        Outcome b = outcome_of([&] { return handshake_accept(p.b.fd(), beta, "C", Deadline(1s)); });
        CHECK(b.failure == HandshakeFailure::protocol);
        CHECK_THAT(b.message, Catch::Contains("version-5"));
    }
    SECTION("a truncated name") {
        Pair p;
        std::vector<std::uint8_t> msg{'N'};
        put_u64(msg, DFLAGS_ADVERTISED);
        put_u32(msg, 7);
        put_u16(msg, 40);  // but only 5 bytes follow
        auto name = bytes("x@h.c");
        msg.insert(msg.end(), name.begin(), name.end());
        write_frame16(p.a.fd(), msg, Deadline(1s));
        Outcome b = outcome_of([&] { return handshake_accept(p.b.fd(), beta, "C", Deadline(1s)); });
        CHECK(b.failure == HandshakeFailure::protocol);
        CHECK_THAT(b.message, Catch::Contains("truncated"));
    }
    SECTION("a name that is not name@host") {
        Pair p;
        std::vector<std::uint8_t> msg{'N'};
        put_u64(msg, DFLAGS_ADVERTISED);
        put_u32(msg, 7);
        put_u16(msg, 6);
        auto name = bytes("nohost");
        msg.insert(msg.end(), name.begin(), name.end());
        write_frame16(p.a.fd(), msg, Deadline(1s));
        Outcome b = outcome_of([&] { return handshake_accept(p.b.fd(), beta, "C", Deadline(1s)); });
        CHECK(b.failure == HandshakeFailure::protocol);
        CHECK_THAT(b.message, Catch::Contains("'nohost' is not name@host"));
    }
    SECTION("extra bytes after the name are ignored, as the protocol says") {
        Pair p;
        std::vector<std::uint8_t> msg{'N'};
        put_u64(msg, DFLAGS_ADVERTISED);
        put_u32(msg, 7);
        put_u16(msg, 5);
        auto name = bytes("x@h.cEXTRA");
        msg.insert(msg.end(), name.begin(), name.end());
        write_frame16(p.a.fd(), msg, Deadline(1s));
        std::thread peer([&] {
            try {
                read_frame16(p.a.fd(), Deadline(2s));  // status
                read_frame16(p.a.fd(), Deadline(2s));  // challenge
            } catch (...) {
            }
            p.a.reset();
        });
        Outcome b = outcome_of([&] { return handshake_accept(p.b.fd(), beta, "C", Deadline(2s)); });
        peer.join();
        // It got as far as waiting for the challenge reply: the name was fine.
        CHECK(b.failure == HandshakeFailure::closed);
        CHECK_THAT(b.message, Catch::Contains("x@h.c") && Catch::Contains("challenge reply"));
    }
    SECTION("an unknown status") {
        Pair p;
        std::thread peer([&] {
            try {
                read_frame16(p.b.fd(), Deadline(2s));
                write_frame16(p.b.fd(), bytes("smaybe"), Deadline(2s));
            } catch (...) {
            }
        });
        Outcome a = outcome_of([&] { return handshake_initiate(p.a.fd(), alpha, "beta@h", "C", Deadline(2s)); });
        peer.join();
        CHECK(a.failure == HandshakeFailure::protocol);
        CHECK_THAT(a.message, Catch::Contains("unknown status 'maybe'"));
    }
    SECTION("a challenge ack with a wrong digest") {
        Pair p;
        std::thread peer([&] {
            try {
                read_frame16(p.b.fd(), Deadline(2s));
                write_frame16(p.b.fd(), bytes("sok"), Deadline(2s));
                std::vector<std::uint8_t> ch{'N'};
                put_u64(ch, DFLAGS_ADVERTISED);
                put_u32(ch, 42);  // challenge
                put_u32(ch, 2222);
                put_u16(ch, 6);
                auto n = bytes("beta@h");
                ch.insert(ch.end(), n.begin(), n.end());
                write_frame16(p.b.fd(), ch, Deadline(2s));
                read_frame16(p.b.fd(), Deadline(2s));  // reply
                std::vector<std::uint8_t> ack(17, 0);
                ack[0] = 'a';
                write_frame16(p.b.fd(), ack, Deadline(2s));
            } catch (...) {
            }
        });
        Outcome a = outcome_of([&] { return handshake_initiate(p.a.fd(), alpha, "beta@h", "C", Deadline(2s)); });
        peer.join();
        CHECK(a.failure == HandshakeFailure::bad_cookie);
        CHECK_THAT(a.message, Catch::Contains("wrong digest"));
    }
}
