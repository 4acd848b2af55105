#include "client.hpp"

#include <endpoint.hpp>
#include <frame.hpp>

#include <otpp/error.hpp>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <unistd.h>

namespace otppctl {

using namespace otpp;

Connection::~Connection() { close(); }

void Connection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool Connection::open(const std::filesystem::path& socket, std::string& error) {
    close();
    fd_ = control::connect_to(socket);
    if (fd_ < 0) {
        error = "cannot connect to " + socket.string() + ": " + std::strerror(errno);
        if (errno == ENOENT || errno == ECONNREFUSED) error += " (is the host running?)";
        return false;
    }
    Reply hi = request(Term::tuple({Atom("hello"), Term()}), std::chrono::seconds(10));
    if (hi.kind != Reply::ok) {
        error = socket.string() + ": " + (hi.message.empty() ? "refused" : hi.message);
        close();
        return false;
    }
    hello_ = hi.value;
    return true;
}

bool Connection::alive() const noexcept {
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) < 0) return true;
    // Between requests the host never sends anything: readable means closed.
    return (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) == 0;
}

Reply Connection::request(const Term& req, std::chrono::milliseconds wait) {
    Reply r;
    if (fd_ < 0) {
        r.kind = Reply::refused;
        if (socket_.empty()) {
            r.message = "not connected";
            return r;
        }
        if (!open(socket_, r.message)) return r;
        r.kind = Reply::broken;
    }
    auto st = control::write_frame(fd_, req.to_string(), std::chrono::seconds(10));
    if (st != control::FrameStatus::ok) {
        r.message = std::string("cannot send the request: ") + control::to_string(st);
        close();
        return r;
    }
    std::string body;
    st = control::read_frame(fd_, body, control::Clock::now() + wait, std::chrono::seconds(30), -1,
                             control::max_reply_bytes);
    if (st != control::FrameStatus::ok) {
        r.message = std::string("no reply: ") +
                    (st == control::FrameStatus::idle ? "timed out" : control::to_string(st));
        close();
        return r;
    }
    Term reply;
    try {
        reply = Term::parse(body);
    } catch (const Error& e) {
        r.message = std::string("unreadable reply: ") + e.what();
        close();
        return r;
    }
    if (reply.is_tuple(2) && reply[0].is_atom(atoms::ok)) {
        r.kind = Reply::ok;
        r.value = reply[1];
    } else if (reply.is_tuple(2) && reply[0].is_atom(atoms::error)) {
        r.kind = Reply::error;
        r.message = reply[1].is_binary() ? std::string(reply[1].bytes()) : reply[1].to_string();
        r.value = reply[1];
    } else {
        r.message = "unexpected reply: " + reply.to_string(200);
        close();
    }
    return r;
}

}  // namespace otppctl
