// One connection to another node, after the handshake: its socket, the
// threads that read and write it, ticks, and the links and monitors that
// cross it (so that losing it can fire them with `noconnection`).
//
// Threads: a reader (blocks on the socket, delivers to local processes) and
// a writer (drains the send queue; sends a tick when idle for a quarter of
// net_ticktime; declares the connection dead when nothing arrived for
// net_ticktime). Every public member may be called from any thread and never
// blocks on the network: a sender whose packet finds the connection idle
// (nothing queued, nobody writing) writes it itself, as much as the socket
// takes without blocking; otherwise, and for the rest, it queues.
//
// Busy (Erlang's busy_dist_port, per sender): when more than busy_limit
// bytes of one process wait in the queue, Distribution::wait_while_busy
// suspends that process until the writer has brought its share back under
// the limit: a fast sender cannot fill the memory with what a slow peer has
// not read. Unlike the BEAM, which suspends every sender to a busy node,
// the others go on: a big message does not stop small ones.
#pragma once

#include "control_message.hpp"
#include "fragments.hpp"
#include "node_table.hpp"
#include "transport.hpp"

#include "../runtime/signal.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace otpp::runtime {
class Kernel;
}

namespace otpp::dist {

// What crossed a node's connections, for tests and stats (all connections
// of a node add up here; relaxed counters).
struct TrafficCounters {
    std::atomic<std::uint64_t> fragments_in{0};   // fragment packets received
    std::atomic<std::uint64_t> fragments_out{0};  // fragment packets sent
    // Whole messages received while a fragmented one was incomplete, and
    // packets of other senders sent while a fragmented one was under way:
    // big messages did not hold up the others.
    std::atomic<std::uint64_t> interleaved_in{0};
    std::atomic<std::uint64_t> interleaved_out{0};
    // Packets their sender's thread wrote whole (the connection was idle),
    // and packets it found the socket full for and left, whole or in part,
    // to the writer thread.
    std::atomic<std::uint64_t> direct_out{0};
    std::atomic<std::uint64_t> deferred_out{0};
    // Senders with more than the busy limit queued right now, and how many
    // times a process was suspended for that (Erlang's busy_dist_port).
    std::atomic<int> busy_now{0};
    std::atomic<std::uint64_t> busy_waits{0};
};

struct PeerNode {
    NodeIncarnation node;
    std::uint32_t index = 0;  // in the node table
    std::uint64_t flags = 0;  // what it advertised
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    // Called once, from the reader or writer thread, when the connection is
    // gone (after its links and monitors have fired).
    using OnDown = std::function<void(Connection&, const std::string& why)>;

    Connection(runtime::Kernel& kernel, NodeTable& nodes, std::unique_ptr<Transport> stream, PeerNode peer,
               std::chrono::milliseconds net_ticktime, std::size_t busy_limit, TrafficCounters& counters,
               OnDown on_down);
    ~Connection();  // closes and joins
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start();
    // Closes the socket; the threads end, links and monitors fire, on_down runs.
    void close(const std::string& why);
    void join();
    bool alive() const noexcept { return !down_.load(std::memory_order_acquire); }
    const PeerNode& peer() const noexcept { return peer_; }

    // A signal from a local process to one of the peer's (takes `s`). If the
    // connection is already down, a link or monitor is answered with
    // noconnection.
    void route(Pid to, runtime::Signal* s) noexcept;
    // {Name, PeerNode} ! Message.
    void send_named(Pid from, Atom name, Term message) noexcept;
    // A control message (and payload) on behalf of local process `sender`:
    // what one sender sends leaves in order; different senders' messages
    // interleave, a big one fragment by fragment.
    void send_control(Pid sender, const Term& control, const Term* payload);

    // If more than the busy limit of `sender`'s is queued, it is told
    // {'$otpp_dist_unbusy', PeerNode} once it is less (or once the
    // connection is down) and true is returned.
    bool wait_if_busy(Pid sender);

private:
    void reader_loop();
    void writer_loop();
    void handle(ControlMessage& m);
    void spawn_request(ControlMessage& m);
    void enqueue(Pid sender, EncodedMessage message);
    void deliver(Pid to, runtime::Signal* s);
    void went_down(const std::string& why) noexcept;
    Pid local_pid(const Term& t) const;

    runtime::Kernel& kernel_;
    NodeTable& nodes_;
    std::unique_ptr<Transport> stream_;
    PeerNode peer_;
    std::chrono::milliseconds ticktime_;
    TrafficCounters& counters_;
    OnDown on_down_;
    const bool direct_writes_;  // the transport can write without blocking

    std::mutex out_mutex_;
    std::condition_variable out_cv_;
    // Per sender, what it has queued: whole packets or a message's fragments.
    struct Outgoing {
        std::string packet;                      // whole, with its 4-byte length
        std::optional<FragmentWriter> fragments;  // or this
    };
    struct SenderQueue {
        std::deque<Outgoing> items;
        std::size_t bytes = 0;  // packets' bytes, and the fragmented messages' bytes still to go
        bool waiting = false;   // the sender is suspended until bytes < busy_limit_
    };
    std::map<Pid, SenderQueue> streams_;
    std::deque<Pid> turn_;  // senders with something queued, round robin
    std::uint64_t next_sequence_ = 1;
    int fragmenting_ = 0;  // fragmented messages started and not finished
    bool closing_ = false;
    // A thread is writing the socket: the writer, or a sender writing its
    // packet itself (enqueue). Whoever sets it writes; the others queue.
    bool writing_ = false;
    // The tail of a packet a sender could only write in part: it goes out
    // before anything queued.
    std::string unfinished_;
    int64_t last_enqueue_ns_ = 0;  // CLOCK_MONOTONIC
    const std::size_t busy_limit_;
    // A queue's bytes shrank by `taken`: counts and tells as the limit is crossed.
    void drained(Pid sender, SenderQueue& q, std::size_t taken, std::vector<Pid>& tell);  // under out_mutex_
    void tell_unbusy(const std::vector<Pid>& who) noexcept;
    std::atomic<int64_t> last_in_ms_{0};  // steady clock, ms

    // Everything that must fire when the connection goes; and `down_`,
    // checked under the same lock, so that nothing is recorded after.
    std::mutex state_mutex_;
    std::atomic<bool> down_{false};
    std::set<std::pair<Pid, Pid>> links_;  // (local, remote)
    struct Watch {
        Pid watcher;
        Pid target;
        std::optional<Atom> name;  // monitored by registered name
    };
    std::unordered_map<Ref, Watch> monitors_;   // local watcher, remote target
    std::unordered_map<Ref, Watch> monitored_;  // remote watcher, local target
    std::atomic<std::uint64_t> next_unlink_id_{1};

    std::thread reader_, writer_;
    std::once_flag down_once_;
};

}  // namespace otpp::dist
