// This host as a node of an Erlang cluster: its name, its EPMD registration,
// the listening socket, the connection to every other node, and the
// processes every Erlang node has (net_kernel answers net_adm:ping).
//
// The runtime reaches it through runtime::Remote (set on the kernel while
// the node is up): sends, links, monitors and exits to another node's pids
// come here and leave through that node's Connection, which is made on the
// first signal for it (Erlang's transparent connect).
//
// Thread safety: every member may be called from any thread. start() and
// stop() block (network and threads); Remote's members never block, except
// connect(), which waits for the connection or its failure.
#pragma once

#include "connection.hpp"
#include "global_registry.hpp"
#include "node_table.hpp"
#include "tls_transport.hpp"

#include "../runtime/remote.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace otpp::runtime {
class Kernel;
}

namespace otpp::dist {

class EpmdRegistration;

struct DistributionOptions {
    std::string name;         // "foo" or "foo@host" (--sname / --name)
    bool long_names = false;  // --name: fully qualified host names
    std::optional<std::string> cookie;  // else $OTPP_COOKIE, else ~/.erlang.cookie
    std::chrono::milliseconds net_ticktime{60'000};
    std::chrono::milliseconds connect_timeout{7'000};  // EPMD lookup + TCP + handshake
    // A connection with more than this queued is busy: processes that send
    // on it are suspended until it drains (erl's +zdbbl, same default).
    std::size_t busy_limit = 1024 * 1024;
    bool hidden = false;      // see no node in nodes() / monitor_nodes (erl -hidden's view)
    std::uint16_t port = 0;   // listening port; 0: any free port
    // TLS distribution (erl's -proto_dist inet_tls; tls_transport.hpp):
    // every connection, both ways, is TLS with these settings, and a peer
    // without TLS or with a certificate we do not trust is refused. Unset:
    // plain TCP (inet_tcp_dist). start() loads the files and throws
    // TlsConfigError if they cannot be used.
    std::optional<TlsOptions> tls;
};

class Distribution final : public runtime::Remote {
public:
    Distribution(runtime::Kernel& kernel, DistributionOptions options);
    ~Distribution() override;
    Distribution(const Distribution&) = delete;
    Distribution& operator=(const Distribution&) = delete;

    // Names the node, listens, registers with EPMD (starting epmd if none
    // runs), starts net_kernel, and hooks into the kernel. Throws with a
    // clear message if any of it fails (name taken, no cookie, ...).
    void start();
    // Disconnects every node, unregisters, stops net_kernel. Idempotent.
    void stop();

    NodeTable& node_table() noexcept { return nodes_; }
    // What crossed all connections so far (fragments, interleaving).
    const TrafficCounters& traffic() const noexcept { return counters_; }
    std::uint16_t port() const noexcept { return port_; }

    // runtime::Remote
    Atom node_name() const override { return self_.name; }
    Atom node_of(std::uint32_t node_index) const override;
    void route(Pid to, runtime::Signal* s) noexcept override;
    void send_named(Pid from, Atom name, Atom node, Term message) noexcept override;
    void wait_while_busy(Atom node) override;
    bool connect(Atom node) override;
    bool disconnect(Atom node) override;
    std::vector<Atom> nodes() const override;
    void monitor_nodes(Pid who, bool on) override;
    void monitor_node(Pid who, Atom node, bool on) override;
    Pid name_stand_in(Atom node) override;
    // The global name registry (global_registry.hpp).
    bool register_global(Atom name, Pid pid) override;
    void unregister_global(Atom name) override;
    std::optional<Pid> whereis_global(Atom name) const override;
    std::vector<Atom> global_names() const override;
    // Null until start().
    GlobalRegistry* global_registry() noexcept { return global_.get(); }

private:
    struct Pending;
    void accept_loop();
    void accept_one(int fd);        // takes the fd
    void start_connect(Atom node);  // under mutex_
    void connect_worker(Atom node);
    void install(std::unique_ptr<Transport> stream, PeerNode peer);
    // maybe_simultaneous: the peer refused us, perhaps because its own
    // connect to us wins; then wait for that one before failing anything.
    void connect_failed(Atom node, const std::string& why, bool maybe_simultaneous);
    void connection_down(Connection& c, const std::string& why);
    std::shared_ptr<Connection> connection(Atom node) const;
    void notify_node(Atom node, bool up);
    void reap();
    void run_worker(std::function<void()> work);  // under mutex_
    std::uint64_t our_flags() const;
    void start_net_kernel();
    void start_global();

    runtime::Kernel& kernel_;
    DistributionOptions options_;
    NodeTable nodes_;
    NodeIncarnation self_{atoms::nonode_at_nohost, 0};
    std::string host_;        // the host part of our name
    std::string cookie_;
    std::unique_ptr<const TlsContext> tls_;  // set by start() with options_.tls, then immutable
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::unique_ptr<EpmdRegistration> epmd_;
    std::atomic<bool> running_{false};

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::map<Atom, std::shared_ptr<Connection>> connections_;
    std::map<Atom, std::unique_ptr<Pending>> pending_;   // connecting
    std::vector<std::shared_ptr<Connection>> graveyard_;  // down, to join
    std::set<Pid> node_watchers_;                           // monitor_nodes(true)
    std::multimap<Atom, Pid> node_monitors_;                // monitor_node(Node, true)
    int workers_ = 0;                                       // connects, accepts running (mutex_)
    std::thread acceptor_;
    Pid net_kernel_;
    std::shared_ptr<GlobalRegistry> global_;  // otpp_global (set by start())
    Pid rex_;
    Pid code_agent_;
    TrafficCounters counters_;
};

}  // namespace otpp::dist
