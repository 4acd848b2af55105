// otppctl's connection to a host's control socket (docs/CONSOLE.md).
#pragma once

#include <otpp/term.hpp>

#include <chrono>
#include <filesystem>
#include <string>

namespace otppctl {

// Exit codes (documented in docs/CONSOLE.md; scripts rely on them).
enum ExitCode : int {
    exit_ok = 0,
    exit_failed = 1,         // the host answered with an error, or the operation did not complete
    exit_usage = 2,          // bad command line or term syntax; nothing was sent
    exit_cannot_connect = 3, // no socket, nobody listening, or the host refused the connection
    exit_protocol = 4,       // connected, but the connection broke or the reply was not understood
};

struct Reply {
    // refused: could not connect, or the host refused the connection.
    enum Kind { ok, error, broken, refused } kind = broken;
    otpp::Term value;    // ok: the result
    std::string message; // error: the host's message; broken: what went wrong
};

class Connection {
public:
    Connection() = default;
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Connects and says hello; false with `error` set if the socket cannot be
    // reached or the host refuses the connection (permission, too many clients).
    bool open(const std::filesystem::path& socket, std::string& error);
    bool is_open() const noexcept { return fd_ >= 0; }
    // False if the host closed the connection (e.g. after its idle timeout).
    bool alive() const noexcept;
    // The `hello` reply: #{node, protocol, os_pid, commands}.
    const otpp::Term& hello() const noexcept { return hello_; }
    void close();
    // Where request() connects when not connected (lazily: a usage error
    // found before the first request never touches the socket).
    void set_socket(std::filesystem::path socket) { socket_ = std::move(socket); }
    // Sends {Command, Args} and waits at most `wait` for the reply.
    Reply request(const otpp::Term& request, std::chrono::milliseconds wait);

private:
    int fd_ = -1;
    std::filesystem::path socket_;
    otpp::Term hello_;
};

}  // namespace otppctl
