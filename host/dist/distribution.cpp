#include "distribution.hpp"
#include "../runtime/thread_name.hpp"

#include "cookie.hpp"
#include "epmd_client.hpp"
#include "flags.hpp"
#include "handshake.hpp"
#include "node_name.hpp"

#include "../code/code_agent.hpp"
#include "../runtime/current.hpp"
#include "../runtime/kernel.hpp"
#include "../runtime/process.hpp"

#include <otpp/process.hpp>
#include <otpp/rpc.hpp>

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <future>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace otpp::dist {

namespace {

using runtime::Signal;
using runtime::SignalKind;

const Atom nodeup_atom("nodeup"), nodedown_atom("nodedown");
const Atom gen_call_atom("$gen_call"), is_auth_atom("is_auth"), yes_atom("yes");
const Atom net_kernel_atom("net_kernel"), stop_atom("$stop");

// The host part of name@host.
std::string host_of(Atom node) {
    std::string_view n = node.name();
    auto at = n.find('@');
    return at == std::string_view::npos ? std::string() : std::string(n.substr(at + 1));
}

// A link or monitor for a node that cannot be reached fires at once.
void answer_unreachable(runtime::Kernel& kernel, Pid to, Signal* s, Atom reason) {
    std::unique_ptr<Signal> owned(s);
    if (s->kind == SignalKind::Link)
        kernel.send_signal(s->from, new Signal(SignalKind::LinkExit, to, reason));
    else if (s->kind == SignalKind::Monitor)
        kernel.send_signal(s->from, new Signal(SignalKind::Down, to, reason, s->ref));
}

void set_nodelay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

// Signals and waiters for a node being connected to.
struct Distribution::Pending {
    std::vector<std::pair<Pid, Signal*>> signals;
    std::vector<std::tuple<Pid, Atom, Term>> named;  // from, name, message
    // connect() callers: a thread waits on its promise, a process for a
    // message {'$connected', Node, Bool} (it must not hold its scheduler).
    struct Waiter {
        std::shared_ptr<std::promise<bool>> promise;
        Pid process;
    };
    std::vector<Waiter> waiters;

    void answer(Atom node, bool connected) {
        for (auto& w : waiters) {
            if (w.promise) w.promise->set_value(connected);
            else otpp::send(w.process, Term::tuple({Atom("$connected"), node, connected}));
        }
    }
};

Distribution::Distribution(runtime::Kernel& kernel, DistributionOptions options)
    : kernel_(kernel), options_(std::move(options)) {}

Distribution::~Distribution() { stop(); }

// What we advertise: the handshake's default set, plus the newer control
// messages connection.cpp speaks (SEND_SENDER, PAYLOAD_EXIT*) and the
// distribution header's atom cache (receiving side; without it a BEAM sends
// no fragments and accepts none: big messages would hold up small ones).
// Remote spawn serves erpc (rpc:call from OTP 23+), nothing else.
std::uint64_t Distribution::our_flags() const {
    std::uint64_t f = DFLAGS_ADVERTISED | DFLAG_SEND_SENDER | DFLAG_EXIT_PAYLOAD | DFLAG_DIST_HDR_ATOM_CACHE;
    // Never PUBLISHED: a BEAM node that sees a visible node runs global's
    // protocol with it, which otpp does not speak, and global:sync() then
    // hangs there (measured). Peers see every otpp node as hidden
    // (nodes(hidden)); our own view lists every connection (nodes()).
    return f & ~DFLAG_PUBLISHED;
}

void Distribution::start() {
    NodeName name = NodeName::make(options_.long_names ? NameMode::longnames : NameMode::shortnames, options_.name);
    Cookie cookie = resolve_cookie(CookieOptions{options_.cookie, std::nullopt, "OTPP_COOKIE"});
    cookie_ = cookie.value();
    host_ = name.host;
    // Before anything listens: unusable TLS settings stop the start here.
    if (options_.tls) {
        tls_ = std::make_unique<const TlsContext>(*options_.tls);
        if (!options_.tls->verify_peer)
            spdlog::warn("distribution: TLS with verify_none: connections are encrypted but peers are not authenticated");
    }

    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw SocketError("socket", errno);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(options_.port);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 128) != 0) {
        int e = errno;
        ::close(listen_fd_);
        listen_fd_ = -1;
        throw SocketError("cannot listen on port " + std::to_string(options_.port), e);
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);

    ensure_epmd(epmd_port_from_env(), Deadline(std::chrono::seconds(5)));
    epmd_ = std::make_unique<EpmdRegistration>(
        EpmdRegistration::register_node(name.alive, port_, Deadline(std::chrono::seconds(5))));
    self_ = NodeIncarnation{Atom(name.full()), epmd_->creation()};
    nodes_.set_local(self_);

    running_.store(true);
    acceptor_ = std::thread([this] { accept_loop(); });
    start_net_kernel();
    kernel_.set_remote(this);
    start_global();
    spdlog::info("distribution: node {} up (port {}, creation {}, cookie from {}, {})", self_.name.name(), port_,
                 self_.creation, cookie.describe(), tls_ ? "TLS: " + tls_->description() : std::string("plain TCP"));
}

void Distribution::stop() {
    if (!running_.exchange(false)) return;
    kernel_.set_remote(nullptr);
    if (net_kernel_ != Pid{}) otpp::exit(net_kernel_, atoms::kill);
    if (global_) global_->stop();
    if (rex_ != Pid{}) otpp::exit(rex_, atoms::kill);
    if (code_agent_ != Pid{}) otpp::exit(code_agent_, atoms::kill);
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::shared_ptr<Connection>> all;
    {
        std::lock_guard lock(mutex_);
        for (auto& [n, c] : connections_) all.push_back(c);
    }
    for (auto& c : all) c->close("node stopping");
    for (auto& c : all) c->join();
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return workers_ == 0; });
    }
    // Connections made by workers that finished meanwhile are closed too.
    {
        std::lock_guard lock(mutex_);
        for (auto& [n, c] : connections_) all.push_back(c);
    }
    for (auto& c : all) c->close("node stopping");
    for (auto& c : all) c->join();
    reap();
    {
        std::lock_guard lock(mutex_);
        connections_.clear();
        graveyard_.clear();
        for (auto& [n, p] : pending_)
            for (auto& [to, s] : p->signals) delete s;
        pending_.clear();
    }
    epmd_.reset();
    spdlog::info("distribution: node {} down", self_.name.name());
}

Atom Distribution::node_of(std::uint32_t index) const {
    auto n = nodes_.node(index);
    return n ? n->name : atoms::nonode_at_nohost;
}

// ---------------------------------------------------------------- net_kernel

// Every Erlang node has a registered net_kernel and rex; net_adm:ping/1 asks
// {is_auth, Node} and expects `yes`. Other requests are not ours to answer.
void Distribution::start_net_kernel() {
    net_kernel_ = otpp::spawn([] {
        for (;;) {
            Term m = receive();
            if (m.is_tuple(3) && m[0].is_atom(gen_call_atom) && m[1].is_tuple(2) && m[1][0].is_pid() &&
                m[2].is_tuple(2) && m[2][0].is_atom(is_auth_atom)) {
                // gen:reply/2: {Tag, Reply} to the caller, whatever the tag's form.
                send(m[1][0].get<Pid>(), Term::tuple({m[1][1], yes_atom}));
            }
        }
    }, SpawnOptions{.label = "net_kernel"});
    kernel_.registry().register_name(net_kernel_atom, net_kernel_);
    // And rex, which answers rpc:call (otpp/rpc.hpp); and our code agent,
    // which takes plugins other otpp nodes ship (host/code/code_agent.hpp).
    rex_ = rpc::detail::start_server();
    code_agent_ = code::start_code_agent(kernel_.modules());
}

// ---------------------------------------------------------------- otpp_global

// The global name registry's server (global_registry.hpp): subscribed to
// nodeup/nodedown before it looks at the nodes already connected.
void Distribution::start_global() {
    global_ = std::make_shared<GlobalRegistry>(self_.name);
    global_->start([this](Pid server) { monitor_nodes(server, true); });
}

bool Distribution::register_global(Atom name, Pid pid) {
    return global_ && running_.load() ? global_->register_name(name, pid) : false;
}

void Distribution::unregister_global(Atom name) {
    if (global_ && running_.load()) global_->unregister_name(name);
}

std::optional<Pid> Distribution::whereis_global(Atom name) const {
    return global_ ? global_->whereis(name) : std::nullopt;
}

std::vector<Atom> Distribution::global_names() const {
    return global_ ? global_->names() : std::vector<Atom>{};
}

// ---------------------------------------------------------------- accepting

void Distribution::accept_loop() {
    runtime::name_this_thread("otpp-dist-acc");
    while (running_.load()) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;  // the listening socket was closed: stopping
        }
        set_nodelay(fd);
        reap();
        std::lock_guard lock(mutex_);
        run_worker([this, fd] { accept_one(fd); });
    }
}

namespace {

// "127.0.0.1:50123", for logs.
std::string peer_address(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0 || sa.sin_family != AF_INET) return "?";
    return Ipv4{sa.sin_addr.s_addr}.to_string() + ":" + std::to_string(ntohs(sa.sin_port));
}

}  // namespace

void Distribution::accept_one(int fd) {
    Socket socket(fd);
    const std::string from = peer_address(fd);
    try {
        // One deadline for the TLS handshake (if any) and the distribution's.
        const Deadline deadline(options_.connect_timeout);
        std::unique_ptr<Transport> stream;
        if (tls_) {
            try {
                stream = tls_accept(std::move(socket), *tls_, deadline);
            } catch (const TimeoutError&) {
                throw std::runtime_error("its TLS handshake did not complete in time");
            } catch (const std::exception& e) {
                throw std::runtime_error(std::string("TLS handshake failed: ") + e.what());
            }
        } else {
            stream = plain_transport(socket.release());
        }
        LocalNode self{std::string(self_.name.name()), self_.creation};
        HandshakeOptions options;
        options.advertised = our_flags();
        // Simultaneous connects: the rule of net_kernel decides which survives.
        auto decide = [this](const std::string& peer, std::uint64_t) {
            std::lock_guard lock(mutex_);
            Atom p(peer);
            if (auto it = connections_.find(p); it != connections_.end() && it->second->alive())
                return HandshakeStatus::alive;
            if (pending_.count(p)) return simultaneous_connect_status(self_.name.name(), peer);
            return HandshakeStatus::ok;
        };
        HandshakeResult r = handshake_accept(*stream, self, cookie_, deadline, options, decide);
        install(std::move(stream), PeerNode{NodeIncarnation{Atom(r.peer_name), r.peer_creation}, 0, r.flags});
    } catch (const std::exception& e) {
        // The stream (or the socket) closes as we leave.
        spdlog::warn("distribution: refused a connection from {}: {}", from, e.what());
    }
}

// ---------------------------------------------------------------- connecting

void Distribution::start_connect(Atom node) {
    auto& p = pending_[node];
    if (!p && !graveyard_.empty()) {
        // Join connections that went down meanwhile, off the lock.
        run_worker([this] { reap(); });
    }
    if (p) return;  // already under way
    p = std::make_unique<Pending>();
    run_worker([this, node] { connect_worker(node); });
}

void Distribution::connect_worker(Atom node) {
    try {
        if (host_of(node).empty()) throw std::runtime_error("not a node name (name@host)");
        LocalNode self{std::string(self_.name.name()), self_.creation};
        HandshakeOptions options;
        options.advertised = our_flags();
        options.timeout = options_.connect_timeout;
        NodeStream c = connect_node_stream(self, node.name(), cookie_, tls_.get(), options);
        install(std::move(c.stream),
                PeerNode{NodeIncarnation{Atom(c.peer.peer_name), c.peer.peer_creation}, 0, c.peer.flags});
    } catch (const std::exception& e) {
        // Refused may mean we lost a simultaneous connect: the peer's
        // connection, accepted here, is the one that stays.
        auto* h = dynamic_cast<const HandshakeError*>(&e);
        connect_failed(node, e.what(), h && h->failure() == HandshakeFailure::refused);
    }
}

void Distribution::install(std::unique_ptr<Transport> stream, PeerNode peer) {
    peer.index = nodes_.index_of(peer.node);
    const std::string carrier = stream->describe();
    auto conn = std::make_shared<Connection>(
        kernel_, nodes_, std::move(stream), peer, options_.net_ticktime, options_.busy_limit, counters_,
        [this](Connection& c, const std::string& why) { connection_down(c, why); });
    std::unique_ptr<Pending> pending;
    {
        std::lock_guard lock(mutex_);
        if (!running_.load()) return;  // conn's destructor closes the stream
        // Already connected (both sides connected at once and both
        // handshakes passed): the first connection stays.
        if (auto it = connections_.find(peer.node.name); it != connections_.end() && it->second->alive()) {
            spdlog::info("distribution: a second connection to {} dropped", peer.node.name.name());
            return;
        }
        connections_[peer.node.name] = conn;
        changed_.notify_all();  // a connect that lost a simultaneous connect waits for this
        if (auto it = pending_.find(peer.node.name); it != pending_.end()) {
            pending = std::move(it->second);
            pending_.erase(it);
        }
        conn->start();
    }
    spdlog::info("distribution: connected to {} (creation {}, {})", peer.node.name.name(), peer.node.creation, carrier);
    if (pending) {
        for (auto& [to, s] : pending->signals) route(to, s);
        for (auto& [from, name, message] : pending->named) conn->send_named(from, name, std::move(message));
        pending->answer(peer.node.name, true);
    }
    notify_node(peer.node.name, true);
}

void Distribution::connect_failed(Atom node, const std::string& why, bool maybe_simultaneous) {
    std::unique_ptr<Pending> pending;
    std::vector<Pid> monitors;
    {
        std::unique_lock lock(mutex_);
        auto connected = [&] {
            auto it = connections_.find(node);
            return it != connections_.end() && it->second->alive();
        };
        // Waiting for the accepted connection: install() hands it what waits.
        if (maybe_simultaneous)
            changed_.wait_for(lock, options_.connect_timeout, [&] { return connected() || !running_.load(); });
        if (connected()) {
            spdlog::debug("distribution: our connect to {} gave way to its own ({})", node.name(), why);
            return;
        }
        if (auto it = pending_.find(node); it != pending_.end()) {
            pending = std::move(it->second);
            pending_.erase(it);
        }
        auto [b, e] = node_monitors_.equal_range(node);
        for (auto it = b; it != e; ++it) monitors.push_back(it->second);
        node_monitors_.erase(node);
    }
    spdlog::warn("distribution: cannot connect to {}: {}", node.name(), why);
    if (pending) {
        for (auto& [to, s] : pending->signals) answer_unreachable(kernel_, to, s, atoms::noconnection);
        pending->answer(node, false);
    }
    for (Pid p : monitors) kernel_.send_signal(p, new Signal(SignalKind::Message, Pid{}, Term::tuple({nodedown_atom, node})));
}

void Distribution::connection_down(Connection& c, const std::string& why) {
    Atom node = c.peer().node.name;
    bool current = false;
    {
        std::lock_guard lock(mutex_);
        if (auto it = connections_.find(node); it != connections_.end() && it->second.get() == &c) {
            graveyard_.push_back(it->second);
            connections_.erase(it);
            current = true;
        }
    }
    if (!current) return;
    spdlog::info("distribution: lost {}: {}", node.name(), why);
    notify_node(node, false);
}

void Distribution::notify_node(Atom node, bool up) {
    std::vector<Pid> to;
    {
        std::lock_guard lock(mutex_);
        if (!options_.hidden) to.assign(node_watchers_.begin(), node_watchers_.end());
        if (!up) {
            auto [b, e] = node_monitors_.equal_range(node);
            for (auto it = b; it != e; ++it) to.push_back(it->second);
            node_monitors_.erase(node);
        }
    }
    Term message = Term::tuple({up ? nodeup_atom : nodedown_atom, node});
    for (Pid p : to) kernel_.send_signal(p, new Signal(SignalKind::Message, Pid{}, message));
}

void Distribution::reap() {
    // Connections that went down, once their threads are done. Never under
    // mutex_: a connection's thread may be waiting for it on its way out.
    std::vector<std::shared_ptr<Connection>> dead;
    {
        std::lock_guard lock(mutex_);
        dead.swap(graveyard_);
    }
    for (auto& c : dead) c->join();
}

// Connects and handshakes run on threads of their own (each bounded by
// connect_timeout); stop() waits for the last one. Called under mutex_.
void Distribution::run_worker(std::function<void()> work) {
    ++workers_;
    std::thread([this, work = std::move(work)] {
        runtime::name_this_thread("otpp-dist-setup");
        work();
        std::lock_guard lock(mutex_);
        --workers_;
        changed_.notify_all();
    }).detach();
}

void Distribution::wait_while_busy(Atom node) {
    if (counters_.busy_now.load(std::memory_order_relaxed) == 0) return;  // the common case: one load
    runtime::Process* me = runtime::current_process();
    if (!me) return;  // a thread cannot be suspended: it only queues
    const Term unbusy = Term::tuple({Atom("$otpp_dist_unbusy"), node});
    for (;;) {
        auto conn = connection(node);
        if (!conn || !conn->wait_if_busy(me->pid())) return;
        // Checked again after each wake: another sender may have filled it.
        otpp::receive([&](const Term& t) { return t == unbusy; }, infinity);
    }
}

std::shared_ptr<Connection> Distribution::connection(Atom node) const {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(node);
    return it != connections_.end() && it->second->alive() ? it->second : nullptr;
}

// ---------------------------------------------------------------- Remote

void Distribution::route(Pid to, Signal* s) noexcept {
    try {
        auto node = nodes_.node(to.node);
        if (!node || !running_.load()) return answer_unreachable(kernel_, to, s, atoms::noproc);
        std::shared_ptr<Connection> conn;
        {
            std::lock_guard lock(mutex_);
            auto it = connections_.find(node->name);
            if (it != connections_.end() && it->second->alive()) {
                conn = it->second;
            } else {
                start_connect(node->name);
                pending_[node->name]->signals.emplace_back(to, s);
                return;
            }
        }
        // A pid of an earlier incarnation names nobody now; creation 0 is a
        // name's stand-in (name_stand_in), for whichever incarnation is up.
        if (conn->peer().index != to.node && node->creation != 0)
            return answer_unreachable(kernel_, to, s, atoms::noproc);
        conn->route(to, s);
    } catch (const std::exception& e) {
        spdlog::warn("distribution: cannot route to {}: {}", Term(to).to_string(), e.what());
        answer_unreachable(kernel_, to, s, atoms::noconnection);
    }
}

void Distribution::send_named(Pid from, Atom name, Atom node, Term message) noexcept {
    try {
        if (!running_.load()) return;
        std::shared_ptr<Connection> conn;
        {
            std::lock_guard lock(mutex_);
            auto it = connections_.find(node);
            if (it != connections_.end() && it->second->alive()) {
                conn = it->second;
            } else {
                start_connect(node);
                pending_[node]->named.emplace_back(from, name, std::move(message));
                return;
            }
        }
        conn->send_named(from, name, std::move(message));
    } catch (const std::exception& e) {
        spdlog::warn("distribution: cannot send to {{{}, {}}}: {}", name.name(), node.name(), e.what());
    }
}

Pid Distribution::name_stand_in(Atom node) {
    // Real incarnations have a non-zero creation (EPMD's or random).
    return Pid{nodes_.index_of(NodeIncarnation{node, 0}), 0, 0};
}

bool Distribution::connect(Atom node) {
    if (node == self_.name) return true;
    if (!running_.load() || host_of(node).empty()) return false;
    runtime::Process* me = runtime::current_process();
    auto promise = me ? nullptr : std::make_shared<std::promise<bool>>();
    {
        std::lock_guard lock(mutex_);
        if (auto it = connections_.find(node); it != connections_.end() && it->second->alive()) return true;
        start_connect(node);
        pending_[node]->waiters.push_back({promise, me ? me->pid() : Pid{}});
    }
    // The connect worker always answers within connect_timeout. A process
    // waits as a process (its scheduler serves the others meanwhile).
    if (promise) return promise->get_future().get();
    const Atom connected("$connected");
    auto answer = otpp::receive(
        [&](const Term& m) { return m.is_tuple(3) && m[0].is_atom(connected) && m[1].is_atom(node); },
        options_.connect_timeout + std::chrono::seconds(5));
    return answer && (*answer)[2].is_atom(atoms::true_);
}

bool Distribution::disconnect(Atom node) {
    auto conn = connection(node);
    if (!conn) return false;
    conn->close("disconnect_node");
    return true;
}

std::vector<Atom> Distribution::nodes() const {
    std::lock_guard lock(mutex_);
    std::vector<Atom> out;
    for (auto& [n, c] : connections_)
        if (c->alive() && !options_.hidden) out.push_back(n);
    return out;
}

void Distribution::monitor_nodes(Pid who, bool on) {
    std::lock_guard lock(mutex_);
    if (on) node_watchers_.insert(who);
    else node_watchers_.erase(who);
}

void Distribution::monitor_node(Pid who, Atom node, bool on) {
    std::lock_guard lock(mutex_);
    if (!on) {
        auto [b, e] = node_monitors_.equal_range(node);
        for (auto it = b; it != e; ++it)
            if (it->second == who) {
                node_monitors_.erase(it);
                break;
            }
        return;
    }
    node_monitors_.emplace(node, who);
    if (auto it = connections_.find(node); it != connections_.end() && it->second->alive()) return;
    // Erlang tries to connect; nodedown at once if that fails.
    start_connect(node);
}

}  // namespace otpp::dist
