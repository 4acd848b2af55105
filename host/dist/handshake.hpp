// The distribution handshake, version 6 (OTP 23+; the only one OTP 25-27
// speak), both ways, over a connected socket; erl_dist_protocol.md
// "Distribution Handshake" and lib/kernel/src/dist_util.erl.
//
//   A (initiator)                          B (acceptor)
//   send_name 'N' flags:8 creation:4 nlen:2 name  ->
//                                          <-  status 's' + ok | ok_simultaneous | nok | not_allowed | alive
//   (after alive: 's' + true | false  ->)
//                                          <-  challenge 'N' flags:8 challenge:4 creation:4 nlen:2 name
//   challenge_reply 'r' challenge:4 digest:16  ->
//                                          <-  challenge_ack 'a' digest:16
//
// Every message has a 2-byte big-endian length over plain TCP; after the
// handshake the connection switches to 4-byte lengths (a zero-length packet
// is a tick). Over TLS (inet_tls_dist, tls_transport.hpp) the handshake runs
// inside the TLS session and its messages already have 4-byte lengths: the
// Transport says which (Transport::handshake_length_bytes).
// digest = MD5(cookie ++ integer_to_list(challenge)), the challenge as an
// unsigned decimal. Challenges come from OpenSSL's CSPRNG.
//
// Flags: each side advertises its own; the connection uses their
// intersection (a peer's DFLAG_MANDATORY_25_DIGEST counts as the OTP 25
// mandatory bits). It is hidden unless both set DFLAG_PUBLISHED. We refuse a
// peer lacking any of the required flags (DFLAGS_REQUIRED by default), as
// the acceptor with status not_allowed, as dist_util does.
//
// Blocking: each handshake blocks the calling thread until it completes, it
// fails, or its deadline passes (one deadline for the whole handshake, by
// default 7 s, erl's net_setuptime). Errors are HandshakeError exceptions
// whose failure() says what went wrong and whose message names the peer and
// the step; the cookie never appears in a message or a log line.
#pragma once

#include "blocking_socket.hpp"
#include "epmd_client.hpp"
#include "flags.hpp"
#include "transport.hpp"

#include <otpp/error.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace otpp::dist {

class TlsContext;

enum class HandshakeFailure {
    timeout,        // the deadline passed
    closed,         // the peer closed the connection (other than after our digest)
    io,             // a socket error
    protocol,       // a malformed or unexpected message (e.g. the old 'n' send_name)
    bad_cookie,     // the digests do not match: the cookies differ
    missing_flags,  // the peer lacks flags we require
    refused,        // a status ended it: nok, not_allowed, or alive answered false
    wrong_peer,     // the node that answered is not the one we meant to reach
    unreachable,    // (connect_node) the peer is not registered in EPMD / no common version
    tls,            // the TLS session failed: a certificate refused either way, a peer without TLS
};
const char* to_string(HandshakeFailure failure) noexcept;

class HandshakeError : public otpp::Error {
public:
    HandshakeError(HandshakeFailure failure, std::string what);
    HandshakeFailure failure() const noexcept { return failure_; }

private:
    HandshakeFailure failure_;
};

// The status the acceptor sends after the initiator's name.
enum class HandshakeStatus {
    ok,               // go on
    ok_simultaneous,  // go on; we dropped our own attempt to connect to the initiator
    nok,              // stop: our own attempt to connect to the initiator wins
    not_allowed,      // stop: the initiator may not connect
    alive,            // we believe a connection to the initiator is up: is it still?
};
const char* to_string(HandshakeStatus status) noexcept;

// The simultaneous-connect rule (net_kernel's handle_info({accept_pending,
// ...}) in OTP 25-27): a connection from `peer` arrives while our own attempt
// to connect to `peer` is still pending. The node with the greater name wins
// (Erlang atom order: bytewise on the UTF-8 names). If our name is greater,
// our own attempt goes on and we answer `nok` to the peer's; otherwise we
// abandon our own attempt and answer `ok_simultaneous`, and the peer's
// attempt becomes the connection. Both nodes apply the same rule, so exactly
// one connection survives: the one started by the node with the greater name.
HandshakeStatus simultaneous_connect_status(std::string_view our_name, std::string_view peer_name) noexcept;
// True if our pending attempt wins against the peer's (our_name > peer_name).
bool we_win_simultaneous_connect(std::string_view our_name, std::string_view peer_name) noexcept;

// This node, as the handshake presents it.
struct LocalNode {
    std::string name;           // full name, "foo@host"
    std::uint32_t creation = 0; // this incarnation's creation (see random_creation())
};

// A creation for a node incarnation that is not registered in EPMD: random
// from the CSPRNG, never 0-3 (net_kernel:create_creation/0 avoids them too).
// A node registered in EPMD uses the creation EPMD returned instead, as erl
// does (EpmdRegistration::creation()).
std::uint32_t random_creation();

struct HandshakeOptions {
    // What we advertise. DFLAGS_ADVERTISED_HIDDEN connects hidden.
    // DFLAG_HANDSHAKE_23 is always added (we only speak version 6).
    std::uint64_t advertised = DFLAGS_ADVERTISED;
    // What the peer must advertise (after expanding MANDATORY_25_DIGEST).
    std::uint64_t required = DFLAGS_REQUIRED;
    // connect_node()'s budget for EPMD, connect and handshake together
    // (handshake_initiate/handshake_accept take an explicit Deadline).
    std::chrono::milliseconds timeout{7000};
};

struct HandshakeResult {
    std::string peer_name;
    std::uint64_t peer_flags = 0;     // as the peer sent them
    std::uint32_t peer_creation = 0;
    std::uint64_t our_flags = 0;      // as we sent them
    std::uint64_t flags = 0;          // the connection's: ours & expand_mandatory_25(peer's)
    HandshakeStatus status = HandshakeStatus::ok;  // the status sent (acceptor) or received (initiator)

    bool hidden() const noexcept { return !(flags & DFLAG_PUBLISHED); }
};

// The acceptor's decision after the initiator named itself; the default
// answers ok. Called on the handshake's thread.
using AcceptDecision = std::function<HandshakeStatus(const std::string& peer_name, std::uint64_t peer_flags)>;
// The initiator's answer to status `alive` (true: our old connection to the
// peer is gone, go on; false: give up). The default answers true: a node
// that is connecting has no live connection to that peer.
using AliveAnswer = std::function<bool(const std::string& peer_name)>;

// The initiator's side (node A) over a connected stream (plain or TLS),
// towards the node `expected_peer` ("name@host"). Returns when the
// connection is up; the stream then carries 4-byte-framed packets. Throws HandshakeError: the
// peer's status ended it (refused), the peer is another node (wrong_peer),
// lacks required flags (missing_flags), the digests differ (bad_cookie; also
// when the peer closes the connection right after our digest, which is how a
// BEAM rejects a wrong cookie), the deadline passed (timeout).
// A TLS session that fails (e.g. the peer rejects our certificate after a
// TLS 1.3 handshake) is HandshakeError(tls).
HandshakeResult handshake_initiate(Transport& stream, const LocalNode& self, std::string_view expected_peer,
                                   std::string_view cookie, const Deadline& deadline,
                                   const HandshakeOptions& options = {}, const AliveAnswer& on_alive = {});
// The same over a plain TCP socket `fd` (2-byte lengths; fd stays the caller's).
HandshakeResult handshake_initiate(int fd, const LocalNode& self, std::string_view expected_peer,
                                   std::string_view cookie, const Deadline& deadline,
                                   const HandshakeOptions& options = {}, const AliveAnswer& on_alive = {});

// The acceptor's side (node B) over an accepted stream. `decide` picks the
// status (default ok); for nok and not_allowed the status is sent and
// HandshakeError(refused) thrown; for alive, the initiator's answer decides.
// Throws HandshakeError as above; bad_cookie when the initiator's digest is
// wrong (we then close without an ack, as a BEAM does).
HandshakeResult handshake_accept(Transport& stream, const LocalNode& self, std::string_view cookie,
                                 const Deadline& deadline, const HandshakeOptions& options = {},
                                 const AcceptDecision& decide = {});
// The same over a plain TCP socket `fd` (fd stays the caller's).
HandshakeResult handshake_accept(int fd, const LocalNode& self, std::string_view cookie, const Deadline& deadline,
                                 const HandshakeOptions& options = {}, const AcceptDecision& decide = {});

// A connection that has completed its handshake over plain TCP.
struct NodeConnection {
    Socket socket;
    HandshakeResult peer;
};

// A connection that has completed its handshake, over plain TCP or TLS.
struct NodeStream {
    std::unique_ptr<Transport> stream;
    HandshakeResult peer;
};

// Connects to `peer` ("name@host") as erl does: resolves the host (IPv4;
// blocks in the resolver, see resolve_ipv4), asks that host's EPMD
// (ERL_EPMD_PORT or 4369) for the port, connects, and runs the initiator's
// handshake. One deadline (options.timeout) covers the EPMD request, the
// connect and the handshake. Throws HandshakeError (unreachable: not
// registered, or no common protocol version; timeout; and the handshake's
// failures), NodeNameError for a malformed `peer`.
NodeConnection connect_node(const LocalNode& self, std::string_view peer, std::string_view cookie,
                            const HandshakeOptions& options = {}, const AliveAnswer& on_alive = {});

// connect_node() over plain TCP (tls == nullptr) or TLS (inet_tls_dist: the
// TCP connection is wrapped in TLS from its first byte and the handshake
// runs inside; EPMD stays plain). The one deadline (options.timeout) also
// covers the TLS handshake. Blocks like connect_node. Throws as
// connect_node, plus HandshakeError(tls) when the TLS session cannot be set
// up (the message says why: its certificate is not trusted, it refused
// ours, ...) and HandshakeError(timeout) when the peer never completes the
// TLS handshake (a node without TLS distribution does not answer one).
NodeStream connect_node_stream(const LocalNode& self, std::string_view peer, std::string_view cookie,
                               const TlsContext* tls, const HandshakeOptions& options = {},
                               const AliveAnswer& on_alive = {});

// The digest: MD5(cookie ++ decimal(challenge)), through OpenSSL's EVP API.
std::array<std::uint8_t, 16> handshake_digest(std::uint32_t challenge, std::string_view cookie);

}  // namespace otpp::dist
