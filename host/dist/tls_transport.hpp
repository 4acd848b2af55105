// TLS distribution, compatible with Erlang's `-proto_dist inet_tls`
// (ssl's inet_tls_dist): every distribution connection is TLS from its
// first byte, the distribution handshake runs inside it (with 4-byte length
// prefixes, inet_tls_dist's {packet, 4}), then the connection's packets.
// EPMD stays plain TCP. OpenSSL does the TLS (TLS 1.2 and 1.3: OTP 25's
// inet_tls_dist offers only TLS 1.2 unless its optfile says otherwise).
//
// Settings mirror inet_tls_dist's ssl_dist_optfile (certfile, keyfile,
// cacertfile, verify, fail_if_no_peer_cert) and apply to both roles, like
// an optfile whose server and client sections say the same. With
// verify_peer (the default) both sides check the other's certificate
// chain against cacertfile, and the initiator also checks that the
// acceptor's certificate names the host part of the node name it dials,
// as an erl client does (ssl checks its server_name_indication).
//
// Thread safety: a TlsContext is immutable once built and may be shared by
// any number of threads and connections. A TLS transport follows
// transport.hpp: its reader and its writer may run at once (every OpenSSL
// call on the session is made under one mutex that is never held while
// waiting; each side waits in poll() on the socket and on a wake-up fd of
// its own), and shutdown() wakes both.
#pragma once

#include "blocking_socket.hpp"
#include "transport.hpp"

#include <otpp/error.hpp>

#include <filesystem>
#include <memory>
#include <string>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace otpp::dist {

struct TlsOptions {
    // PEM: this node's certificate, then any intermediate CA certificates. Required.
    std::filesystem::path certfile;
    // PEM: its private key, unencrypted (password-protected keys are not
    // supported). Empty: the key is in certfile (erl's default too).
    std::filesystem::path keyfile;
    // PEM: the CA certificates that peers' certificates must chain to.
    // Required with verify_peer.
    std::filesystem::path cacertfile;
    // verify = verify_peer (true) | verify_none (false: peers are not
    // authenticated, only encrypted to; a warning is logged at start).
    bool verify_peer = true;
    // With verify_peer, as the acceptor: refuse an initiator that presents
    // no certificate (erl's fail_if_no_peer_cert; its default is false, but
    // a cluster that verifies wants it on both sides).
    bool fail_if_no_peer_cert = true;
    // With verify_peer, as the initiator: the acceptor's certificate must
    // name the host part of the node name (a DNS subjectAltName, or the CN
    // when there is none; an IP address for a numeric host).
    bool verify_hostname = true;
};

// A setting that cannot be used: a missing or unreadable file, no
// certificate or key in it, a key that does not match the certificate, an
// expired certificate. Thrown by TlsContext's constructor, i.e. at start.
class TlsConfigError : public otpp::Error {
public:
    using otpp::Error::Error;
};

enum class TlsFailure {
    untrusted_peer,   // the peer's certificate fails our checks (CA, validity, host name) or is missing
    refused_by_peer,  // the peer ended the session with a fatal alert (e.g. it does not trust our certificate)
    not_tls,          // the peer does not speak TLS (a node without -proto_dist inet_tls)
    closed,           // the peer closed the connection during the TLS handshake without an alert
    protocol,         // any other TLS failure
};
const char* to_string(TlsFailure failure) noexcept;

// A TLS session failed (during its handshake, or later: an alert). The
// message says why in words, e.g. "its certificate (CN=x) is not trusted:
// unable to get local issuer certificate (not signed by a CA in
// cacertfile /etc/otpp/ca.pem)".
class TlsSessionError : public SocketError {
public:
    TlsSessionError(TlsFailure failure, std::string what);
    TlsFailure failure() const noexcept { return failure_; }

private:
    TlsFailure failure_;
};

// The loaded settings: certificate, key and trusted CAs, checked. Building
// one reads the files and blocks only on that; throws TlsConfigError.
class TlsContext {
public:
    explicit TlsContext(TlsOptions options);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    const TlsOptions& options() const noexcept { return options_; }
    // For logs: "certificate CN=a (expires 2027-01-01), CAs from /x/ca.pem, verify_peer".
    const std::string& description() const noexcept { return description_; }
    ssl_ctx_st* native() const noexcept { return ctx_; }

private:
    TlsOptions options_;
    ssl_ctx_st* ctx_ = nullptr;
    std::string description_;
};

// The initiator's TLS handshake over a connected TCP socket, towards a node
// on host `peer_host` (the host part of its name: SNI and, with
// verify_hostname, the name its certificate must carry). Blocks until the
// session is up or the deadline passes. Returns the transport (it owns the
// socket now). Throws TlsSessionError, TimeoutError, ConnectionClosed or
// SocketError; the socket is closed then.
std::unique_ptr<Transport> tls_connect(Socket socket, const TlsContext& context, const std::string& peer_host,
                                       const Deadline& deadline);

// The acceptor's TLS handshake over an accepted TCP socket. A peer whose
// first byte is not a TLS record (a plain distribution node sends its name)
// is refused at once with TlsFailure::not_tls. Blocks and throws as
// tls_connect.
std::unique_ptr<Transport> tls_accept(Socket socket, const TlsContext& context, const Deadline& deadline);

}  // namespace otpp::dist
