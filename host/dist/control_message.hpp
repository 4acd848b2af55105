// Distribution control messages: what one node tells another about its
// processes (the "operations" of Erlang's distribution protocol, erts'
// "Distribution Protocol" chapter). A packet after the handshake is
//   112 ('p', pass-through), Control, [Payload]
// each term in the External Term Format with its version byte (131); Control is a tuple whose first element is the
// operation, Payload (a message, or an exit reason for the PAYLOAD_* forms)
// follows it for some operations.
#pragma once

#include "node_table.hpp"

#include <otpp/term.hpp>

#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace otpp::dist {

enum class Op : int {
    link = 1,
    send = 2,
    exit = 3,
    unlink = 4,
    node_link = 5,
    reg_send = 6,
    group_leader = 7,
    exit2 = 8,
    send_tt = 12,
    exit_tt = 13,
    reg_send_tt = 16,
    exit2_tt = 18,
    monitor_p = 19,
    demonitor_p = 20,
    monitor_p_exit = 21,
    send_sender = 22,
    send_sender_tt = 23,
    payload_exit = 24,
    payload_exit_tt = 25,
    payload_exit2 = 26,
    payload_exit2_tt = 27,
    payload_monitor_p_exit = 28,
    spawn_request = 29,
    spawn_request_tt = 30,
    spawn_reply = 31,
    spawn_reply_tt = 32,
    alias_send = 33,
    alias_send_tt = 34,
    unlink_id = 35,
    unlink_id_ack = 36,
};

// One received control message, its operation and its terms, with the
// trace-token (_TT) forms folded into the plain ones.
struct ControlMessage {
    Op op{};
    Term control;                 // the whole control tuple
    std::optional<Term> payload;  // the message or exit reason, if any
};

// A control message and its payload, encoded without version bytes (as
// they follow a distribution header); control_size splits the two.
struct EncodedMessage {
    std::string body;
    std::size_t control_size = 0;
};
EncodedMessage encode_message(const Term& control, const Term* payload, const NodeTable& nodes);

// The whole message in one packet: 'p', 131 control, 131 payload.
std::string pass_through_packet(const EncodedMessage& m);

// Parses a pass-through packet (without its 4-byte length). Throws std::runtime_error (or the codec's DecodeError) with a
// clear message if it is malformed.
ControlMessage parse_packet(std::string_view packet, NodeTable& nodes);
// Parses what follows a distribution header (terms without version bytes;
// ATOM_CACHE_REF i is atom_refs[i]).
ControlMessage parse_body(std::string_view body, NodeTable& nodes, std::span<const Atom> atom_refs);

// The whole message after a normal distribution header without atom cache
// references: 131, 68, 0, control, payload (for peers that negotiated
// DFLAG_DIST_HDR_ATOM_CACHE, which then accept no pass-through packets).
std::string normal_header_packet(const EncodedMessage& m);

}  // namespace otpp::dist
