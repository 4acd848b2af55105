#include "transport.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace otpp::dist {

namespace {

class PlainTransport final : public Transport {
public:
    explicit PlainTransport(int fd) : fd_(fd) {}
    ~PlainTransport() override { ::close(fd_); }

    bool read_exact(char* p, std::size_t n) override {
        while (n > 0) {
            ssize_t r = ::read(fd_, p, n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return fail(r == 0 ? 0 : errno);
            p += r;
            n -= static_cast<std::size_t>(r);
        }
        return true;
    }

    bool write_all(const char* p, std::size_t n) override {
        while (n > 0) {
            ssize_t r = ::send(fd_, p, n, MSG_NOSIGNAL);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return fail(errno);
            p += r;
            n -= static_cast<std::size_t>(r);
        }
        return true;
    }

    void shutdown() noexcept override { ::shutdown(fd_, SHUT_RDWR); }

    const char* last_error() const noexcept override {
        int e = errno_.load(std::memory_order_relaxed);
        return e == 0 ? "end of stream" : std::strerror(e);
    }

private:
    bool fail(int e) {
        errno_.store(e, std::memory_order_relaxed);
        return false;
    }
    int fd_;
    std::atomic<int> errno_{0};
};

}  // namespace

std::unique_ptr<Transport> plain_transport(int fd) { return std::make_unique<PlainTransport>(fd); }

}  // namespace otpp::dist
