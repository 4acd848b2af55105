// The byte stream of one distribution connection: plain TCP
// (inet_tcp_dist), or TLS over TCP from the first byte (inet_tls_dist;
// tls_transport.hpp). The handshake (handshake.hpp) runs over it, then the
// connection's reader and writer threads use it.
//
// Two sets of operations:
//  - set-up (recv_exact, send_all): one thread at a time, with a deadline;
//    they block until done or the deadline passes and throw the
//    blocking_socket.hpp errors (TimeoutError, ConnectionClosed,
//    SocketError; TLS adds TlsSessionError).
//  - after the handshake (read_exact, write_all, write_now): no deadline,
//    false (-1) on any failure (last_error() says why). One thread may read
//    while another writes (a connection's reader and writer).
// shutdown() may be called from any thread at any time: blocked operations
// (of either set) return false or throw ConnectionClosed, later ones too.
// last_error() and describe() may be called from any thread.
#pragma once

#include "blocking_socket.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace otpp::dist {

class Transport {
public:
    virtual ~Transport() = default;

    // ---- after the handshake
    // Reads exactly n bytes; false at end of stream or on an error.
    virtual bool read_exact(char* p, std::size_t n) = 0;
    // Writes all n bytes; false on an error.
    virtual bool write_all(const char* p, std::size_t n) = 0;
    // Whether write_now() is offered: a plain socket's; not TLS (a record
    // may need the peer's answer before it can go: only the writer thread,
    // which can wait, writes there).
    virtual bool can_write_now() const noexcept { return false; }
    // Writes what the socket takes right now without blocking: the number
    // of bytes written (0 if it would block), -1 on an error. Never
    // concurrent with write_all (the connection writes from one thread at a
    // time). Only if can_write_now().
    virtual std::ptrdiff_t write_now(const char* /*p*/, std::size_t /*n*/) { return 0; }
    // Ends the stream both ways: blocked reads and writes return false.
    virtual void shutdown() noexcept = 0;
    // What failed first, for logs ("" if nothing failed yet).
    virtual const char* last_error() const noexcept = 0;

    // ---- connection set-up (the distribution handshake)
    // Reads exactly bytes.size() bytes by the deadline. Throws
    // ConnectionClosed at end of stream, TimeoutError, SocketError.
    virtual void recv_exact(std::span<std::uint8_t> bytes, const Deadline& deadline) = 0;
    // Writes all of `bytes` by the deadline. Throws as recv_exact.
    virtual void send_all(std::span<const std::uint8_t> bytes, const Deadline& deadline) = 0;

    // The length prefix of the handshake's messages on this carrier, in
    // bytes: 2 over plain TCP (inet_tcp_dist switches from {packet, 2} to
    // {packet, 4} at nodeup), 4 over TLS (inet_tls_dist keeps {packet, 4}
    // from the first message). Packets after the handshake always have 4.
    virtual std::size_t handshake_length_bytes() const noexcept = 0;
    // For logs: "tcp", or "TLSv1.3 TLS_AES_256_GCM_SHA384, peer CN=...".
    virtual std::string describe() const = 0;
};

// A TCP socket; takes ownership of `fd` (closed on destruction).
std::unique_ptr<Transport> plain_transport(int fd);
// The same over an fd that stays the caller's (not closed on destruction;
// shutdown() still shuts the socket down). For handshakes over a bare fd.
std::unique_ptr<Transport> plain_transport_borrowing(int fd);

}  // namespace otpp::dist
