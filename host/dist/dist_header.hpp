// The distribution header's atom cache (DFLAG_DIST_HDR_ATOM_CACHE), receiving
// side. A BEAM that negotiated it sends every message as
//   131, 68, NumberOfAtomCacheRefs, Flags, AtomCacheRefs, Control, [Payload]
// (fragments: 131, 69, SequenceId, FragmentId, then the same from
// NumberOfAtomCacheRefs on), and its terms name atoms by ATOM_CACHE_REF, an
// index into the header's references. A reference either brings a new cache
// entry (its text) or names an entry an earlier message brought. We never
// send references (NumberOfAtomCacheRefs = 0), which every peer accepts.
//
// Not thread-safe: a connection's reader owns its cache.
#pragma once

#include <otpp/atom.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace otpp::dist {

class AtomCache {
public:
    static constexpr std::size_t size = 2048;  // 8 segments of 256

    // Reads NumberOfAtomCacheRefs, Flags and AtomCacheRefs from the front of
    // `in` (advancing it), updating the cache; `refs` receives the atoms in
    // reference order. Throws std::runtime_error for a malformed header or a
    // reference to an entry never filled.
    void read_refs(std::string_view& in, std::vector<Atom>& refs);

private:
    std::array<std::optional<Atom>, size> entries_{};
};

}  // namespace otpp::dist
