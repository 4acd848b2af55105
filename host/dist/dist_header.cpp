#include "dist_header.hpp"

#include <stdexcept>
#include <string>

namespace otpp::dist {

namespace {
[[noreturn]] void malformed(const std::string& what) {
    throw std::runtime_error("malformed distribution header: " + what);
}
unsigned byte(std::string_view& in, const char* what) {
    if (in.empty()) malformed(std::string("truncated at ") + what);
    auto b = static_cast<unsigned char>(in[0]);
    in.remove_prefix(1);
    return b;
}
}  // namespace

void AtomCache::read_refs(std::string_view& in, std::vector<Atom>& refs) {
    refs.clear();
    const unsigned n = byte(in, "the number of atom cache references");
    if (n == 0) return;
    // Four bits a reference (new-entry flag, segment), two a byte, low half
    // first; then one half-byte whose lowest bit says "long atoms".
    const std::size_t flag_bytes = n / 2 + 1;
    if (in.size() < flag_bytes) malformed("truncated flags");
    std::string_view flags = in.substr(0, flag_bytes);
    in.remove_prefix(flag_bytes);
    auto nibble = [&](unsigned i) {
        auto b = static_cast<unsigned char>(flags[i / 2]);
        return (i % 2 == 0) ? (b & 0x0F) : (b >> 4);
    };
    const bool long_atoms = nibble(n) & 1;
    refs.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
        const unsigned f = nibble(i);
        const std::size_t index = (f & 7) * 256 + byte(in, "an internal segment index");
        if (f & 8) {  // a new entry: its text follows
            std::size_t len = byte(in, "an atom length");
            if (long_atoms) len = len << 8 | byte(in, "an atom length");
            if (in.size() < len) malformed("truncated atom text");
            Atom a{std::string_view(in.data(), len)};
            in.remove_prefix(len);
            entries_[index] = a;
            refs.push_back(a);
        } else {
            if (!entries_[index]) malformed("reference to atom cache entry " + std::to_string(index) + ", never filled");
            refs.push_back(*entries_[index]);
        }
    }
}

}  // namespace otpp::dist
