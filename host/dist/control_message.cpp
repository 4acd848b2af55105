#include "control_message.hpp"

#include "external_term.hpp"

namespace otpp::dist {

namespace {
constexpr unsigned char pass_through = 112;

// The _TT forms carry a trace token as their last control element; we do
// not trace, so they are the plain operation.
Op plain(int op) {
    switch (op) {
        case 12: return Op::send;
        case 13: return Op::exit;
        case 16: return Op::reg_send;
        case 18: return Op::exit2;
        case 23: return Op::send_sender;
        case 25: return Op::payload_exit;
        case 27: return Op::payload_exit2;
        case 30: return Op::spawn_request;
        case 32: return Op::spawn_reply;
        case 34: return Op::alias_send;
        default: return static_cast<Op>(op);
    }
}

bool has_payload(Op op) {
    switch (op) {
        case Op::send:
        case Op::reg_send:
        case Op::send_sender:
        case Op::payload_exit:
        case Op::payload_exit2:
        case Op::payload_monitor_p_exit:
        case Op::spawn_request:
        case Op::alias_send: return true;
        default: return false;
    }
}
}  // namespace

std::string make_packet(const Term& control, const Term* payload, const NodeTable& nodes) {
    std::string out;
    out.push_back(static_cast<char>(pass_through));
    encode_with_version(control, out, nodes);
    if (payload) encode_with_version(*payload, out, nodes);
    return out;
}

ControlMessage parse_packet(std::string_view packet, NodeTable& nodes) {
    if (packet.empty()) throw std::runtime_error("empty distribution packet");
    if (static_cast<unsigned char>(packet[0]) != pass_through)
        throw std::runtime_error("distribution packet with header " + std::to_string(static_cast<unsigned char>(packet[0])) +
                                 " (only pass-through packets are negotiated)");
    packet.remove_prefix(1);
    ControlMessage m;
    m.control = decode_with_version(packet, nodes);
    if (!m.control.is_tuple() || m.control.size() < 1 || !m.control[0].is_integer())
        throw std::runtime_error("malformed control message " + m.control.to_string(200));
    m.op = plain(static_cast<int>(m.control[0].get<int64_t>()));
    if (has_payload(m.op)) {
        if (packet.empty()) throw std::runtime_error("control message " + m.control.to_string(200) + " lacks its payload");
        m.payload = decode_with_version(packet, nodes);
    }
    if (!packet.empty()) throw std::runtime_error("trailing bytes after control message " + m.control.to_string(200));
    return m;
}

}  // namespace otpp::dist
