// The byte stream under a connection after its handshake: plain TCP, or TLS
// (inet_tls_dist) over it.
//
// Thread safety: one thread may read while another writes (a connection's
// reader and writer); shutdown() may be called from any thread and makes
// both return false. Reads and writes block until done or the stream fails.
#pragma once

#include <cstddef>
#include <memory>

namespace otpp::dist {

class Transport {
public:
    virtual ~Transport() = default;
    // Reads exactly n bytes; false at end of stream or on an error.
    virtual bool read_exact(char* p, std::size_t n) = 0;
    // Writes all n bytes; false on an error.
    virtual bool write_all(const char* p, std::size_t n) = 0;
    // Ends the stream both ways: blocked reads and writes return false.
    virtual void shutdown() noexcept = 0;
    // What failed last, for logs ("" if nothing).
    virtual const char* last_error() const noexcept = 0;
};

// A TCP socket; takes ownership of `fd` (closed on destruction).
std::unique_ptr<Transport> plain_transport(int fd);

}  // namespace otpp::dist
