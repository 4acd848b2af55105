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

EncodedMessage encode_message(const Term& control, const Term* payload, const NodeTable& nodes) {
    EncodedMessage m;
    encode(control, m.body, nodes);
    m.control_size = m.body.size();
    if (payload) encode(*payload, m.body, nodes);
    return m;
}

std::string pass_through_packet(const EncodedMessage& m) {
    std::string out;
    out.reserve(m.body.size() + 3);
    out.push_back(static_cast<char>(pass_through));
    out.push_back(static_cast<char>(etf_version));
    out.append(m.body, 0, m.control_size);
    if (m.body.size() > m.control_size) {
        out.push_back(static_cast<char>(etf_version));
        out.append(m.body, m.control_size);
    }
    return out;
}

namespace {
// Control, then the payload if the operation has one; nothing after.
ControlMessage parse_terms(std::string_view in, NodeTable& nodes, bool versioned, std::span<const Atom> refs = {}) {
    auto next = [&] { return versioned ? decode_with_version(in, nodes) : decode(in, nodes, refs); };
    ControlMessage m;
    m.control = next();
    if (!m.control.is_tuple() || m.control.size() < 1 || !m.control[0].is_integer())
        throw std::runtime_error("malformed control message " + m.control.to_string(200));
    m.op = plain(static_cast<int>(m.control[0].get<int64_t>()));
    if (has_payload(m.op)) {
        if (in.empty()) throw std::runtime_error("control message " + m.control.to_string(200) + " lacks its payload");
        m.payload = next();
    }
    if (!in.empty()) throw std::runtime_error("trailing bytes after control message " + m.control.to_string(200));
    return m;
}
}  // namespace

ControlMessage parse_packet(std::string_view packet, NodeTable& nodes) {
    if (packet.empty()) throw std::runtime_error("empty distribution packet");
    auto first = static_cast<unsigned char>(packet[0]);
    if (first != pass_through)
        throw std::runtime_error("distribution packet with an unknown header (" + std::to_string(first) + ")");
    return parse_terms(packet.substr(1), nodes, true);
}

ControlMessage parse_body(std::string_view body, NodeTable& nodes, std::span<const Atom> atom_refs) {
    return parse_terms(body, nodes, false, atom_refs);
}

std::string normal_header_packet(const EncodedMessage& m) {
    std::string out;
    out.reserve(m.body.size() + 3);
    out.push_back(static_cast<char>(etf_version));
    out.push_back(static_cast<char>(68));
    out.push_back('\0');  // no atom cache references
    out.append(m.body);
    return out;
}

}  // namespace otpp::dist
