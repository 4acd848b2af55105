#include "handshake.hpp"

#include "node_name.hpp"
#include "tls_transport.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace otpp::dist {

namespace {

using Bytes = std::vector<std::uint8_t>;

std::uint32_t random_u32() {
    std::uint8_t b[4];
    if (RAND_bytes(b, sizeof b) != 1) throw HandshakeError(HandshakeFailure::io, "cannot get random bytes (RAND_bytes)");
    return get_u32(b);
}

// Runs one step of the handshake, turning socket failures into
// HandshakeErrors that say which step, with whom, failed.
template <class F>
auto step(const std::string& peer, const char* what, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const TimeoutError&) {
        throw HandshakeError(HandshakeFailure::timeout,
                             "handshake with " + peer + " timed out while " + what);
    } catch (const TlsSessionError& e) {
        throw HandshakeError(HandshakeFailure::tls, "handshake with " + peer + " failed while " + what + ": " + e.what());
    } catch (const ConnectionClosed& e) {
        throw HandshakeError(HandshakeFailure::closed,
                             "handshake with " + peer + ": the connection closed while " + what + " (" + e.what() + ")");
    } catch (const SocketError& e) {
        throw HandshakeError(HandshakeFailure::io, "handshake with " + peer + " failed while " + what + ": " + e.what());
    }
}

std::string status_text(const Bytes& msg) { return std::string(msg.begin() + 1, msg.end()); }

std::string printable(std::string_view s) {
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
    return out;
}

// dist_util:is_name_ok/2 for a static name: exactly one '@', both sides non-empty.
bool is_full_node_name(std::string_view name) {
    auto at = name.find('@');
    return at != std::string_view::npos && at > 0 && at + 1 < name.size() &&
           name.find('@', at + 1) == std::string_view::npos;
}

void check_required(const std::string& peer, std::uint64_t peer_flags, std::uint64_t required) {
    std::uint64_t missing = required & ~expand_mandatory_25(peer_flags);
    if (missing)
        throw HandshakeError(HandshakeFailure::missing_flags,
                             "handshake with " + peer + ": the peer lacks mandatory distribution flags: " +
                                 flag_names(missing) + " (it sent " + flag_names(peer_flags) + ")");
}

// The longest handshake message: the challenge 'N' with a 65535-byte name.
constexpr std::size_t max_message = 1 + 8 + 4 + 4 + 2 + 0xffff;

// One handshake message with its length prefix (2 or 4 bytes, as the
// transport's carrier frames it).
void write_message(Transport& t, const Bytes& msg, const Deadline& deadline) {
    const std::size_t prefix = t.handshake_length_bytes();
    if (msg.size() > max_message) throw otpp::BadArg("handshake message too long");
    Bytes frame;
    frame.reserve(prefix + msg.size());
    if (prefix == 2) put_u16(frame, static_cast<std::uint16_t>(msg.size()));
    else put_u32(frame, static_cast<std::uint32_t>(msg.size()));
    frame.insert(frame.end(), msg.begin(), msg.end());
    t.send_all(frame, deadline);
}

Bytes read_message(Transport& t, const Deadline& deadline) {
    const std::size_t prefix = t.handshake_length_bytes();
    std::uint8_t len[4];
    t.recv_exact({len, prefix}, deadline);
    const std::size_t n = prefix == 2 ? get_u16(len) : get_u32(len);
    if (n > max_message)
        throw SocketError("a handshake message of " + std::to_string(n) + " bytes (at most " +
                              std::to_string(max_message) + " make sense)",
                          EMSGSIZE);
    Bytes msg(n);
    t.recv_exact(msg, deadline);
    return msg;
}

void send(Transport& t, const std::string& peer, const char* what, const Bytes& msg, const Deadline& deadline) {
    step(peer, what, [&] { write_message(t, msg, deadline); });
}

Bytes receive(Transport& t, const std::string& peer, const char* what, const Deadline& deadline) {
    return step(peer, what, [&] { return read_message(t, deadline); });
}

void send_status(Transport& t, const std::string& peer, std::string_view status, const Deadline& deadline) {
    Bytes msg{'s'};
    msg.insert(msg.end(), status.begin(), status.end());
    send(t, peer, "sending our status", msg, deadline);
}

// Best effort: tell the initiator why before we close (as dist_util does).
void try_send_status(Transport& t, std::string_view status, const Deadline& deadline) {
    try {
        Bytes msg{'s'};
        msg.insert(msg.end(), status.begin(), status.end());
        write_message(t, msg, deadline.min(Deadline(std::chrono::milliseconds(500))));
    } catch (const std::exception&) {
    }
}

}  // namespace

const char* to_string(HandshakeFailure failure) noexcept {
    switch (failure) {
        case HandshakeFailure::timeout: return "timeout";
        case HandshakeFailure::closed: return "closed";
        case HandshakeFailure::io: return "io";
        case HandshakeFailure::protocol: return "protocol";
        case HandshakeFailure::bad_cookie: return "bad_cookie";
        case HandshakeFailure::missing_flags: return "missing_flags";
        case HandshakeFailure::refused: return "refused";
        case HandshakeFailure::wrong_peer: return "wrong_peer";
        case HandshakeFailure::unreachable: return "unreachable";
        case HandshakeFailure::tls: return "tls";
    }
    return "?";
}

const char* to_string(HandshakeStatus status) noexcept {
    switch (status) {
        case HandshakeStatus::ok: return "ok";
        case HandshakeStatus::ok_simultaneous: return "ok_simultaneous";
        case HandshakeStatus::nok: return "nok";
        case HandshakeStatus::not_allowed: return "not_allowed";
        case HandshakeStatus::alive: return "alive";
    }
    return "?";
}

HandshakeError::HandshakeError(HandshakeFailure failure, std::string what)
    : otpp::Error(std::move(what)), failure_(failure) {}

bool we_win_simultaneous_connect(std::string_view our_name, std::string_view peer_name) noexcept {
    // std::char_traits<char>::compare compares as unsigned char (like
    // memcmp), which on UTF-8 is code point order: Erlang's atom order.
    return our_name.compare(peer_name) > 0;
}

HandshakeStatus simultaneous_connect_status(std::string_view our_name, std::string_view peer_name) noexcept {
    return we_win_simultaneous_connect(our_name, peer_name) ? HandshakeStatus::nok : HandshakeStatus::ok_simultaneous;
}

std::uint32_t random_creation() {
    std::uint32_t c = random_u32();
    // net_kernel:wrap_creation/1: avoid 0, 1, 2, 3.
    while (c < 4) c = c + 4;
    return c;
}

std::array<std::uint8_t, 16> handshake_digest(std::uint32_t challenge, std::string_view cookie) {
    std::string data(cookie);
    data += std::to_string(challenge);
    std::array<std::uint8_t, 16> out{};
    unsigned int len = 0;
    int ok = EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr);
    OPENSSL_cleanse(data.data(), data.size());
    if (ok != 1 || len != out.size())
        throw HandshakeError(HandshakeFailure::io, "cannot compute the handshake digest (EVP_Digest MD5 failed)");
    return out;
}

HandshakeResult handshake_initiate(int fd, const LocalNode& self, std::string_view expected_peer,
                                   std::string_view cookie, const Deadline& deadline,
                                   const HandshakeOptions& options, const AliveAnswer& on_alive) {
    auto t = plain_transport_borrowing(fd);
    return handshake_initiate(*t, self, expected_peer, cookie, deadline, options, on_alive);
}

HandshakeResult handshake_initiate(Transport& stream, const LocalNode& self, std::string_view expected_peer,
                                   std::string_view cookie, const Deadline& deadline,
                                   const HandshakeOptions& options, const AliveAnswer& on_alive) {
    const std::string peer(expected_peer);
    HandshakeResult result;
    result.our_flags = options.advertised | DFLAG_HANDSHAKE_23;
    if (self.name.size() > 0xffff) throw HandshakeError(HandshakeFailure::protocol, "our node name is too long");

    // send_name 'N'
    Bytes name_msg{'N'};
    put_u64(name_msg, result.our_flags);
    put_u32(name_msg, self.creation);
    put_u16(name_msg, static_cast<std::uint16_t>(self.name.size()));
    name_msg.insert(name_msg.end(), self.name.begin(), self.name.end());
    send(stream, peer, "sending our name", name_msg, deadline);

    // recv_status
    Bytes st = receive(stream, peer, "waiting for its status", deadline);
    if (st.empty() || st[0] != 's')
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake with " + peer + ": expected a status message ('s'), got " +
                                 (st.empty() ? std::string("an empty message") : "tag " + std::to_string(st[0])));
    const std::string status = status_text(st);
    if (status == "ok") {
        result.status = HandshakeStatus::ok;
    } else if (status == "ok_simultaneous") {
        result.status = HandshakeStatus::ok_simultaneous;
    } else if (status == "nok") {
        throw HandshakeError(HandshakeFailure::refused,
                             "handshake with " + peer +
                                 " refused (status nok): it is connecting to us at the same time and its name is "
                                 "greater, so its connection is the one that stays");
    } else if (status == "not_allowed") {
        throw HandshakeError(HandshakeFailure::refused,
                             "handshake with " + peer +
                                 " refused (status not_allowed): it does not allow us to connect (or lacks flags it "
                                 "requires of us)");
    } else if (status == "alive") {
        bool go_on = on_alive ? on_alive(peer) : true;
        send_status(stream, peer, go_on ? "true" : "false", deadline);
        if (!go_on)
            throw HandshakeError(HandshakeFailure::refused,
                                 "handshake with " + peer +
                                     ": it has a connection from us up (status alive) and we chose to keep that one");
        result.status = HandshakeStatus::alive;
    } else if (status.rfind("named:", 0) == 0) {
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake with " + peer + ": status named: answers a dynamic name we did not ask for");
    } else {
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake with " + peer + ": unknown status '" + printable(status) + "'");
    }

    // recv_challenge 'N'
    Bytes ch = receive(stream, peer, "waiting for its challenge", deadline);
    constexpr std::size_t fixed = 1 + 8 + 4 + 4 + 2;
    if (ch.empty() || ch[0] != 'N')
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake with " + peer + ": expected the challenge ('N'), got " +
                                 (ch.empty() ? std::string("an empty message") : "tag " + std::to_string(ch[0])));
    if (ch.size() < fixed || ch.size() < fixed + get_u16(ch.data() + 17))
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake with " + peer + ": truncated challenge (" + std::to_string(ch.size()) +
                                 " bytes)");
    result.peer_flags = get_u64(ch.data() + 1);
    const std::uint32_t peer_challenge = get_u32(ch.data() + 9);
    result.peer_creation = get_u32(ch.data() + 13);
    result.peer_name.assign(reinterpret_cast<const char*>(ch.data()) + fixed, get_u16(ch.data() + 17));
    if (result.peer_name != peer)
        throw HandshakeError(HandshakeFailure::wrong_peer, "handshake: we meant to reach " + peer +
                                                               " but the node that answered is '" +
                                                               printable(result.peer_name) + "'");
    check_required(peer, result.peer_flags, options.required);
    result.flags = result.our_flags & expand_mandatory_25(result.peer_flags);

    // send_challenge_reply 'r'
    const std::uint32_t our_challenge = random_u32();
    Bytes reply{'r'};
    put_u32(reply, our_challenge);
    auto digest = handshake_digest(peer_challenge, cookie);
    reply.insert(reply.end(), digest.begin(), digest.end());
    send(stream, peer, "sending our challenge reply", reply, deadline);

    // recv_challenge_ack 'a'
    Bytes ack;
    try {
        ack = step(peer, "waiting for its challenge ack", [&] { return read_message(stream, deadline); });
    } catch (const HandshakeError& e) {
        if (e.failure() != HandshakeFailure::closed) throw;
        // A BEAM that finds our digest wrong closes without a word.
        throw HandshakeError(HandshakeFailure::bad_cookie,
                             "handshake with " + peer +
                                 ": it closed the connection after our challenge reply, which means it found our "
                                 "digest wrong: our cookie is not the one it expects");
    }
    if (ack.size() != 17 || ack[0] != 'a')
        throw HandshakeError(HandshakeFailure::protocol, "handshake with " + peer +
                                                             ": expected the challenge ack ('a' + 16 bytes), got " +
                                                             std::to_string(ack.size()) + " bytes");
    auto expected = handshake_digest(our_challenge, cookie);
    if (CRYPTO_memcmp(ack.data() + 1, expected.data(), expected.size()) != 0)
        throw HandshakeError(HandshakeFailure::bad_cookie,
                             "handshake with " + peer + ": its challenge ack has a wrong digest: its cookie differs from ours");
    spdlog::debug("dist: connected to {} (creation {}, flags {:#x}{})", peer, result.peer_creation, result.flags,
                  result.hidden() ? ", hidden" : "");
    return result;
}

HandshakeResult handshake_accept(int fd, const LocalNode& self, std::string_view cookie, const Deadline& deadline,
                                 const HandshakeOptions& options, const AcceptDecision& decide) {
    auto t = plain_transport_borrowing(fd);
    return handshake_accept(*t, self, cookie, deadline, options, decide);
}

HandshakeResult handshake_accept(Transport& stream, const LocalNode& self, std::string_view cookie,
                                 const Deadline& deadline, const HandshakeOptions& options,
                                 const AcceptDecision& decide) {
    HandshakeResult result;
    result.our_flags = options.advertised | DFLAG_HANDSHAKE_23;
    std::string peer = "an incoming node";

    // recv_name
    Bytes nm = receive(stream, peer, "waiting for its name", deadline);
    if (nm.empty())
        throw HandshakeError(HandshakeFailure::protocol, "handshake with " + peer + ": empty first message");
    if (nm[0] == 'n')
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake with " + peer +
                                 ": it sent the version-5 name message ('n'), from OTP 22 or older or an OTP 23/24 "
                                 "node not using epmd; only version 6 ('N') is supported");
    constexpr std::size_t fixed = 1 + 8 + 4 + 2;
    if (nm[0] != 'N')
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake with " + peer + ": expected its name ('N'), got tag " + std::to_string(nm[0]));
    if (nm.size() < fixed || nm.size() < fixed + get_u16(nm.data() + 13))
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake with " + peer + ": truncated name message (" + std::to_string(nm.size()) +
                                 " bytes)");
    result.peer_flags = get_u64(nm.data() + 1);
    result.peer_creation = get_u32(nm.data() + 9);
    result.peer_name.assign(reinterpret_cast<const char*>(nm.data()) + fixed, get_u16(nm.data() + 13));
    if (result.peer_flags & DFLAG_NAME_ME) {
        try_send_status(stream, "not_allowed", deadline);
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake with " + peer + ": it asks for a dynamic name (DFLAG_NAME_ME), not supported");
    }
    if (!is_full_node_name(result.peer_name))
        throw HandshakeError(HandshakeFailure::protocol,
                             "handshake: the incoming node's name '" + printable(result.peer_name) +
                                 "' is not name@host");
    peer = result.peer_name;
    try {
        check_required(peer, result.peer_flags, options.required);
    } catch (const HandshakeError&) {
        try_send_status(stream, "not_allowed", deadline);
        throw;
    }
    result.flags = result.our_flags & expand_mandatory_25(result.peer_flags);

    // send_status
    result.status = decide ? decide(result.peer_name, result.peer_flags) : HandshakeStatus::ok;
    send_status(stream, peer, to_string(result.status), deadline);
    if (result.status == HandshakeStatus::nok)
        throw HandshakeError(HandshakeFailure::refused,
                             "handshake with " + peer + ": we answered nok (our own connection to it wins)");
    if (result.status == HandshakeStatus::not_allowed)
        throw HandshakeError(HandshakeFailure::refused, "handshake with " + peer + ": we answered not_allowed");
    if (result.status == HandshakeStatus::alive) {
        Bytes answer = receive(stream, peer, "waiting for its answer to status alive", deadline);
        std::string a = answer.empty() || answer[0] != 's' ? std::string("?") : status_text(answer);
        if (a == "false")
            throw HandshakeError(HandshakeFailure::refused,
                                 "handshake with " + peer + ": it answered false to status alive (it keeps the old connection)");
        if (a != "true")
            throw HandshakeError(HandshakeFailure::protocol,
                                 "handshake with " + peer + ": expected true or false after status alive, got '" +
                                     printable(a) + "'");
    }

    // send_challenge 'N'
    const std::uint32_t our_challenge = random_u32();
    Bytes ch{'N'};
    put_u64(ch, result.our_flags);
    put_u32(ch, our_challenge);
    put_u32(ch, self.creation);
    put_u16(ch, static_cast<std::uint16_t>(self.name.size()));
    ch.insert(ch.end(), self.name.begin(), self.name.end());
    send(stream, peer, "sending our challenge", ch, deadline);

    // recv_challenge_reply 'r'
    Bytes reply = receive(stream, peer, "waiting for its challenge reply", deadline);
    if (reply.size() != 21 || reply[0] != 'r')
        throw HandshakeError(HandshakeFailure::protocol, "handshake with " + peer +
                                                             ": expected the challenge reply ('r' + 20 bytes), got " +
                                                             std::to_string(reply.size()) + " bytes");
    const std::uint32_t peer_challenge = get_u32(reply.data() + 1);
    auto expected = handshake_digest(our_challenge, cookie);
    if (CRYPTO_memcmp(reply.data() + 5, expected.data(), expected.size()) != 0) {
        spdlog::warn("dist: refused a connection from {}: wrong digest (its cookie differs from ours)", peer);
        throw HandshakeError(HandshakeFailure::bad_cookie,
                             "handshake with " + peer + ": its challenge reply has a wrong digest: its cookie differs from ours");
    }

    // send_challenge_ack 'a'
    Bytes ack{'a'};
    auto digest = handshake_digest(peer_challenge, cookie);
    ack.insert(ack.end(), digest.begin(), digest.end());
    send(stream, peer, "sending our challenge ack", ack, deadline);
    spdlog::debug("dist: accepted {} (creation {}, flags {:#x}{})", peer, result.peer_creation, result.flags,
                  result.hidden() ? ", hidden" : "");
    return result;
}

namespace {

// A TCP connection to a node's distribution port, as erl makes it: resolve
// its host, ask that host's EPMD for the port, connect.
struct Reached {
    Socket socket;
    std::string name;  // name@host
    std::string host;
};

Reached reach(std::string_view peer, const Deadline& deadline) {
    const NodeName target = NodeName::parse_full(peer);
    const std::string name = target.full();
    Ipv4 address;
    try {
        address = resolve_ipv4(target.host);
    } catch (const SocketError& e) {
        throw HandshakeError(HandshakeFailure::unreachable, "cannot reach " + name + ": " + e.what());
    }
    const EpmdEndpoint epmd{address, epmd_port_from_env()};
    std::optional<NodePort> np;
    try {
        np = port_please(target.alive, deadline, epmd);
    } catch (const TimeoutError&) {
        throw HandshakeError(HandshakeFailure::timeout, "cannot reach " + name + ": epmd at " + epmd.to_string() +
                                                            " did not answer in time");
    } catch (const otpp::Error& e) {
        throw HandshakeError(HandshakeFailure::unreachable,
                             "cannot reach " + name + ": asking epmd at " + epmd.to_string() + " failed: " + e.what());
    }
    if (!np)
        throw HandshakeError(HandshakeFailure::unreachable,
                             "cannot reach " + name + ": '" + target.alive + "' is not registered in epmd at " +
                                 epmd.to_string());
    if (np->lowest_version > DIST_VERSION || np->highest_version < DIST_VERSION)
        throw HandshakeError(HandshakeFailure::unreachable,
                             "cannot reach " + name + ": it speaks distribution versions " +
                                 std::to_string(np->lowest_version) + "-" + std::to_string(np->highest_version) +
                                 ", we speak only " + std::to_string(DIST_VERSION));
    Socket s;
    try {
        s = connect_tcp(address, np->port, deadline);
    } catch (const TimeoutError&) {
        throw HandshakeError(HandshakeFailure::timeout, "cannot reach " + name + ": connecting to " +
                                                            address.to_string() + ":" + std::to_string(np->port) +
                                                            " timed out");
    } catch (const SocketError& e) {
        throw HandshakeError(HandshakeFailure::unreachable, "cannot reach " + name + ": " + e.what());
    }
    return Reached{std::move(s), name, target.host};
}

}  // namespace

NodeConnection connect_node(const LocalNode& self, std::string_view peer, std::string_view cookie,
                            const HandshakeOptions& options, const AliveAnswer& on_alive) {
    const Deadline deadline(options.timeout);
    Reached r = reach(peer, deadline);
    HandshakeResult h = handshake_initiate(r.socket.fd(), self, r.name, cookie, deadline, options, on_alive);
    return NodeConnection{std::move(r.socket), std::move(h)};
}

NodeStream connect_node_stream(const LocalNode& self, std::string_view peer, std::string_view cookie,
                               const TlsContext* tls, const HandshakeOptions& options, const AliveAnswer& on_alive) {
    const Deadline deadline(options.timeout);
    Reached r = reach(peer, deadline);
    std::unique_ptr<Transport> stream;
    if (!tls) {
        stream = plain_transport(r.socket.release());
    } else {
        const std::string& name = r.name;
        try {
            stream = tls_connect(std::move(r.socket), *tls, r.host, deadline);
        } catch (const TimeoutError&) {
            throw HandshakeError(HandshakeFailure::timeout,
                                 "cannot reach " + name +
                                     ": its TLS handshake did not complete in time (a node without TLS distribution "
                                     "never answers one)");
        } catch (const TlsSessionError& e) {
            throw HandshakeError(HandshakeFailure::tls, "cannot reach " + name + ": TLS handshake failed: " + e.what());
        } catch (const ConnectionClosed& e) {
            throw HandshakeError(HandshakeFailure::tls, "cannot reach " + name + ": TLS handshake failed: " + e.what());
        } catch (const SocketError& e) {
            throw HandshakeError(HandshakeFailure::io, "cannot reach " + name + ": TLS handshake failed: " + e.what());
        }
    }
    HandshakeResult h = handshake_initiate(*stream, self, r.name, cookie, deadline, options, on_alive);
    return NodeStream{std::move(stream), std::move(h)};
}

}  // namespace otpp::dist
