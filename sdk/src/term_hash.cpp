// Structural hash of boxed terms, consistent with exact equality (==).
//
// Walks the term in pre-order with an explicit stack and folds a token per
// node (kind, size, payload) into a running state. Equal terms have identical
// normalized representations (sorted unique map keys, list tails spliced), so
// they produce identical token streams. Immediates at the top level are hashed
// inline by Term::hash(); nested ones use the tokens below, which is fine
// because equal terms always take the same path.
#include <cstdint>
#include <functional>
#include <string_view>

#include "otpp/term.hpp"
#include "small_stack.hpp"
#include "term_access.hpp"

namespace otpp::detail {

namespace {

struct Hasher {
    std::uint64_t state = 0x243F6A8885A308D3ull;
    void add(std::uint64_t x) noexcept { state = mix_hash(state ^ (x + 0x9E3779B97F4A7C15ull + (state << 6))); }
};

}  // namespace

std::size_t hash_slow(const Term& root) noexcept {
    struct Frame {
        const void* base;
        std::uint32_t n;  // number of terms (map: 2 * entries)
        std::uint32_t i;
        bool map;
    };
    SmallStack<Frame, 24> st;
    Hasher h;
    auto visit = [&](const Term& t) {
        const auto kind = static_cast<std::uint64_t>(t.kind());
        h.add(kind | (static_cast<std::uint64_t>(TermAccess::aux(t)) << 8));
        switch (t.kind()) {
            case TermKind::Tuple:
                if (TermAccess::aux(t) != 0) st.push({TermAccess::tuple_elements(t), TermAccess::aux(t), 0, false});
                break;
            case TermKind::List:
                st.push({&TermAccess::list_tail(t), TermAccess::aux(t) + 1, 0, false});
                break;
            case TermKind::Map:
                if (TermAccess::aux(t) != 0) st.push({TermAccess::map_entries(t), TermAccess::aux(t) * 2, 0, true});
                break;
            case TermKind::Binary:
                h.add(std::hash<std::string_view>{}(TermAccess::binary_bytes(t)));
                break;
            case TermKind::Nil: break;
            default: h.add(TermAccess::bits(t)); break;  // immediates: the payload is canonical
        }
    };
    visit(root);
    while (!st.empty()) {
        Frame& f = st.back();
        if (f.i == f.n) {
            st.pop();
            continue;
        }
        const std::uint32_t i = f.i++;
        if (f.map) {
            const MapEntry& e = static_cast<const MapEntry*>(f.base)[i / 2];
            visit(i % 2 == 0 ? e.key : e.value);
        } else {
            visit(static_cast<const Term*>(f.base)[i]);
        }
    }
    return static_cast<std::size_t>(h.state);
}

}  // namespace otpp::detail
