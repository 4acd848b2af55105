#include "server.hpp"
#include "../runtime/thread_name.hpp"

#include "endpoint.hpp"
#include "frame.hpp"

#include <otpp/error.hpp>
#include <otpp/process.hpp>
#include <otpp/scoped_process.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace otpp::control {

struct ControlServer::Client {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> finished{false};
    std::mutex mutex;            // guards the two below
    std::optional<Pid> process;  // the request's ScopedProcess while one runs
    bool interruptible = false;  // may stop() kill it?
};

namespace {

Term error_term(std::string_view message) { return Term::tuple({atoms::error, Term::binary(message)}); }

// Commands that change the code server: interrupting them half-way would
// leave a module half-upgraded, so stop() waits for them (they have their own
// timeouts).
bool interruptible(const Term& request) {
    if (!request.is_tuple() || request.size() == 0 || !request[0].is_atom()) return true;
    std::string_view name = request[0].get<Atom>().name();
    return !(name == "load" || name == "upgrade" || name == "upgrade_plan" || name == "purge" ||
             name == "soft_purge");
}

}  // namespace

ControlServer::ControlServer(ServerOptions options, ControlContext context)
    : options_(std::move(options)), context_(std::move(context)) {
    intern_protocol_atoms();
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw Error(std::string("control: eventfd: ") + std::strerror(errno));
    try {
        listen_fd_ = listen_at(options_.socket_path);
    } catch (...) {
        ::close(wake_fd_);
        throw;
    }
    acceptor_ = std::thread([this] { accept_loop(); });
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() {
    if (stopping_.exchange(true)) {
        if (acceptor_.joinable()) acceptor_.join();
        return;
    }
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    ::unlink(options_.socket_path.c_str());
    {
        std::lock_guard lock(clients_mutex_);
        for (auto& c : clients_) {
            std::lock_guard cl(c->mutex);
            if (c->process && c->interruptible) otpp::exit(*c->process, atoms::kill);
        }
    }
    reap(true);
    ::close(wake_fd_);
}

void ControlServer::reap(bool all) {
    std::list<std::unique_ptr<Client>> done;
    {
        std::lock_guard lock(clients_mutex_);
        for (auto it = clients_.begin(); it != clients_.end();) {
            if (all || (*it)->finished.load()) {
                done.push_back(std::move(*it));
                it = clients_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& c : done) c->thread.join();  // closes nothing: serve() closed its fd
}

void ControlServer::refuse(int fd, const char* why) {
    // Best effort, briefly: a refused client gets a reason, not a hang.
    (void)write_frame(fd, error_term(why).to_string(), std::chrono::milliseconds(100), wake_fd_);
    ::close(fd);
}

void ControlServer::accept_loop() {
    runtime::name_this_thread("otpp-ctl-accept");
    while (!stopping_.load()) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        int n = ::poll(fds, 2, 1000);  // wakes now and then to reap finished clients
        if (stopping_.load() || (fds[1].revents & POLLIN)) break;
        reap(false);
        if (n <= 0 || !(fds[0].revents & POLLIN)) continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                spdlog::warn("control: accept: {}", std::strerror(errno));
                pollfd w{wake_fd_, POLLIN, 0};
                ::poll(&w, 1, 100);  // no busy loop while out of descriptors
            }
            continue;
        }
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
            (cred.uid != ::geteuid() && cred.uid != 0)) {
            spdlog::warn("control: refused a connection from uid {} pid {}", cred.uid, cred.pid);
            refuse(fd, "permission denied: the control socket serves only its owner and root");
            continue;
        }
        std::lock_guard lock(clients_mutex_);
        if (clients_.size() >= options_.max_clients) {
            refuse(fd, "too many connections");
            continue;
        }
        auto c = std::make_unique<Client>();
        c->fd = fd;
        Client& ref = *c;
        try {
            c->thread = std::thread([this, &ref] { serve(ref); });
        } catch (const std::system_error&) {
            refuse(fd, "cannot start a thread for this connection");
            continue;
        }
        clients_.push_back(std::move(c));
    }
}

Term ControlServer::run_request(Client& client, const std::string& body) {
    Term request;
    try {
        // Only atoms the node knows: a client must not fill the atom table.
        request = Term::parse_existing_atoms(body);
    } catch (const Error& e) {
        return error_term(std::string("malformed request: ") + e.what());
    }
    try {
        ScopedProcess me;
        {
            std::lock_guard lock(client.mutex);
            if (stopping_.load()) return error_term("the host is stopping");
            client.process = me.pid();
            client.interruptible = interruptible(request);
        }
        struct Clear {
            Client& c;
            ~Clear() {
                std::lock_guard lock(c.mutex);
                c.process.reset();
            }
        } clear{client};
        return handle_request(request, context_);
    } catch (const ProcessExit& e) {
        return error_term("interrupted: " + e.reason().to_string(500));
    } catch (const std::exception& e) {
        return error_term(std::string("internal error: ") + e.what());
    }
}

void ControlServer::serve(Client& client) {
    runtime::name_this_thread("otpp-ctl-client");
    std::string body;
    while (!stopping_.load()) {
        auto first = Clock::now() + options_.idle_timeout;
        FrameStatus st = read_frame(client.fd, body, first, options_.frame_timeout, wake_fd_);
        if (st == FrameStatus::too_large) {
            // The rest of the stream cannot be trusted to be frames: answer, then close.
            (void)write_frame(client.fd, error_term("frame larger than 1 MiB").to_string(), options_.frame_timeout,
                              wake_fd_);
            break;
        }
        if (st != FrameStatus::ok) break;  // closed, idle, half a frame, stopping, error
        std::string out;
        try {
            out = run_request(client, body).to_string();
        } catch (const std::exception& e) {  // e.g. bad_alloc printing a huge reply
            out = error_term(std::string("internal error: ") + e.what()).to_string();
        }
        if (out.size() > max_reply_bytes)
            out = error_term("the reply is larger than 64 MiB (" + std::to_string(out.size()) + " bytes)").to_string();
        if (write_frame(client.fd, out, options_.frame_timeout, wake_fd_, max_reply_bytes) != FrameStatus::ok) break;
    }
    ::close(client.fd);
    client.finished.store(true);
}

}  // namespace otpp::control
