#include "fragments.hpp"

#include <stdexcept>

namespace otpp::dist {

namespace {
constexpr unsigned char version = 131, first_tag = 69, cont_tag = 70;

void put64(std::string& out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put32(std::string& out, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t get64(std::string_view s, std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
    return v;
}
}  // namespace

FragmentWriter::FragmentWriter(EncodedMessage message, std::uint64_t sequence)
    : message_(std::move(message)),
      sequence_(sequence),
      fragment_id_((message_.body.size() + fragment_size - 1) / fragment_size) {}

void FragmentWriter::next(std::string& out) {
    const bool first = offset_ == 0;
    std::size_t n = std::min(fragment_size, message_.body.size() - offset_);
    std::size_t header = first ? 2 + 16 + 1 : 2 + 16;
    put32(out, static_cast<std::uint32_t>(header + n));
    out.push_back(static_cast<char>(version));
    out.push_back(static_cast<char>(first ? first_tag : cont_tag));
    put64(out, sequence_);
    put64(out, fragment_id_);
    if (first) out.push_back('\0');  // no atom cache refs
    out.append(message_.body, offset_, n);
    offset_ += n;
    --fragment_id_;
}

bool Reassembler::take(std::string_view packet, AtomCache& cache, std::optional<Whole>& whole) {
    whole.reset();
    if (packet.size() < 2 || static_cast<unsigned char>(packet[0]) != version) return false;
    auto tag = static_cast<unsigned char>(packet[1]);
    if (tag != first_tag && tag != cont_tag) return false;
    if (packet.size() < 18) throw std::runtime_error("truncated fragment header");
    std::uint64_t seq = get64(packet, 2), id = get64(packet, 10);
    if (id == 0) throw std::runtime_error("fragment with id 0");
    std::string_view data = packet.substr(18);
    if (tag == first_tag) {
        if (partial_.count(seq)) throw std::runtime_error("a new message reuses fragment sequence " + std::to_string(seq));
        Whole message;
        cache.read_refs(data, message.atom_refs);
        message.body.assign(data);
        if (id == 1) {
            whole.emplace(std::move(message));
            return true;
        }
        partial_.emplace(seq, Partial{id - 1, std::move(message)});
        return true;
    }
    auto it = partial_.find(seq);
    if (it == partial_.end()) throw std::runtime_error("continuation of unknown fragment sequence " + std::to_string(seq));
    if (id != it->second.expect) {
        partial_.erase(it);
        throw std::runtime_error("fragment " + std::to_string(id) + " out of order in sequence " + std::to_string(seq));
    }
    it->second.message.body.append(data);
    if (id == 1) {
        whole.emplace(std::move(it->second.message));
        partial_.erase(it);
    } else {
        it->second.expect = id - 1;
    }
    return true;
}

}  // namespace otpp::dist
