#include "connection.hpp"
#include "../runtime/thread_name.hpp"

#include "external_term.hpp"
#include "flags.hpp"

#include "../runtime/kernel.hpp"

#include <otpp/process.hpp>
#include <otpp/rpc.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sys/socket.h>
#include <unistd.h>

namespace otpp::dist {

namespace {

using runtime::Signal;
using runtime::SignalKind;

// Peer capabilities that change what we send.
constexpr std::uint64_t send_sender_flag = DFLAG_SEND_SENDER;
constexpr std::uint64_t exit_payload_flag = DFLAG_EXIT_PAYLOAD;
constexpr std::uint64_t unlink_id_flag = DFLAG_UNLINK_ID;

const Atom empty_atom("");

// Only compared with net_ticktime (seconds): the coarse clock is enough, and
// cheaper on every packet.
int64_t now_ms() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return static_cast<int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1'000'000;
}

int64_t now_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// A packet that follows the connection's previous one closer than this is
// part of a burst: it is queued for the writer thread, which writes a burst
// in a few large writes, rather than written at once (a system call each:
// one-way throughput fell from 0.9-1.0 M to ~0.5 M messages/s, measured).
// Round trips space a connection's packets by at least their own length
// (13 us here), so they keep the direct write.
constexpr int64_t burst_gap_ns = 5'000;

Term op(Op o) { return Term(static_cast<int64_t>(o)); }

}  // namespace

Connection::Connection(runtime::Kernel& kernel, NodeTable& nodes, std::unique_ptr<Transport> stream, PeerNode peer,
                       std::chrono::milliseconds net_ticktime, std::size_t busy_limit, TrafficCounters& counters,
                       OnDown on_down)
    : kernel_(kernel),
      nodes_(nodes),
      stream_(std::move(stream)),
      peer_(peer),
      ticktime_(net_ticktime),
      counters_(counters),
      on_down_(std::move(on_down)),
      direct_writes_(stream_->can_write_now()),
      busy_limit_(busy_limit) {
    last_in_ms_.store(now_ms());
}

Connection::~Connection() {
    close("connection destroyed");
    join();
}

void Connection::start() {
    reader_ = std::thread([this] { reader_loop(); });
    writer_ = std::thread([this] { writer_loop(); });
}

void Connection::close(const std::string& why) {
    {
        std::lock_guard lock(out_mutex_);
        if (closing_) return;
        closing_ = true;
    }
    out_cv_.notify_all();
    stream_->shutdown();  // wakes the reader
    (void)why;
}

void Connection::join() {
    for (std::thread* t : {&reader_, &writer_})
        if (t->joinable() && t->get_id() != std::this_thread::get_id()) t->join();
}

// ---------------------------------------------------------------- out

void Connection::enqueue(Pid sender, EncodedMessage message) {
    // With the atom cache negotiated a BEAM takes only packets with a
    // distribution header (we send it without references), and fragments.
    const bool headers = peer_.flags & DFLAG_DIST_HDR_ATOM_CACHE;
    const bool fragment = headers && (peer_.flags & DFLAG_FRAGMENTS) && message.body.size() > fragment_size;
    Outgoing item;
    if (!fragment) {
        std::string packet = headers ? normal_header_packet(message) : pass_through_packet(message);
        uint32_t n = static_cast<uint32_t>(packet.size());
        item.packet.reserve(4 + packet.size());
        for (int i = 3; i >= 0; --i) item.packet.push_back(static_cast<char>(n >> (8 * i)));
        item.packet.append(packet);
    }
    {
        std::unique_lock lock(out_mutex_);
        if (closing_) return;
        const int64_t now = now_ns();
        const bool burst = now - last_enqueue_ns_ < burst_gap_ns;
        last_enqueue_ns_ = now;
        if (direct_writes_ && !fragment && !burst && !writing_ && turn_.empty() && unfinished_.empty()) {
            // Idle: write from this thread. Handing a lone packet to the
            // writer thread costs a wake-up and a thread switch on each side,
            // most of a round trip over loopback (measured).
            writing_ = true;
            lock.unlock();
            const std::ptrdiff_t written = stream_->write_now(item.packet.data(), item.packet.size());
            lock.lock();
            writing_ = false;
            if (written < 0) {
                lock.unlock();
                close("write failed");
                return;
            }
            // Nothing written (a full socket): queued below, which
            // keeps this sender's order (it had nothing queued). In part:
            // the rest goes before anything else.
            const bool whole = static_cast<std::size_t>(written) == item.packet.size();
            (whole ? counters_.direct_out : counters_.deferred_out).fetch_add(1, std::memory_order_relaxed);
            if (written > 0) {
                if (!whole) unfinished_.assign(item.packet, static_cast<std::size_t>(written));
                const bool writer_needed = !unfinished_.empty() || !turn_.empty();
                lock.unlock();
                if (writer_needed) out_cv_.notify_one();
                return;
            }
            if (closing_) return;
        }
        const std::size_t bytes = fragment ? message.body.size() : item.packet.size();
        if (fragment) item.fragments.emplace(std::move(message), next_sequence_++);
        SenderQueue& q = streams_[sender];
        if (q.items.empty()) turn_.push_back(sender);
        q.items.push_back(std::move(item));
        if (q.bytes < busy_limit_ && q.bytes + bytes >= busy_limit_)
            counters_.busy_now.fetch_add(1, std::memory_order_relaxed);
        q.bytes += bytes;
    }
    out_cv_.notify_one();
}

void Connection::send_control(Pid sender, const Term& control, const Term* payload) {
    enqueue(sender, encode_message(control, payload, nodes_));
}

bool Connection::wait_if_busy(Pid sender) {
    std::lock_guard lock(out_mutex_);
    if (closing_) return false;
    auto it = streams_.find(sender);
    if (it == streams_.end() || it->second.bytes < busy_limit_) return false;
    it->second.waiting = true;
    counters_.busy_waits.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void Connection::drained(Pid sender, SenderQueue& q, std::size_t taken, std::vector<Pid>& tell) {
    const bool was_busy = q.bytes >= busy_limit_;
    q.bytes -= taken;
    if (!was_busy || q.bytes >= busy_limit_) return;
    counters_.busy_now.fetch_sub(1, std::memory_order_relaxed);
    if (q.waiting) tell.push_back(sender);
    q.waiting = false;
}

void Connection::tell_unbusy(const std::vector<Pid>& who) noexcept {
    if (who.empty()) return;
    try {
        static const Atom unbusy("$otpp_dist_unbusy");
        const Term message = Term::tuple({unbusy, peer_.node.name});
        for (Pid p : who) kernel_.send_signal(p, new Signal(SignalKind::Message, Pid{}, message));
    } catch (const std::exception& e) {
        // Out of memory: they find out at their next check (wait_while_busy polls).
        spdlog::warn("distribution: cannot resume the senders to {}: {}", peer_.node.name.name(), e.what());
    }
}

void Connection::route(Pid to, Signal* s) noexcept {
    std::unique_ptr<Signal> owned(s);
    try {
        Pid from = s->from;
        std::unique_lock lock(state_mutex_);
        if (down_.load(std::memory_order_relaxed)) {
            lock.unlock();
            // As if the connection failed right now: links and monitors learn.
            if (s->kind == SignalKind::Link)
                kernel_.send_signal(from, new Signal(SignalKind::LinkExit, to, atoms::noconnection));
            else if (s->kind == SignalKind::Monitor)
                kernel_.send_signal(from, new Signal(SignalKind::Down, to, atoms::noconnection, s->ref));
            return;
        }
        const bool payload_exits = peer_.flags & exit_payload_flag;
        switch (s->kind) {
            case SignalKind::Message:
            case SignalKind::Reply: {
                Term message = s->kind == SignalKind::Reply ? Term::tuple({s->ref, s->payload}) : s->payload;
                lock.unlock();
                Term control = peer_.flags & send_sender_flag ? Term::tuple({op(Op::send_sender), from, to})
                                                              : Term::tuple({op(Op::send), empty_atom, to});
                send_control(from, control, &message);
                return;
            }
            case SignalKind::Link:
                links_.insert({from, to});
                lock.unlock();
                send_control(from, Term::tuple({op(Op::link), from, to}), nullptr);
                return;
            case SignalKind::Unlink:
                links_.erase({from, to});
                lock.unlock();
                if (peer_.flags & unlink_id_flag)
                    send_control(from, Term::tuple({op(Op::unlink_id), static_cast<int64_t>(next_unlink_id_++), from, to}),
                                 nullptr);
                else
                    send_control(from, Term::tuple({op(Op::unlink), from, to}), nullptr);
                return;
            case SignalKind::LinkExit:
                links_.erase({from, to});
                lock.unlock();
                if (payload_exits) send_control(from, Term::tuple({op(Op::payload_exit), from, to}), &s->payload);
                else send_control(from, Term::tuple({op(Op::exit), from, to, s->payload}), nullptr);
                return;
            case SignalKind::Exit:
                lock.unlock();
                if (payload_exits) send_control(from, Term::tuple({op(Op::payload_exit2), from, to}), &s->payload);
                else send_control(from, Term::tuple({op(Op::exit2), from, to, s->payload}), nullptr);
                return;
            case SignalKind::Monitor: {
                // By name (Process::monitor_name) when the payload is the name.
                std::optional<Atom> name;
                if (s->payload.is_atom()) name = s->payload.get<Atom>();
                monitors_[s->ref] = Watch{from, to, name};
                lock.unlock();
                Term target = name ? Term(*name) : Term(to);
                send_control(from, Term::tuple({op(Op::monitor_p), from, target, s->ref}), nullptr);
                return;
            }
            case SignalKind::Demonitor: {
                Term target = to;
                if (auto it = monitors_.find(s->ref); it != monitors_.end()) {
                    if (it->second.name) target = *it->second.name;
                    monitors_.erase(it);
                }
                lock.unlock();
                send_control(from, Term::tuple({op(Op::demonitor_p), from, target, s->ref}), nullptr);
                return;
            }
            case SignalKind::Down: {
                // A local process the peer monitored died; by name if it
                // was monitored by name.
                Term who = from;
                if (auto it = monitored_.find(s->ref); it != monitored_.end()) {
                    if (it->second.name) who = *it->second.name;
                    monitored_.erase(it);
                }
                lock.unlock();
                if (payload_exits) send_control(from, Term::tuple({op(Op::payload_monitor_p_exit), who, to, s->ref}), &s->payload);
                else send_control(from, Term::tuple({op(Op::monitor_p_exit), who, to, s->ref, s->payload}), nullptr);
                return;
            }
            case SignalKind::Timeout:
                return;  // never remote
        }
    } catch (const std::exception& e) {
        spdlog::warn("distribution: cannot send to {} on {}: {}", Term(to).to_string(), peer_.node.name.name(), e.what());
    }
}

void Connection::send_named(Pid from, Atom name, Term message) noexcept {
    try {
        send_control(from, Term::tuple({op(Op::reg_send), from, empty_atom, name}), &message);
    } catch (const std::exception& e) {
        spdlog::warn("distribution: cannot send to {{{}, {}}}: {}", name.name(), peer_.node.name.name(), e.what());
    }
}

void Connection::writer_loop() {
    runtime::name_this_thread("otpp-dist-write");
    const auto tick_every = std::max(std::chrono::milliseconds(1), ticktime_ / 4);
    // Up to this much per write: one sender's big message gives way to the
    // others every fragment.
    constexpr std::size_t batch_limit = 256 * 1024;
    std::string batch;
    std::vector<Pid> unbusy;
    for (;;) {
        batch.clear();
        {
            std::unique_lock lock(out_mutex_);
            out_cv_.wait_for(lock, tick_every, [&] {
                return closing_ || (!writing_ && (!turn_.empty() || !unfinished_.empty()));
            });
            if (closing_) break;
            // A sender writing its own packet: the tick (or the queue) waits.
            if (writing_) continue;
            writing_ = true;
            batch.swap(unfinished_);
            while (!turn_.empty() && batch.size() < batch_limit) {
                Pid sender = turn_.front();
                turn_.pop_front();
                auto it = streams_.find(sender);
                SenderQueue& q = it->second;
                Outgoing& head = q.items.front();
                bool finished = true;
                if (head.fragments) {
                    if (!head.fragments->started()) {  // a new big message, maybe beside another
                        if (fragmenting_ > 0) counters_.interleaved_out.fetch_add(1, std::memory_order_relaxed);
                        ++fragmenting_;
                    }
                    const std::size_t before = head.fragments->remaining();
                    head.fragments->next(batch);
                    drained(sender, q, before - head.fragments->remaining(), unbusy);
                    counters_.fragments_out.fetch_add(1, std::memory_order_relaxed);
                    finished = head.fragments->done();
                    if (finished) --fragmenting_;
                } else {
                    if (fragmenting_ > 0) counters_.interleaved_out.fetch_add(1, std::memory_order_relaxed);
                    batch.append(head.packet);
                    drained(sender, q, head.packet.size(), unbusy);
                }
                if (finished) q.items.pop_front();
                if (q.items.empty()) streams_.erase(it);
                else turn_.push_back(sender);
            }
        }
        tell_unbusy(unbusy);
        unbusy.clear();
        // net_ticktime: silence from the peer for that long means it is gone.
        if (now_ms() - last_in_ms_.load(std::memory_order_relaxed) > ticktime_.count()) {
            went_down("net_tick_timeout");
            return;
        }
        if (batch.empty()) batch.assign(4, '\0');  // idle for a tick interval: a tick
        const bool written = stream_->write_all(batch.data(), batch.size());
        {
            std::lock_guard lock(out_mutex_);
            writing_ = false;
        }
        if (!written) {
            went_down(std::string("write failed: ") + stream_->last_error());
            return;
        }
    }
    went_down("closed");
}

// ---------------------------------------------------------------- in

void Connection::reader_loop() {
    runtime::name_this_thread("otpp-dist-read");
    std::string packet;
    Reassembler reassembler;
    AtomCache atom_cache;
    std::vector<Atom> atom_refs;
    for (;;) {
        unsigned char len[4];
        if (!stream_->read_exact(reinterpret_cast<char*>(len), 4)) break;
        last_in_ms_.store(now_ms(), std::memory_order_relaxed);
        uint32_t n = uint32_t(len[0]) << 24 | uint32_t(len[1]) << 16 | uint32_t(len[2]) << 8 | len[3];
        if (n == 0) continue;  // a tick
        packet.resize(n);
        if (!stream_->read_exact(packet.data(), n)) break;
        last_in_ms_.store(now_ms(), std::memory_order_relaxed);  // a big packet may take a while
        try {
            std::optional<Reassembler::Whole> whole;
            const std::size_t incomplete = reassembler.pending();
            if (reassembler.take(packet, atom_cache, whole)) {
                counters_.fragments_in.fetch_add(1, std::memory_order_relaxed);
                if (!whole) continue;  // more fragments to come
                ControlMessage m = parse_body(whole->body, nodes_, whole->atom_refs);
                handle(m);
                continue;
            }
            if (incomplete > 0) counters_.interleaved_in.fetch_add(1, std::memory_order_relaxed);
            if (packet.size() >= 2 && static_cast<unsigned char>(packet[0]) == 131 &&
                static_cast<unsigned char>(packet[1]) == 68) {
                std::string_view rest(packet);
                rest.remove_prefix(2);
                atom_cache.read_refs(rest, atom_refs);
                ControlMessage m = parse_body(rest, nodes_, atom_refs);
                handle(m);
                continue;
            }
            ControlMessage m = parse_packet(packet, nodes_);
            handle(m);
        } catch (const std::exception& e) {
            // One undecodable message (a fun, a bignum...) is dropped, as a
            // term we cannot represent; the connection stays.
            spdlog::warn("distribution: dropped a message from {}: {}", peer_.node.name.name(), e.what());
        }
    }
    went_down(std::string("connection closed: ") + stream_->last_error());
}

Pid Connection::local_pid(const Term& t) const {
    if (!t.is_pid()) throw std::runtime_error("expected a pid, got " + t.to_string(100));
    return t.get<Pid>();
}

void Connection::deliver(Pid to, Signal* s) {
    if (to.node != 0) {  // not ours: a confused or hostile peer
        delete s;
        return;
    }
    kernel_.send_signal(to, s);
}

void Connection::handle(ControlMessage& m) {
    const Term& c = m.control;
    auto need = [&](std::size_t n) {
        if (c.size() < n) throw std::runtime_error("malformed control message " + c.to_string(200));
    };
    auto remote = [&](const Term& t) {
        Pid p = local_pid(t);
        if (p.node == 0) throw std::runtime_error("a peer's own pid is local: " + c.to_string(200));
        return p;
    };
    switch (m.op) {
        case Op::send:
            need(3);
            deliver(local_pid(c[2]), new Signal(SignalKind::Message, Pid{}, std::move(*m.payload)));
            return;
        case Op::send_sender:
            need(3);
            deliver(local_pid(c[2]), new Signal(SignalKind::Message, remote(c[1]), std::move(*m.payload)));
            return;
        case Op::reg_send: {
            need(4);
            if (!c[3].is_atom()) throw std::runtime_error("REG_SEND to a non-atom: " + c.to_string(200));
            auto pid = kernel_.registry().whereis(c[3].get<Atom>());
            if (!pid) return;  // nobody by that name: dropped, as in Erlang
            Pid from = c[1].is_pid() ? c[1].get<Pid>() : Pid{};
            kernel_.send_signal(*pid, new Signal(SignalKind::Message, from, std::move(*m.payload)));
            return;
        }
        case Op::link: {
            need(3);
            Pid from = remote(c[1]), to = local_pid(c[2]);
            {
                std::lock_guard lock(state_mutex_);
                links_.insert({to, from});
            }
            if (to.node == 0 && kernel_.send_signal(to, new Signal(SignalKind::Link, from))) return;
            {
                std::lock_guard lock(state_mutex_);
                links_.erase({to, from});
            }
            // No such process: the linker gets {'EXIT', To, noproc}.
            send_control(to, Term::tuple({op(Op::exit), to, from, atoms::noproc}), nullptr);
            return;
        }
        case Op::unlink:
        case Op::unlink_id: {
            std::size_t at = m.op == Op::unlink_id ? 2 : 1;
            need(at + 2);
            Pid from = remote(c[at]), to = local_pid(c[at + 1]);
            {
                std::lock_guard lock(state_mutex_);
                links_.erase({to, from});
            }
            deliver(to, new Signal(SignalKind::Unlink, from));
            if (m.op == Op::unlink_id) send_control(to, Term::tuple({op(Op::unlink_id_ack), c[1], to, from}), nullptr);
            return;
        }
        case Op::unlink_id_ack:
            return;
        case Op::exit:
        case Op::payload_exit: {
            need(m.op == Op::exit ? 4 : 3);
            Pid from = remote(c[1]), to = local_pid(c[2]);
            {
                std::lock_guard lock(state_mutex_);
                links_.erase({to, from});
            }
            Term reason = m.op == Op::exit ? c[3] : std::move(*m.payload);
            deliver(to, new Signal(SignalKind::LinkExit, from, std::move(reason)));
            return;
        }
        case Op::exit2:
        case Op::payload_exit2: {
            need(m.op == Op::exit2 ? 4 : 3);
            Pid from = remote(c[1]), to = local_pid(c[2]);
            Term reason = m.op == Op::exit2 ? c[3] : std::move(*m.payload);
            deliver(to, new Signal(SignalKind::Exit, from, std::move(reason)));
            return;
        }
        case Op::monitor_p: {
            need(4);
            Pid from = remote(c[1]);
            if (!c[3].is_ref()) throw std::runtime_error("MONITOR_P without a reference: " + c.to_string(200));
            Ref ref = c[3].get<Ref>();
            std::optional<Pid> target;
            std::optional<Atom> name;
            if (c[2].is_atom()) {
                name = c[2].get<Atom>();
                target = kernel_.registry().whereis(*name);
            } else {
                target = local_pid(c[2]);
            }
            if (target && target->node == 0) {
                {
                    std::lock_guard lock(state_mutex_);
                    monitored_[ref] = Watch{from, *target, name};
                }
                if (kernel_.send_signal(*target, new Signal(SignalKind::Monitor, from, Term(), ref))) return;
                std::lock_guard lock(state_mutex_);
                monitored_.erase(ref);
            }
            send_control(target.value_or(Pid{}), Term::tuple({op(Op::monitor_p_exit), c[2], from, ref, atoms::noproc}),
                         nullptr);
            return;
        }
        case Op::demonitor_p: {
            need(4);
            Pid from = remote(c[1]);
            if (!c[3].is_ref()) return;
            Ref ref = c[3].get<Ref>();
            std::optional<Pid> target;
            {
                std::lock_guard lock(state_mutex_);
                if (auto it = monitored_.find(ref); it != monitored_.end()) {
                    target = it->second.target;
                    monitored_.erase(it);
                }
            }
            if (target) deliver(*target, new Signal(SignalKind::Demonitor, from, Term(), ref));
            return;
        }
        case Op::monitor_p_exit:
        case Op::payload_monitor_p_exit: {
            need(m.op == Op::monitor_p_exit ? 5 : 4);
            if (!c[3].is_ref()) return;
            Ref ref = c[3].get<Ref>();
            Pid to = local_pid(c[2]);
            Pid from;
            {
                std::lock_guard lock(state_mutex_);
                auto it = monitors_.find(ref);
                if (it == monitors_.end()) return;  // demonitored meanwhile
                from = it->second.target;
                monitors_.erase(it);
            }
            Term reason = m.op == Op::monitor_p_exit ? c[4] : std::move(*m.payload);
            deliver(to, new Signal(SignalKind::Down, from, std::move(reason), ref));
            return;
        }
        case Op::spawn_request:
            spawn_request(m);
            return;
        case Op::alias_send:
            // We never hand out aliases: replies to us come to our pids.
            spdlog::debug("distribution: ALIAS_SEND from {} ignored", peer_.node.name.name());
            return;
        default:
            spdlog::debug("distribution: operation {} from {} not supported", static_cast<int>(m.op),
                          peer_.node.name.name());
            return;
    }
}

// ---------------------------------------------------------------- remote spawn

// SPAWN_REQUEST {29, ReqId, From, GroupLeader, {M, F, Arity}, Opts} + Args.
// We cannot run Erlang code, but OTP 23+'s rpc:call and erpc arrive this
// way: spawn_request(Node, erpc, execute_call, [Ref, M, F, A], [monitor])
// expects a process whose exit reason carries the result ({Ref, return,
// Value} | {Ref, error, Reason, Stack} | {Ref, exit, Reason}), seen through
// the monitor the request sets up (ref ReqId). Those we serve with the
// module's rpc() (otpp/rpc.hpp); any other function is refused (notsup).
void Connection::spawn_request(ControlMessage& m) {
    const Term& c = m.control;
    if (c.size() < 6 || !c[1].is_ref() || !c[2].is_pid() || !c[4].is_tuple(3) || !m.payload || !m.payload->is_list())
        throw std::runtime_error("malformed SPAWN_REQUEST " + c.to_string(200));
    const Term req_id = c[1];
    const Pid from = c[2].get<Pid>();
    const Term& mfa = c[4];
    const Term& args = *m.payload;
    static const Atom erpc("erpc"), execute_call("execute_call"), execute_cast("execute_cast"), notsup("notsup"),
        monitor_atom("monitor"), link_atom("link"), go("$go"), return_atom("return"), undef("undef");
    const bool call = mfa[0].is_atom(erpc) && mfa[1].is_atom(execute_call) && args.size() == 4 &&
                      args[1].is_atom() && args[2].is_atom() && args[3].is_list();
    const bool cast = mfa[0].is_atom(erpc) && mfa[1].is_atom(execute_cast) && args.size() == 3 &&
                      args[0].is_atom() && args[1].is_atom() && args[2].is_list();
    if (!call && !cast) {
        send_control(Pid{}, Term::tuple({op(Op::spawn_reply), req_id, from, int64_t{0}, notsup}), nullptr);
        return;
    }
    bool monitor = false, link = false;
    if (c[5].is_list())
        for (const Term& o : c[5].elements()) {
            if (o.is_atom(monitor_atom) || (o.is_tuple() && o.size() >= 1 && o[0].is_atom(monitor_atom))) monitor = true;
            if (o.is_atom(link_atom)) link = true;
        }
    // The process waits for $go: its monitor, link and the SPAWN_REPLY are
    // in place (and the reply queued ahead of its DOWN) before it can end.
    Term a = args;
    Pid p = otpp::spawn(
        [a, call] {
            receive([](const Term& t) { return t.is_atom(go); });
            if (!call) {
                rpc::detail::apply(a[0].get<Atom>(), a[1].get<Atom>(), a[2]);
                return;
            }
            const Term& ref = a[0];
            Atom mod = a[1].get<Atom>(), fun = a[2].get<Atom>();
            auto r = rpc::detail::apply(mod, fun, a[3]);
            switch (r.kind) {
                case rpc::detail::Applied::value: otpp::exit(Term::tuple({ref, return_atom, std::move(r.term)}));
                case rpc::detail::Applied::undef:
                    otpp::exit(Term::tuple({ref, atoms::error, undef,
                                            Term::list({Term::tuple({mod, fun, a[3], Term::list({})})})}));
                case rpc::detail::Applied::failed: otpp::exit(Term::tuple({ref, atoms::exit, std::move(r.term)}));
            }
        },
        SpawnOptions{.label = "erpc"});
    int64_t flags = 0;
    if (monitor) {
        Ref ref = req_id.get<Ref>();
        {
            std::lock_guard lock(state_mutex_);
            monitored_[ref] = Watch{from, p, std::nullopt};
        }
        kernel_.send_signal(p, new Signal(SignalKind::Monitor, from, Term(), ref));
        flags |= 2;
    }
    if (link) {
        {
            std::lock_guard lock(state_mutex_);
            links_.insert({p, from});
        }
        kernel_.send_signal(p, new Signal(SignalKind::Link, from));
        flags |= 1;
    }
    send_control(p, Term::tuple({op(Op::spawn_reply), req_id, from, flags, p}), nullptr);
    otpp::send(p, go);
}

// ---------------------------------------------------------------- down

void Connection::went_down(const std::string& why) noexcept {
    std::call_once(down_once_, [&] {
        std::vector<Pid> unbusy;
        {
            std::lock_guard lock(out_mutex_);
            closing_ = true;
            // Nothing more will be written: the suspended go on.
            for (auto& [sender, q] : streams_) drained(sender, q, q.bytes, unbusy);
            streams_.clear();
            turn_.clear();
        }
        tell_unbusy(unbusy);
        out_cv_.notify_all();
        stream_->shutdown();
        std::set<std::pair<Pid, Pid>> links;
        std::unordered_map<Ref, Watch> monitors, monitored;
        {
            std::lock_guard lock(state_mutex_);
            down_.store(true, std::memory_order_release);
            links.swap(links_);
            monitors.swap(monitors_);
            monitored.swap(monitored_);
        }
        // Erlang's rule: every link and monitor across a lost connection
        // fires with noconnection; what the peer monitored here is dropped.
        for (auto& [local, remote] : links)
            kernel_.send_signal(local, new Signal(SignalKind::LinkExit, remote, atoms::noconnection));
        for (auto& [ref, w] : monitors)
            kernel_.send_signal(w.watcher, new Signal(SignalKind::Down, w.target, atoms::noconnection, ref));
        for (auto& [ref, w] : monitored)
            kernel_.send_signal(w.target, new Signal(SignalKind::Demonitor, w.watcher, Term(), ref));
        try {
            if (on_down_) on_down_(*this, why);
        } catch (...) {
        }
    });
}

}  // namespace otpp::dist
