#include "tls_transport.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

namespace otpp::dist {

namespace {

// ---------------------------------------------------------------- OpenSSL helpers

// The calling thread's OpenSSL errors, oldest first, in words; clears them.
std::string openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        const char* reason = ERR_reason_error_string(e);
        const char* lib = ERR_lib_error_string(e);
        if (!out.empty()) out += "; ";
        if (lib) out += std::string(lib) + ": ";
        out += reason ? reason : "error " + std::to_string(ERR_GET_REASON(e));
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

std::string name_of(const X509_NAME* name) {
    if (!name) return "?";
    BIO* b = BIO_new(BIO_s_mem());
    if (!b) return "?";
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string s(data, static_cast<std::size_t>(std::max(n, 0L)));
    BIO_free(b);
    return s.empty() ? "(empty name)" : s;
}

std::string time_of(const ASN1_TIME* t) {
    if (!t) return "?";
    BIO* b = BIO_new(BIO_s_mem());
    if (!b) return "?";
    ASN1_TIME_print(b, t);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string s(data, static_cast<std::size_t>(std::max(n, 0L)));
    BIO_free(b);
    return s;
}

// Never ask a terminal for a key's password.
int no_password(char*, int, int, void*) { return -1; }

bool is_ip_literal(const std::string& host) {
    in_addr a4{};
    in6_addr a6{};
    return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// ---------------------------------------------------------------- the socket BIO
//
// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE on a
// closed connection. Ours sends with MSG_NOSIGNAL and never blocks
// (MSG_DONTWAIT, whatever the fd's mode), counts the bytes it reads (a
// call on one side that consumed bytes the other side waits for must wake
// it), and remembers errno and end of stream for the error messages.
// Used only under the transport's mutex (or by the one handshaking thread).

struct BioState {
    int fd = -1;
    std::uint64_t bytes_in = 0;
    int last_errno = 0;
    bool eof = false;
};

int bio_write(BIO* b, const char* data, int len) {
    auto* st = static_cast<BioState*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    if (len <= 0) return 0;
    ssize_t n = ::send(st->fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        BIO_set_retry_write(b);
        return -1;
    }
    st->last_errno = errno;
    return -1;
}

int bio_read(BIO* b, char* data, int len) {
    auto* st = static_cast<BioState*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    if (len <= 0) return 0;
    ssize_t n = ::recv(st->fd, data, static_cast<std::size_t>(len), MSG_DONTWAIT);
    if (n > 0) {
        st->bytes_in += static_cast<std::uint64_t>(n);
        return static_cast<int>(n);
    }
    if (n == 0) {
        st->eof = true;
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        BIO_set_retry_read(b);
        return -1;
    }
    st->last_errno = errno;
    return -1;
}

long bio_ctrl(BIO*, int cmd, long, void*) {
    switch (cmd) {
        case BIO_CTRL_FLUSH: return 1;  // nothing is buffered here
        default: return 0;
    }
}

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

int bio_destroy(BIO*) { return 1; }

const BIO_METHOD* socket_bio_method() {
    static const BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "otpp dist socket");
        if (!m || BIO_meth_set_write(m, bio_write) != 1 || BIO_meth_set_read(m, bio_read) != 1 ||
            BIO_meth_set_ctrl(m, bio_ctrl) != 1 || BIO_meth_set_create(m, bio_create) != 1 ||
            BIO_meth_set_destroy(m, bio_destroy) != 1)
            throw SocketError("cannot create the TLS socket BIO: " + openssl_errors(), ENOMEM);
        return m;
    }();
    return method;
}

// ---------------------------------------------------------------- the transport

// What the certificate check saw of a certificate it refused: OpenSSL
// keeps no peer certificate after a failed verification.
struct VerifyNote {
    std::string leaf;     // "CN=x,O=y, issued by CN=ca"
    std::string failing;  // the certificate that failed, when not the leaf
};

int verify_note_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int note_verify(int ok, X509_STORE_CTX* store) {
    if (ok) return ok;
    SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* note = ssl ? static_cast<VerifyNote*>(SSL_get_ex_data(ssl, verify_note_index())) : nullptr;
    if (!note || !note->leaf.empty()) return ok;
    auto describe = [](X509* c) {
        return c ? name_of(X509_get_subject_name(c)) + ", issued by " + name_of(X509_get_issuer_name(c)) : std::string("?");
    };
    X509* leaf = X509_STORE_CTX_get0_cert(store);
    X509* failing = X509_STORE_CTX_get_current_cert(store);
    note->leaf = describe(leaf);
    if (failing && failing != leaf) note->failing = describe(failing);
    return ok;
}

class TlsTransport final : public Transport {
public:
    TlsTransport(Socket socket, const TlsContext& context, bool initiator, const std::string& peer_host)
        : socket_(std::move(socket)), options_(context.options()), initiator_(initiator), peer_host_(peer_host) {
        bio_state_.fd = socket_.fd();
        for (int& w : wake_) {
            w = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (w < 0) {
                int e = errno;
                close_fds();
                throw SocketError(std::string("eventfd: ") + std::strerror(e), e);
            }
        }
        ERR_clear_error();
        ssl_ = SSL_new(context.native());
        BIO* bio = ssl_ ? BIO_new(socket_bio_method()) : nullptr;
        if (!bio) {
            std::string why = openssl_errors();
            if (ssl_) SSL_free(ssl_);
            ssl_ = nullptr;
            close_fds();
            throw SocketError("cannot create a TLS session: " + why, ENOMEM);
        }
        BIO_set_data(bio, &bio_state_);
        SSL_set_bio(ssl_, bio, bio);  // the session owns the BIO now
        SSL_set_ex_data(ssl_, verify_note_index(), &verify_note_);
        const TlsOptions& o = options_;
        if (initiator_) {
            SSL_set_connect_state(ssl_);
            SSL_set_verify(ssl_, o.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, note_verify);
            const bool ip = is_ip_literal(peer_host_);
            // SNI carries a DNS name only (RFC 6066), as ssl:connect sends it.
            if (!ip && !peer_host_.empty()) SSL_set_tlsext_host_name(ssl_, peer_host_.c_str());
            if (o.verify_peer && o.verify_hostname && !peer_host_.empty()) {
                int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), peer_host_.c_str())
                            : SSL_set1_host(ssl_, peer_host_.c_str());
                if (ok != 1) {
                    SSL_free(ssl_);
                    ssl_ = nullptr;
                    close_fds();
                    throw TlsSessionError(TlsFailure::protocol,
                                          "cannot check certificates against host '" + peer_host_ + "'");
                }
            }
        } else {
            SSL_set_accept_state(ssl_);
            int mode = SSL_VERIFY_NONE;
            if (o.verify_peer) mode = SSL_VERIFY_PEER | (o.fail_if_no_peer_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
            SSL_set_verify(ssl_, mode, note_verify);
        }
    }

    ~TlsTransport() override {
        if (ssl_) SSL_free(ssl_);
        close_fds();
    }

    TlsTransport(const TlsTransport&) = delete;
    TlsTransport& operator=(const TlsTransport&) = delete;

    // The TLS handshake (one thread; before the transport is shared).
    void handshake(const Deadline& deadline) {
        drive(Side::reader, [this] { return SSL_do_handshake(ssl_); }, deadline, "during the TLS handshake");
        handshake_done_ = true;
        const TlsOptions& o = options_;
        X509* peer = SSL_get1_peer_certificate(ssl_);
        std::string peer_subject = peer ? name_of(X509_get_subject_name(peer)) : "";
        if (peer) X509_free(peer);
        // Belt and braces: OpenSSL already ended the handshake if these fail.
        if (o.verify_peer) {
            long v = SSL_get_verify_result(ssl_);
            if (v != X509_V_OK)
                throw TlsSessionError(TlsFailure::untrusted_peer,
                                      std::string("its certificate is not trusted: ") + X509_verify_cert_error_string(v));
            if (!peer && (initiator_ || o.fail_if_no_peer_cert))
                throw TlsSessionError(TlsFailure::untrusted_peer, "it presented no certificate");
        }
        description_ = std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_) +
                       (peer_subject.empty() ? std::string(", no peer certificate") : ", peer " + peer_subject);
    }

    // ---- after the handshake

    bool read_exact(char* p, std::size_t n) override {
        try {
            recv_exact({reinterpret_cast<std::uint8_t*>(p), n}, Deadline::never());
            return true;
        } catch (const std::exception& e) {
            note_error(e.what());
            return false;
        }
    }

    bool write_all(const char* p, std::size_t n) override {
        try {
            send_all({reinterpret_cast<const std::uint8_t*>(p), n}, Deadline::never());
            return true;
        } catch (const std::exception& e) {
            note_error(e.what());
            return false;
        }
    }

    void shutdown() noexcept override {
        if (!closed_.exchange(true)) {
            try {
                std::lock_guard lock(mutex_);
                // Tell the peer (close_notify) unless a record is half
                // written: best effort, never waits.
                if (handshake_done_ && !write_pending_) {
                    ERR_clear_error();
                    SSL_shutdown(ssl_);
                    ERR_clear_error();
                }
            } catch (...) {
            }
        }
        ::shutdown(socket_.fd(), SHUT_RDWR);  // poll() on the socket returns, on both sides
        for (int w : wake_) signal(w);
    }

    const char* last_error() const noexcept override {
        return has_error_.load(std::memory_order_acquire) ? first_error_.c_str() : "";
    }

    // ---- set-up

    void recv_exact(std::span<std::uint8_t> bytes, const Deadline& deadline) override {
        std::size_t done = 0;
        while (done < bytes.size()) {
            int chunk = static_cast<int>(std::min<std::size_t>(bytes.size() - done, INT_MAX));
            std::uint8_t* at = bytes.data() + done;
            int n = drive(Side::reader, [&] { return SSL_read(ssl_, at, chunk); }, deadline, "reading");
            done += static_cast<std::size_t>(n);
        }
    }

    void send_all(std::span<const std::uint8_t> bytes, const Deadline& deadline) override {
        std::size_t done = 0;
        while (done < bytes.size()) {
            int chunk = static_cast<int>(std::min<std::size_t>(bytes.size() - done, INT_MAX));
            const std::uint8_t* at = bytes.data() + done;
            int n = drive(Side::writer, [&] { return SSL_write(ssl_, at, chunk); }, deadline, "writing");
            done += static_cast<std::size_t>(n);
        }
    }

    std::size_t handshake_length_bytes() const noexcept override { return 4; }
    std::string describe() const override { return description_; }

private:
    enum class Side { reader = 0, writer = 1 };

    // Runs `op` (one OpenSSL call on the session) under mutex_ until it
    // succeeds and returns its result (> 0). In between it waits, without
    // the mutex, for what OpenSSL asked (readable or writable socket) or for
    // the other side's wake-up. Throws when the deadline passes, the peer
    // closes, the session fails, or shutdown() was called.
    template <class Op>
    int drive(Side side, Op&& op, const Deadline& deadline, const char* what) {
        for (;;) {
            if (closed_.load(std::memory_order_acquire))
                throw ConnectionClosed("the connection was shut down (locally)");
            int rc = 0, err = SSL_ERROR_NONE;
            std::unique_lock lock(mutex_);
            ERR_clear_error();
            const std::uint64_t before = bio_state_.bytes_in;
            rc = op();
            if (rc <= 0) err = SSL_get_error(ssl_, rc);
            const bool consumed = bio_state_.bytes_in != before;
            if (side == Side::writer) {
                writer_wants_read_ = err == SSL_ERROR_WANT_READ;
                write_pending_ = err == SSL_ERROR_WANT_WRITE;
            }
            // Bytes we took from the socket may be what the other side waits
            // for (TLS 1.2 renegotiation, where a write must read): wake it.
            if (consumed) {
                if (side == Side::writer) signal(wake_[static_cast<int>(Side::reader)]);
                else if (writer_wants_read_) signal(wake_[static_cast<int>(Side::writer)]);
            }
            if (rc > 0) return rc;
            switch (err) {
                case SSL_ERROR_WANT_READ:
                    lock.unlock();
                    wait(side, POLLIN, deadline, what);
                    continue;
                case SSL_ERROR_WANT_WRITE:
                    lock.unlock();
                    wait(side, POLLOUT, deadline, what);
                    continue;
                default:
                    fail(err, what);  // under the lock: reads this thread's error queue and the session
            }
        }
    }

    void wait(Side side, short events, const Deadline& deadline, const char* what) {
        pollfd fds[2] = {{socket_.fd(), events, 0}, {wake_[static_cast<int>(side)], POLLIN, 0}};
        for (;;) {
            if (closed_.load(std::memory_order_acquire)) return;  // drive() reports it
            int n = ::poll(fds, 2, deadline.poll_timeout_ms());
            if (n < 0) {
                if (errno == EINTR) continue;
                throw SocketError(std::string("poll: ") + std::strerror(errno), errno);
            }
            if (n == 0) {
                if (deadline.expired())
                    throw TimeoutError(std::string("TLS timed out ") + what +
                                       (handshake_done_ ? "" : " (no complete answer from the peer)"));
                continue;
            }
            if (fds[1].revents) {
                std::uint64_t v;
                while (::read(fds[1].fd, &v, sizeof v) > 0) {
                }
            }
            return;
        }
    }

    // Throws what an OpenSSL failure means, in words. Called under mutex_
    // by the thread whose call failed (OpenSSL's error queue is per thread).
    [[noreturn]] void fail(int err, const char* what) {
        const unsigned long code = ERR_peek_error();
        const int lib = ERR_GET_LIB(code);
        const int reason = ERR_GET_REASON(code);
        std::string detail = code ? openssl_errors() : std::string();
        const std::string at = std::string(" ") + what;
        const TlsOptions& o = options_;

        if (err == SSL_ERROR_ZERO_RETURN)
            throw ConnectionClosed("the peer ended the TLS session (close_notify)");
        if (err == SSL_ERROR_SYSCALL && bio_state_.last_errno != 0) {
            int e = bio_state_.last_errno;
            // A peer that refuses us after a TLS 1.3 handshake sends an
            // alert and closes; our next write meets the reset before
            // anyone read the alert. Look for it (nothing is consumed).
            if ((e == EPIPE || e == ECONNRESET) && handshake_done_ && !probing_) {
                probing_ = true;
                bio_state_.last_errno = 0;
                ERR_clear_error();
                char c;
                int r = SSL_peek(ssl_, &c, 1);
                int perr = r > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
                const unsigned long pcode = ERR_peek_error();
                const int preason = ERR_GET_REASON(pcode);
                if (perr == SSL_ERROR_SSL && ERR_GET_LIB(pcode) == ERR_LIB_SSL && preason >= SSL_AD_REASON_OFFSET &&
                    preason < SSL_AD_REASON_OFFSET + 256)
                    fail(perr, what);  // reports the alert
                ERR_clear_error();
                bio_state_.last_errno = e;
            }
            std::string m = std::string("socket error") + at + ": " + std::strerror(e);
            if (e == EPIPE || e == ECONNRESET) {
                if (!handshake_done_)
                    throw TlsSessionError(TlsFailure::closed,
                                          "the peer reset the connection during the TLS handshake" + closed_hint());
                throw ConnectionClosed(m, e);
            }
            throw SocketError(m, e);
        }
        // A fatal alert from the peer: OpenSSL's reasons for received alerts
        // are SSL_AD_REASON_OFFSET + the alert's code.
        if (lib == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
            const int alert = reason - SSL_AD_REASON_OFFSET;
            std::string m = "the peer refused the TLS session" + at + " (alert: " + detail + ")";
            if (alert == SSL_AD_UNKNOWN_CA || alert == SSL_AD_BAD_CERTIFICATE || alert == SSL_AD_CERTIFICATE_UNKNOWN ||
                alert == SSL_AD_CERTIFICATE_EXPIRED || alert == SSL_AD_UNSUPPORTED_CERTIFICATE ||
                alert == SSL_AD_CERTIFICATE_REVOKED || alert == SSL_AD_ACCESS_DENIED || alert == SSL_AD_DECRYPT_ERROR)
                m += ": it does not accept our certificate (is it signed by a CA in the peer's cacertfile?)";
            else if (alert == SSL_AD_CERTIFICATE_REQUIRED || alert == SSL_AD_HANDSHAKE_FAILURE)
                m += ": it requires a certificate we did not send, or shares no protocol version or cipher with us";
            throw TlsSessionError(TlsFailure::refused_by_peer, m);
        }
        // Our own verification of the peer's certificate.
        const long v = ssl_ ? SSL_get_verify_result(ssl_) : X509_V_OK;
        if ((lib == ERR_LIB_SSL && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) || (!handshake_done_ && v != X509_V_OK)) {
            std::string who;
            if (!verify_note_.leaf.empty()) {
                who = " (" + verify_note_.leaf + ")";
                if (!verify_note_.failing.empty()) who += " [at " + verify_note_.failing + "]";
            }
            std::string m;
            if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
                m = "its certificate" + who + " does not name host '" + peer_host_ +
                    "' (the host part of its node name), which verify_hostname requires";
            } else {
                m = "its certificate" + who + " is not trusted: " + X509_verify_cert_error_string(v);
                if (v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                    v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                    v == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE || v == X509_V_ERR_CERT_SIGNATURE_FAILURE)
                    m += " (not signed by a CA in cacertfile " + o.cacertfile.string() + ")";
            }
            throw TlsSessionError(TlsFailure::untrusted_peer, m);
        }
        if (lib == ERR_LIB_SSL && reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
            throw TlsSessionError(TlsFailure::untrusted_peer,
                                  "it presented no certificate, and fail_if_no_peer_cert requires one");
        if (bio_state_.eof || (lib == ERR_LIB_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
            if (!handshake_done_)
                throw TlsSessionError(TlsFailure::closed,
                                      "the peer closed the connection during the TLS handshake" + closed_hint());
            throw ConnectionClosed("the peer closed the connection (without a TLS close_notify)");
        }
        if (lib == ERR_LIB_SSL && (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
                                   reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_RECORD_LENGTH_MISMATCH))
            throw TlsSessionError(TlsFailure::not_tls,
                                  "the peer does not speak TLS" + at + " (" + detail +
                                      "): a node without -proto_dist inet_tls?");
        if (err == SSL_ERROR_SYSCALL)
            throw TlsSessionError(TlsFailure::protocol, "TLS failed" + at + (detail.empty() ? "" : ": " + detail));
        throw TlsSessionError(TlsFailure::protocol, "TLS failed" + at + ": " + (detail.empty() ? "?" : detail));
    }

    std::string closed_hint() const {
        return initiator_ ? " (it may not trust our certificate, or not run TLS distribution)"
                          : " (it may not trust our certificate)";
    }

    void note_error(const char* what) {
        std::lock_guard lock(error_mutex_);
        if (has_error_.load(std::memory_order_relaxed)) return;  // the first failure is the one worth reporting
        first_error_ = what;
        has_error_.store(true, std::memory_order_release);
    }

    static void signal(int fd) noexcept {
        if (fd < 0) return;
        std::uint64_t one = 1;
        ssize_t r = ::write(fd, &one, sizeof one);
        (void)r;  // EAGAIN: the counter is already non-zero, which is all we need
    }

    void close_fds() noexcept {
        for (int& w : wake_) {
            if (w >= 0) ::close(w);
            w = -1;
        }
    }

    Socket socket_;
    const TlsOptions options_;  // a copy: the session holds a reference to the SSL_CTX, not to the TlsContext
    const bool initiator_;
    const std::string peer_host_;
    SSL* ssl_ = nullptr;
    VerifyNote verify_note_;        // written during the TLS handshake
    BioState bio_state_;            // mutex_
    int wake_[2] = {-1, -1};        // eventfds: the reader's, the writer's
    std::mutex mutex_;              // around every call on ssl_; never held while waiting
    std::atomic<bool> closed_{false};
    bool writer_wants_read_ = false;  // mutex_: the writer's last call wants the socket readable
    bool write_pending_ = false;      // mutex_: the writer's last call left a record half written
    bool handshake_done_ = false;     // set before the transport is shared
    bool probing_ = false;            // mutex_: looking for an alert after a reset
    std::string description_;         // set by handshake(), then immutable

    std::mutex error_mutex_;
    std::string first_error_;  // written once, before has_error_
    std::atomic<bool> has_error_{false};
};

// The peer's first byte, without consuming it: a TLS connection starts with
// a handshake record (content type 22). Throws if it closes first.
void expect_tls_record(int fd, const Deadline& deadline) {
    if (!wait_readable(fd, deadline))
        throw TimeoutError("TLS timed out waiting for the peer's ClientHello");
    std::uint8_t first = 0;
    ssize_t n;
    do {
        n = ::recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == 0) throw TlsSessionError(TlsFailure::closed, "the peer closed the connection before its TLS ClientHello");
    if (n < 0) {
        if (errno == ECONNRESET) throw TlsSessionError(TlsFailure::closed, "the peer reset the connection before its TLS ClientHello");
        throw SocketError(std::string("recv: ") + std::strerror(errno), errno);
    }
    if (first != 22) {
        static constexpr char hex[] = "0123456789abcdef";
        std::string byte = std::string("0x") + hex[first >> 4] + hex[first & 0xf];
        throw TlsSessionError(TlsFailure::not_tls,
                              "the peer does not speak TLS: its first byte is " + byte +
                                  ", not a TLS handshake record (0x16); a plain distribution node (no -proto_dist "
                                  "inet_tls) cannot join a TLS cluster");
    }
}

}  // namespace

const char* to_string(TlsFailure failure) noexcept {
    switch (failure) {
        case TlsFailure::untrusted_peer: return "untrusted_peer";
        case TlsFailure::refused_by_peer: return "refused_by_peer";
        case TlsFailure::not_tls: return "not_tls";
        case TlsFailure::closed: return "closed";
        case TlsFailure::protocol: return "protocol";
    }
    return "?";
}

TlsSessionError::TlsSessionError(TlsFailure failure, std::string what)
    : SocketError(std::move(what), EPROTO), failure_(failure) {}

namespace {

// A file we must read: exists, is a regular file, can be opened.
void check_readable(const char* key, const std::filesystem::path& path) {
    std::error_code ec;
    auto st = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(st))
        throw TlsConfigError(std::string("TLS ") + key + " " + path.string() + ": no such file");
    if (!std::filesystem::is_regular_file(st))
        throw TlsConfigError(std::string("TLS ") + key + " " + path.string() + ": not a regular file");
    std::ifstream in(path);
    if (!in) throw TlsConfigError(std::string("TLS ") + key + " " + path.string() + ": cannot read it: " + std::strerror(errno));
}

}  // namespace

TlsContext::TlsContext(TlsOptions options) : options_(std::move(options)) {
    const TlsOptions& o = options_;
    if (o.certfile.empty()) throw TlsConfigError("TLS distribution needs a certfile (this node's certificate)");
    const std::filesystem::path keyfile = o.keyfile.empty() ? o.certfile : o.keyfile;
    if (o.verify_peer && o.cacertfile.empty())
        throw TlsConfigError("TLS distribution with verify_peer needs a cacertfile (the CAs that sign peers' certificates)");
    check_readable("certfile", o.certfile);
    if (!o.keyfile.empty()) check_readable("keyfile", o.keyfile);
    if (!o.cacertfile.empty()) check_readable("cacertfile", o.cacertfile);

    ERR_clear_error();
    ctx_ = SSL_CTX_new(TLS_method());
    if (!ctx_) throw TlsConfigError("cannot create a TLS context: " + openssl_errors());
    try {
        SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
        SSL_CTX_set_default_passwd_cb(ctx_, no_password);
        // No compression; no session resumption (a distribution connection
        // lives long and is made rarely); renegotiation requested by an erl
        // initiator is allowed: OTP's TLS 1.2 connections renegotiate by
        // themselves after many records (ssl's renegotiate_at).
        SSL_CTX_set_options(ctx_, SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET | SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
        SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx_, 0);
        SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

        if (SSL_CTX_use_certificate_chain_file(ctx_, o.certfile.c_str()) != 1)
            throw TlsConfigError("TLS certfile " + o.certfile.string() +
                                 ": no usable PEM certificate in it (" + openssl_errors() + ")");
        EVP_PKEY* key = nullptr;
        if (BIO* in = BIO_new_file(keyfile.c_str(), "r")) {
            key = PEM_read_bio_PrivateKey(in, nullptr, no_password, nullptr);
            BIO_free(in);
        }
        if (!key) {
            std::string why = openssl_errors();
            std::ifstream in(keyfile);
            std::stringstream text;
            text << in.rdbuf();
            if (text.str().find("ENCRYPTED") != std::string::npos)
                throw TlsConfigError("TLS keyfile " + keyfile.string() +
                                     ": its private key is password-protected, which is not supported (store it "
                                     "unencrypted, readable by this user only)");
            throw TlsConfigError("TLS keyfile " + keyfile.string() + ": no usable PEM private key in it (" + why + ")");
        }
        const bool matches = SSL_CTX_use_PrivateKey(ctx_, key) == 1 && SSL_CTX_check_private_key(ctx_) == 1;
        EVP_PKEY_free(key);
        if (!matches) {
            ERR_clear_error();
            throw TlsConfigError("TLS keyfile " + keyfile.string() + ": its private key does not match the certificate in certfile " +
                                 o.certfile.string());
        }
        X509* cert = SSL_CTX_get0_certificate(ctx_);
        if (!cert) throw TlsConfigError("TLS certfile " + o.certfile.string() + ": no certificate in it");
        if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
            throw TlsConfigError("TLS certfile " + o.certfile.string() + ": the certificate expired on " +
                                 time_of(X509_get0_notAfter(cert)));
        if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
            throw TlsConfigError("TLS certfile " + o.certfile.string() + ": the certificate is not valid before " +
                                 time_of(X509_get0_notBefore(cert)));
        if (!o.cacertfile.empty()) {
            if (SSL_CTX_load_verify_locations(ctx_, o.cacertfile.c_str(), nullptr) != 1)
                throw TlsConfigError("TLS cacertfile " + o.cacertfile.string() +
                                     ": no usable PEM CA certificate in it (" + openssl_errors() + ")");
            // The CAs an acceptor names when it asks for the initiator's certificate.
            if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.cacertfile.c_str()))
                SSL_CTX_set_client_CA_list(ctx_, names);
            ERR_clear_error();
        }
        description_ = "certificate " + name_of(X509_get_subject_name(cert)) + " (expires " +
                       time_of(X509_get0_notAfter(cert)) + ")" +
                       (o.cacertfile.empty() ? std::string() : ", CAs from " + o.cacertfile.string()) +
                       (o.verify_peer ? ", verify_peer" : ", verify_none");
    } catch (...) {
        SSL_CTX_free(ctx_);
        ctx_ = nullptr;
        throw;
    }
}

TlsContext::~TlsContext() {
    if (ctx_) SSL_CTX_free(ctx_);
}

std::unique_ptr<Transport> tls_connect(Socket socket, const TlsContext& context, const std::string& peer_host,
                                       const Deadline& deadline) {
    auto t = std::make_unique<TlsTransport>(std::move(socket), context, true, peer_host);
    t->handshake(deadline);
    return t;
}

std::unique_ptr<Transport> tls_accept(Socket socket, const TlsContext& context, const Deadline& deadline) {
    expect_tls_record(socket.fd(), deadline);
    auto t = std::make_unique<TlsTransport>(std::move(socket), context, false, std::string());
    t->handshake(deadline);
    return t;
}

}  // namespace otpp::dist
