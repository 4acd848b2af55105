// TLS distribution between two otpp sides in one process, at the level of
// the transport and the handshake (one Runtime per process rules out two
// otpp nodes here): TLS + the distribution handshake both ways over
// loopback TCP, packets both ways at once from a reader and a writer on
// each side, shutdown() waking blocked readers and writers, certificates
// refused both ways, host names, a plain peer on either side, deadlines,
// and settings that cannot be used.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"
#include "tls_test_pki.hpp"

#include <handshake.hpp>
#include <tls_transport.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

using namespace otpp::dist;
using namespace otpp::dist::test;

namespace {

const LocalNode alpha{"alpha@localhost", 1111};
const LocalNode beta{"beta@localhost", 2222};
const std::string cookie = "TLSCOOKIE";

// A CA, a second CA nobody trusts, and certificates for two nodes.
struct Pki {
    TempDir dir;
    CertFiles ca = make_ca(dir.path(), "ca");
    CertFiles rogue_ca = make_ca(dir.path(), "rogue-ca");
    CertFiles a = make_node_cert(dir.path(), "node-a", ca, {.hosts = local_hosts()});
    CertFiles b = make_node_cert(dir.path(), "node-b", ca, {.hosts = local_hosts()});
    CertFiles rogue = make_node_cert(dir.path(), "rogue", rogue_ca, {.hosts = local_hosts()});

    TlsOptions options(const CertFiles& node) const { return {node.cert, node.key, ca.cert}; }
};

// A connected TCP pair over loopback: `client` connected to `server`.
struct TcpPair {
    Socket client, server;
    TcpPair() {
        Socket l = listen_tcp(Ipv4::loopback(), 0, 4);
        client = connect_tcp(Ipv4::loopback(), local_port(l.fd()), Deadline(5s));
        server = accept_tcp(l.fd(), Deadline(5s));
    }
};

template <class F>
auto error_of(F&& f) -> std::string {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

// Both TLS handshakes and both distribution handshakes; the acceptor runs
// on a thread of its own.
struct Session {
    std::unique_ptr<Transport> client, server;
    HandshakeResult client_result, server_result;
};

Session connect_pair(const TlsContext& client_ctx, const TlsContext& server_ctx, const std::string& host = "localhost") {
    LogCapture::get();  // the logger exists before two threads log (TSan cannot see spdlog's own once-init)
    TcpPair p;
    auto acceptor = std::async(std::launch::async, [&, s = std::move(p.server)]() mutable {
        auto t = tls_accept(std::move(s), server_ctx, Deadline(5s));
        HandshakeResult r = handshake_accept(*t, beta, cookie, Deadline(5s));
        return std::make_pair(std::move(t), r);
    });
    Session out;
    out.client = tls_connect(std::move(p.client), client_ctx, host, Deadline(5s));
    out.client_result = handshake_initiate(*out.client, alpha, beta.name, cookie, Deadline(5s));
    auto [t, r] = acceptor.get();
    out.server = std::move(t);
    out.server_result = r;
    return out;
}

// Packet i: a 4-byte length, then bytes that depend on i and their position.
std::vector<char> packet(std::uint32_t i) {
    static constexpr std::uint32_t sizes[] = {0, 1, 7, 100, 1500, 16384, 16385, 70000, 300000};
    std::uint32_t n = sizes[i % std::size(sizes)] + (i % 13);
    std::vector<char> p(4 + n);
    for (int s = 0; s < 4; ++s) p[static_cast<std::size_t>(s)] = static_cast<char>(n >> (24 - 8 * s));
    for (std::uint32_t k = 0; k < n; ++k) p[4 + k] = static_cast<char>((i * 131 + k * 7) & 0xff);
    return p;
}

// Reads `count` packets as packet() makes them; the first mismatch, or "".
std::string read_packets(Transport& t, std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) {
        std::uint8_t len[4];
        if (!t.read_exact(reinterpret_cast<char*>(len), 4)) return "read failed at packet " + std::to_string(i) + ": " + t.last_error();
        std::uint32_t n = get_u32(len);
        std::vector<char> body(n);
        if (n && !t.read_exact(body.data(), n)) return "read failed in packet " + std::to_string(i) + ": " + t.last_error();
        std::vector<char> want = packet(i);
        if (want.size() != 4 + n || (n && std::memcmp(want.data() + 4, body.data(), n) != 0))
            return "packet " + std::to_string(i) + " differs";
    }
    return "";
}

std::string write_packets(Transport& t, std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) {
        std::vector<char> p = packet(i);
        if (!t.write_all(p.data(), p.size())) return "write failed at packet " + std::to_string(i) + ": " + t.last_error();
    }
    return "";
}

}  // namespace

TEST_CASE("TLS: two otpp sides handshake inside TLS and stream packets both ways at once", "[dist][tls]") {
    Pki pki;
    TlsContext ctx_a(pki.options(pki.a)), ctx_b(pki.options(pki.b));
    auto t0 = std::chrono::steady_clock::now();
    Session s = connect_pair(ctx_a, ctx_b);
    auto setup_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "measured: TLS + distribution handshake over loopback: %lld us\n",
                 static_cast<long long>(setup_us));
    CHECK(s.client_result.peer_name == beta.name);
    CHECK(s.server_result.peer_name == alpha.name);
    CHECK(s.client_result.peer_creation == beta.creation);
    CHECK(s.client->handshake_length_bytes() == 4);
    CHECK(s.client->describe().starts_with("TLSv1."));
    CHECK(s.client->describe().find("CN=node-b") != std::string::npos);
    CHECK(s.server->describe().find("CN=node-a") != std::string::npos);

    // A reader and a writer on each side, all four at once (the connection's
    // threads): every byte arrives, in order.
    constexpr std::uint32_t count = 600;
    t0 = std::chrono::steady_clock::now();
    auto a_reads = std::async(std::launch::async, [&] { return read_packets(*s.client, count); });
    auto b_reads = std::async(std::launch::async, [&] { return read_packets(*s.server, count); });
    auto a_writes = std::async(std::launch::async, [&] { return write_packets(*s.client, count); });
    auto b_writes = std::async(std::launch::async, [&] { return write_packets(*s.server, count); });
    CHECK(a_writes.get() == "");
    CHECK(b_writes.get() == "");
    CHECK(a_reads.get() == "");
    CHECK(b_reads.get() == "");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::size_t bytes = 0;
    for (std::uint32_t i = 0; i < count; ++i) bytes += packet(i).size();
    std::fprintf(stderr, "measured: %u packets (%.1f MiB) each way at once over TLS in %.3f s: %.0f MiB/s each way\n",
                 count, static_cast<double>(bytes) / (1 << 20), secs, static_cast<double>(bytes) / (1 << 20) / secs);
    {
        // The same over plain TCP, for comparison.
        TcpPair p;
        auto pa = plain_transport(p.client.release()), pb = plain_transport(p.server.release());
        auto t2 = std::chrono::steady_clock::now();
        auto r1 = std::async(std::launch::async, [&] { return read_packets(*pa, count); });
        auto r2 = std::async(std::launch::async, [&] { return read_packets(*pb, count); });
        auto w1 = std::async(std::launch::async, [&] { return write_packets(*pa, count); });
        auto w2 = std::async(std::launch::async, [&] { return write_packets(*pb, count); });
        CHECK(w1.get() + w2.get() + r1.get() + r2.get() == "");
        double psecs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
        std::fprintf(stderr, "measured: the same over plain TCP: %.3f s: %.0f MiB/s each way\n", psecs,
                     static_cast<double>(bytes) / (1 << 20) / psecs);
    }

    // shutdown() from another thread wakes a reader blocked for data that never comes.
    auto blocked_read = std::async(std::launch::async, [&] {
        char c;
        return s.client->read_exact(&c, 1);
    });
    CHECK(blocked_read.wait_for(200ms) == std::future_status::timeout);
    auto t1 = std::chrono::steady_clock::now();
    s.client->shutdown();
    REQUIRE(blocked_read.wait_for(5s) == std::future_status::ready);
    CHECK_FALSE(blocked_read.get());
    CHECK(std::chrono::steady_clock::now() - t1 < 1s);
    CHECK(std::string(s.client->last_error()).find("shut down") != std::string::npos);
    // The peer sees the end of the stream.
    char c;
    CHECK_FALSE(s.server->read_exact(&c, 1));
}

TEST_CASE("TLS: shutdown() wakes a writer blocked on a full socket and a reader at once", "[dist][tls]") {
    Pki pki;
    TlsContext ctx_a(pki.options(pki.a)), ctx_b(pki.options(pki.b));
    Session s = connect_pair(ctx_a, ctx_b);
    // The server never reads: the client's writes fill both socket buffers and block.
    std::atomic<std::size_t> written{0};
    auto writer = std::async(std::launch::async, [&] {
        std::vector<char> chunk(64 * 1024, 'x');
        for (;;) {
            if (!s.client->write_all(chunk.data(), chunk.size())) return false;
            written += chunk.size();
        }
    });
    auto reader = std::async(std::launch::async, [&] {
        char ch;
        return s.client->read_exact(&ch, 1);
    });
    // Wait until the writer stops making progress (blocked).
    std::size_t last = 0;
    for (int i = 0; i < 100; ++i) {
        std::this_thread::sleep_for(50ms);
        std::size_t now = written.load();
        if (now == last && now > 0) break;
        last = now;
    }
    CHECK(writer.wait_for(0ms) == std::future_status::timeout);
    CHECK(reader.wait_for(0ms) == std::future_status::timeout);
    auto t1 = std::chrono::steady_clock::now();
    s.client->shutdown();
    REQUIRE(writer.wait_for(5s) == std::future_status::ready);
    REQUIRE(reader.wait_for(5s) == std::future_status::ready);
    CHECK_FALSE(writer.get());
    CHECK_FALSE(reader.get());
    CHECK(std::chrono::steady_clock::now() - t1 < 1s);
    std::fprintf(stderr, "measured: %zu bytes written before the writer blocked\n", written.load());
}

TEST_CASE("TLS: a peer whose certificate another CA signed is refused both ways", "[dist][tls]") {
    Pki pki;
    TlsContext ours(pki.options(pki.a));
    // The rogue trusts our CA, so only our side's check can refuse it.
    TlsContext rogue(TlsOptions{pki.rogue.cert, pki.rogue.key, pki.ca.cert});

    SECTION("as the acceptor: the initiator's certificate is not trusted") {
        TcpPair p;
        auto acceptor = std::async(std::launch::async, [&, s = std::move(p.server)]() mutable {
            try {
                tls_accept(std::move(s), ours, Deadline(5s));
            } catch (const TlsSessionError& e) {
                return std::make_pair(e.failure(), std::string(e.what()));
            }
            return std::make_pair(TlsFailure::protocol, std::string("accepted"));
        });
        // TLS 1.3: the initiator's handshake may end before the acceptor
        // checks its certificate; then its first read gets the alert.
        std::string client_error = error_of([&] {
            auto t = tls_connect(std::move(p.client), rogue, "localhost", Deadline(5s));
            handshake_initiate(*t, alpha, beta.name, cookie, Deadline(5s));
        });
        auto [failure, message] = acceptor.get();
        INFO(message);
        CHECK(failure == TlsFailure::untrusted_peer);
        CHECK(message.find("CN=rogue") != std::string::npos);
        CHECK(message.find("is not trusted") != std::string::npos);
        CHECK(message.find(pki.ca.cert.string()) != std::string::npos);  // says which CAs it checked against
        INFO(client_error);
        CHECK(client_error.find("refused the TLS session") != std::string::npos);
        CHECK(client_error.find("does not accept our certificate") != std::string::npos);
    }

    SECTION("as the initiator: the acceptor's certificate is not trusted") {
        TcpPair p;
        auto acceptor = std::async(std::launch::async, [&, s = std::move(p.server)]() mutable {
            return error_of([&] { tls_accept(std::move(s), rogue, Deadline(5s)); });
        });
        TlsFailure failure = TlsFailure::protocol;
        std::string message;
        try {
            tls_connect(std::move(p.client), ours, "localhost", Deadline(5s));
        } catch (const TlsSessionError& e) {
            failure = e.failure();
            message = e.what();
        }
        INFO(message);
        CHECK(failure == TlsFailure::untrusted_peer);
        CHECK(message.find("CN=rogue") != std::string::npos);
        CHECK(message.find("issued by CN=rogue-ca") != std::string::npos);
        std::string server_error = acceptor.get();
        INFO(server_error);
        CHECK(server_error.find("does not accept our certificate") != std::string::npos);
    }
}

TEST_CASE("TLS: the initiator checks that the acceptor's certificate names the host it dials", "[dist][tls]") {
    Pki pki;
    CertFiles elsewhere = make_node_cert(pki.dir.path(), "elsewhere", pki.ca, {.hosts = {"elsewhere.example", "10.9.9.9"}});
    TlsContext server(pki.options(elsewhere));
    for (std::string host : {"localhost", "127.0.0.1"}) {
        TlsContext client(pki.options(pki.a));
        TcpPair p;
        auto acceptor = std::async(std::launch::async, [&, s = std::move(p.server)]() mutable {
            return error_of([&] { tls_accept(std::move(s), server, Deadline(5s)); });
        });
        std::string message = error_of([&] { tls_connect(std::move(p.client), client, host, Deadline(5s)); });
        INFO(message);
        CHECK(message.find("does not name host '" + host + "'") != std::string::npos);
        acceptor.get();
    }
    // verify_hostname = false: the chain alone decides.
    TlsOptions o = pki.options(pki.a);
    o.verify_hostname = false;
    TlsContext lenient(o);
    Session s = connect_pair(lenient, server);
    CHECK(s.client_result.peer_name == beta.name);
}

TEST_CASE("TLS: a plain peer and a TLS peer cannot talk, whichever connects", "[dist][tls]") {
    Pki pki;
    TlsContext ctx(pki.options(pki.a));

    SECTION("a plain initiator to a TLS acceptor: refused at its first byte") {
        TcpPair p;
        auto acceptor = std::async(std::launch::async, [&, s = std::move(p.server)]() mutable {
            try {
                tls_accept(std::move(s), ctx, Deadline(5s));
            } catch (const TlsSessionError& e) {
                return std::make_pair(e.failure(), std::string(e.what()));
            }
            return std::make_pair(TlsFailure::protocol, std::string("accepted"));
        });
        auto t0 = std::chrono::steady_clock::now();
        std::string client_error = error_of([&] { handshake_initiate(p.client.fd(), alpha, beta.name, cookie, Deadline(5s)); });
        auto [failure, message] = acceptor.get();
        INFO(message);
        CHECK(failure == TlsFailure::not_tls);
        CHECK(message.find("does not speak TLS") != std::string::npos);
        CHECK(message.find("0x00") != std::string::npos);  // the 2-byte length of its name message
        INFO(client_error);
        CHECK_FALSE(client_error.empty());
        CHECK(std::chrono::steady_clock::now() - t0 < 2s);  // not a timeout
    }

    SECTION("a TLS initiator to a plain acceptor: no session, by the deadline") {
        TcpPair p;
        auto acceptor = std::async(std::launch::async, [&, s = std::move(p.server)]() mutable {
            // Reads the ClientHello's first bytes as a 2-byte length and
            // waits for the rest, as a plain erl does, until its deadline.
            std::string e = error_of([&] { handshake_accept(s.fd(), beta, cookie, Deadline(1500ms)); });
            s.reset();
            return e;
        });
        auto t0 = std::chrono::steady_clock::now();
        std::string message = error_of([&] { tls_connect(std::move(p.client), ctx, "localhost", Deadline(3s)); });
        INFO(message);
        CHECK_FALSE(message.empty());
        CHECK(std::chrono::steady_clock::now() - t0 < 4s);
        std::string server_error = acceptor.get();
        INFO(server_error);
        CHECK_FALSE(server_error.empty());
    }
}

TEST_CASE("TLS: the TLS handshake honours its deadline against a silent peer", "[dist][tls]") {
    Pki pki;
    TlsContext ctx(pki.options(pki.a));
    TcpPair p;  // the server side never says a word
    auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(tls_connect(std::move(p.client), ctx, "localhost", Deadline(300ms)), TimeoutError);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took >= 290ms);
    CHECK(took < 2s);
    // And an acceptor whose initiator never sends its ClientHello.
    TcpPair q;
    t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(tls_accept(std::move(q.server), ctx, Deadline(300ms)), TimeoutError);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
}

TEST_CASE("TLS: settings that cannot be used are refused with the file and the reason", "[dist][tls]") {
    Pki pki;
    const auto dir = pki.dir.path();
    auto error_for = [](TlsOptions o) {
        try {
            TlsContext c(std::move(o));
        } catch (const TlsConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return dir / name;
    };

    SECTION("missing files") {
        std::string m = error_for({dir / "nope.crt", pki.a.key, pki.ca.cert});
        CHECK(m == "TLS certfile " + (dir / "nope.crt").string() + ": no such file");
        m = error_for({pki.a.cert, dir / "nope.key", pki.ca.cert});
        CHECK(m == "TLS keyfile " + (dir / "nope.key").string() + ": no such file");
        m = error_for({pki.a.cert, pki.a.key, dir / "nope-ca.crt"});
        CHECK(m == "TLS cacertfile " + (dir / "nope-ca.crt").string() + ": no such file");
        m = error_for({pki.a.cert, pki.a.key, dir});
        CHECK(m.find("not a regular file") != std::string::npos);
    }
    SECTION("required settings") {
        CHECK(error_for({{}, pki.a.key, pki.ca.cert}).find("needs a certfile") != std::string::npos);
        CHECK(error_for({pki.a.cert, pki.a.key, {}}).find("needs a cacertfile") != std::string::npos);
        TlsOptions none{pki.a.cert, pki.a.key, {}};
        none.verify_peer = false;
        CHECK(error_for(none) == "no error");  // verify_none needs no CAs
    }
    SECTION("files without what they should hold") {
        auto junk = write("junk.pem", "this is not PEM\n");
        std::string m = error_for({junk, pki.a.key, pki.ca.cert});
        CHECK(m.starts_with("TLS certfile " + junk.string() + ": no usable PEM certificate in it"));
        m = error_for({pki.a.cert, junk, pki.ca.cert});
        CHECK(m.starts_with("TLS keyfile " + junk.string() + ": no usable PEM private key in it"));
        m = error_for({pki.a.cert, pki.a.key, junk});
        CHECK(m.starts_with("TLS cacertfile " + junk.string() + ": no usable PEM CA certificate in it"));
    }
    SECTION("a key that is not the certificate's") {
        std::string m = error_for({pki.a.cert, pki.b.key, pki.ca.cert});
        CHECK(m == "TLS keyfile " + pki.b.key.string() + ": its private key does not match the certificate in certfile " +
                       pki.a.cert.string());
    }
    SECTION("a key in the certfile (keyfile empty), as erl allows") {
        auto both = write("both.pem", [&] {
            std::ifstream c(pki.a.cert), k(pki.a.key);
            std::stringstream s;
            s << c.rdbuf() << k.rdbuf();
            return s.str();
        }());
        CHECK(error_for({both, {}, pki.ca.cert}) == "no error");
        CHECK(error_for({pki.a.cert, {}, pki.ca.cert}).find("no usable PEM private key") != std::string::npos);
    }
    SECTION("a password-protected key is refused, never prompted for") {
        CertFiles locked = make_node_cert(dir, "locked", pki.ca, {.hosts = local_hosts(), .key_password = "secret"});
        std::string m = error_for({locked.cert, locked.key, pki.ca.cert});
        CHECK(m.find("its private key is password-protected, which is not supported") != std::string::npos);
    }
    SECTION("certificates out of their validity") {
        CertFiles old = make_node_cert(dir, "old", pki.ca, {.hosts = local_hosts(), .valid_from_days = -10, .valid_to_days = -1});
        CHECK(error_for({old.cert, old.key, pki.ca.cert}).find(": the certificate expired on ") != std::string::npos);
        CertFiles future = make_node_cert(dir, "future", pki.ca, {.hosts = local_hosts(), .valid_from_days = 2, .valid_to_days = 9});
        CHECK(error_for({future.cert, future.key, pki.ca.cert}).find(": the certificate is not valid before ") !=
              std::string::npos);
    }
    SECTION("a good context describes itself") {
        TlsContext c(pki.options(pki.a));
        CHECK(c.description().find("certificate CN=node-a,O=otpp tests") == 0);
        CHECK(c.description().find("verify_peer") != std::string::npos);
    }
}
