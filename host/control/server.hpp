// The host's control endpoint: a Unix socket serving the commands of
// commands.hpp to otppctl (docs/CONSOLE.md).
//
// Threads: one accept thread, and one thread per connection (at most
// max_clients; one more is told "too many connections" and closed). A
// request runs in a ScopedProcess of its connection's thread, so a command
// that blocks (a call with a long timeout, an upgrade) holds only its own
// client. Nothing a client does can block or crash the host: every read and
// write has a deadline, a frame larger than 1 MiB is refused, a request that
// does not parse gets an error reply, and a peer with another uid (not root)
// is refused before anything is read.
//
// stop() closes the listener, wakes every connection thread, kills the
// processes of requests still waiting (a call, a kill waiting for DOWN), lets
// code-server commands (load, upgrade, purge) finish, and joins every thread.
#pragma once

#include "commands.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace otpp::control {

struct ServerOptions {
    std::filesystem::path socket_path;
    std::size_t max_clients = 16;
    // A connection with no request for this long is closed (otppctl console
    // reconnects transparently).
    std::chrono::milliseconds idle_timeout = std::chrono::minutes(10);
    // A started frame must arrive, and a reply be taken, within this.
    std::chrono::milliseconds frame_timeout = std::chrono::seconds(5);
};

class ControlServer {
public:
    // Listens at once (endpoint.hpp's rules); throws otpp::Error.
    ControlServer(ServerOptions options, ControlContext context);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Idempotent; removes the socket file.
    void stop();
    const std::filesystem::path& socket_path() const noexcept { return options_.socket_path; }

private:
    struct Client;
    void accept_loop();
    void serve(Client& client);
    Term run_request(Client& client, const std::string& body);
    void refuse(int fd, const char* why);
    void reap(bool all);

    ServerOptions options_;
    ControlContext context_;
    int listen_fd_ = -1;
    int wake_fd_ = -1;  // eventfd: readable once stopping
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    std::mutex clients_mutex_;
    std::list<std::unique_ptr<Client>> clients_;
};

}  // namespace otpp::control
