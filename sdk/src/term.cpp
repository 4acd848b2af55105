// Term construction, box lifetime and structural access.
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "otpp/term.hpp"
#include "small_stack.hpp"
#include "term_access.hpp"

namespace otpp {

using detail::Box;
using detail::TermAccess;

namespace {

// ----- live box accounting ------------------------------------------------------
// Sharded by box address so that allocation and release of the same box hit
// the same counter while unrelated threads rarely share a cache line.
struct alignas(64) Shard {
    std::atomic<std::int64_t> n{0};
};
constexpr unsigned shard_bits = 6;
constinit std::array<Shard, 1u << shard_bits> live_shards{};

Shard& shard_for(const void* p) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p) >> 4;
    return live_shards[static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ull) >> (64 - shard_bits))];
}

constexpr std::size_t max_size = std::numeric_limits<std::uint32_t>::max();

void check_size(std::size_t n, const char* what) {
    if (n > max_size)
        throw BadArg(std::string(what) + " too large: " + std::to_string(n) + " (maximum " +
                     std::to_string(max_size) + ")");
}

// Builds a list box from `n` elements produced by `put(slot_index, storage)`
// plus a tail that is not a list.
template <class Fill>
Term build_list(std::size_t n, Term tail, Fill&& fill) {
    // Splice a list tail in, so the tail slot never holds a list.
    std::size_t extra = 0;
    if (tail.kind() == TermKind::List) extra = TermAccess::aux(tail);
    const std::size_t total = n + extra;
    check_size(total, "list");
    Box* box = detail::allocate_box((total + 1) * sizeof(Term), static_cast<std::uint32_t>(total));
    fill(box);  // writes slots 1..n
    if (extra != 0) {
        const Term* rest = TermAccess::list_elements(tail);
        for (std::size_t i = 0; i < extra; ++i) ::new (TermAccess::slot(box, 1 + n + i)) Term(rest[i]);
        ::new (TermAccess::slot(box, 0)) Term(TermAccess::list_tail(tail));
    } else {
        ::new (TermAccess::slot(box, 0)) Term(std::move(tail));
    }
    return TermAccess::make(TermKind::List, box, static_cast<std::uint32_t>(total));
}

Term build_map_from_sorted_unique(std::vector<std::pair<Term, Term>>& entries) {
    const std::size_t n = entries.size();
    if (n == 0) return TermAccess::make(TermKind::Map, nullptr, 0);
    check_size(n, "map");
    Box* box = detail::allocate_box(n * sizeof(MapEntry), static_cast<std::uint32_t>(n));
    MapEntry* out = TermAccess::map_entries(box);
    for (std::size_t i = 0; i < n; ++i)
        ::new (static_cast<void*>(out + i)) MapEntry{std::move(entries[i].first), std::move(entries[i].second)};
    return TermAccess::make(TermKind::Map, box, static_cast<std::uint32_t>(n));
}

// Binary search over a map's entries; returns the first index whose key is >= key.
std::size_t lower_bound_key(std::span<const MapEntry> es, const Term& key) noexcept {
    std::size_t lo = 0;
    std::size_t hi = es.size();
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if ((es[mid].key <=> key) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

}  // namespace

// ----- boxes ------------------------------------------------------------------------

namespace detail {

Box* allocate_box(std::size_t payload_bytes, std::uint32_t size) {
    void* mem = ::operator new(sizeof(Box) + payload_bytes);
    Box* box = ::new (mem) Box{{1}, size};
    shard_for(box).n.fetch_add(1, std::memory_order_relaxed);
    return box;
}

void deallocate_box(Box* box) noexcept {
    shard_for(box).n.fetch_sub(1, std::memory_order_relaxed);
    box->~Box();
    ::operator delete(static_cast<void*>(box));
}

std::int64_t live_boxes() noexcept {
    std::int64_t total = 0;
    for (const Shard& s : live_shards) total += s.n.load(std::memory_order_relaxed);
    return total;
}

void free_box(Box* root, TermKind root_kind) noexcept {
    // Iterative: a box's children whose count drops to zero are queued rather
    // than freed recursively, so a million-deep term cannot overflow the stack.
    struct Pending {
        Box* box;
        TermKind kind;
    };
    SmallStack<Pending, 32> pending;
    auto drop = [&pending](const Term& child) {
        if (TermAccess::boxed(child)) {
            Box* b = TermAccess::box(child);
            if (b->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                try {
                    pending.push({b, child.kind()});
                } catch (...) {
                    // Out of memory while growing the stack: recurse instead.
                    free_box(b, child.kind());
                }
            }
        }
    };
    Pending cur{root, root_kind};
    for (;;) {
        Box* b = cur.box;
        const std::uint32_t n = b->size;
        // The children's storage is simply dropped after their references are
        // released: Term's destructor has no other effect.
        switch (cur.kind) {
            case TermKind::Tuple: {
                const Term* t = TermAccess::terms(b);
                for (std::uint32_t i = 0; i < n; ++i) drop(t[i]);
                break;
            }
            case TermKind::List: {
                const Term* t = TermAccess::terms(b);
                for (std::uint32_t i = 0; i <= n; ++i) drop(t[i]);
                break;
            }
            case TermKind::Map: {
                const MapEntry* e = TermAccess::map_entries(b);
                for (std::uint32_t i = 0; i < n; ++i) {
                    drop(e[i].key);
                    drop(e[i].value);
                }
                break;
            }
            default: break;
        }
        deallocate_box(b);
        if (pending.empty()) return;
        cur = pending.pop_value();
    }
}

Term TermAccess::tuple_moving(Term* first, std::size_t n) {
    if (n == 0) return make(TermKind::Tuple, nullptr, 0);
    check_size(n, "tuple");
    Box* box = allocate_box(n * sizeof(Term), static_cast<std::uint32_t>(n));
    for (std::size_t i = 0; i < n; ++i) ::new (slot(box, i)) Term(std::move(first[i]));
    return make(TermKind::Tuple, box, static_cast<std::uint32_t>(n));
}

Term TermAccess::list_moving(Term* first, std::size_t n, Term tail) {
    if (n == 0) return tail;
    return build_list(n, std::move(tail), [&](Box* box) {
        for (std::size_t i = 0; i < n; ++i) ::new (slot(box, 1 + i)) Term(std::move(first[i]));
    });
}

}  // namespace detail

// ----- errors ------------------------------------------------------------------------

const char* kind_name(TermKind kind) noexcept {
    switch (kind) {
        case TermKind::Integer: return "integer";
        case TermKind::Float: return "float";
        case TermKind::Atom: return "atom";
        case TermKind::Reference: return "reference";
        case TermKind::Pid: return "pid";
        case TermKind::Tuple: return "tuple";
        case TermKind::Map: return "map";
        case TermKind::Nil: return "nil";
        case TermKind::List: return "list";
        case TermKind::Binary: return "binary";
    }
    return "?";
}

namespace {
// Terms in error messages are truncated so a huge message cannot produce a huge error.
constexpr std::size_t error_term_chars = 200;
}  // namespace

namespace detail {

void throw_bad_kind(const char* expected, const Term& got) {
    throw BadArg(std::string("expected ") + expected + ", got " + got.to_string(error_term_chars));
}

void throw_bad_int_range(const Term& got, std::int64_t min, std::uint64_t max) {
    throw BadArg("expected integer in range " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
                 got.to_string(error_term_chars));
}

void throw_bad_index(const Term& container, std::size_t index) {
    const std::size_t n = container.kind() == TermKind::Nil ? 0 : TermAccess::aux(container);
    throw BadArg("index " + std::to_string(index) + " out of range for " + kind_name(container.kind()) +
                 " of " + std::to_string(n) + " elements: " + container.to_string(error_term_chars));
}

}  // namespace detail

void Term::throw_uint_range(unsigned long long v) {
    throw BadArg("integer " + std::to_string(v) + " out of 64-bit signed range");
}

void Term::throw_non_finite(double v) {
    throw BadArg(std::string("float must be finite, got ") + (v != v ? "NaN" : v > 0 ? "+inf" : "-inf"));
}

// ----- factories -------------------------------------------------------------------

Term Term::binary(std::string_view bytes) {
    if (bytes.empty()) return Term(TermKind::Binary, nullptr, 0);
    check_size(bytes.size(), "binary");
    Box* box = detail::allocate_box(bytes.size(), static_cast<std::uint32_t>(bytes.size()));
    std::memcpy(TermAccess::bytes(box), bytes.data(), bytes.size());
    return Term(TermKind::Binary, box, static_cast<std::uint32_t>(bytes.size()));
}

Term Term::binary(std::span<const std::byte> bytes) {
    return binary(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Term Term::tuple(std::initializer_list<Term> elements) {
    return tuple(std::span<const Term>(elements.begin(), elements.size()));
}

Term Term::tuple(std::span<const Term> elements) {
    const std::size_t n = elements.size();
    if (n == 0) return Term(TermKind::Tuple, nullptr, 0);
    check_size(n, "tuple");
    Box* box = detail::allocate_box(n * sizeof(Term), static_cast<std::uint32_t>(n));
    for (std::size_t i = 0; i < n; ++i) ::new (TermAccess::slot(box, i)) Term(elements[i]);
    return Term(TermKind::Tuple, box, static_cast<std::uint32_t>(n));
}

Term Term::tuple(std::vector<Term>&& elements) {
    Term t = TermAccess::tuple_moving(elements.data(), elements.size());
    elements.clear();
    return t;
}

Term Term::list(std::initializer_list<Term> elements) {
    return list(std::span<const Term>(elements.begin(), elements.size()));
}

Term Term::list(std::span<const Term> elements, Term tail) {
    const std::size_t n = elements.size();
    if (n == 0) return tail;
    return build_list(n, std::move(tail), [&](Box* box) {
        for (std::size_t i = 0; i < n; ++i) ::new (TermAccess::slot(box, 1 + i)) Term(elements[i]);
    });
}

Term Term::list(std::vector<Term>&& elements, Term tail) {
    Term t = TermAccess::list_moving(elements.data(), elements.size(), std::move(tail));
    elements.clear();
    return t;
}

Term Term::cons(Term head, Term tail) {
    return TermAccess::list_moving(&head, 1, std::move(tail));
}

Term Term::map(std::initializer_list<std::pair<Term, Term>> entries) {
    return map(std::vector<std::pair<Term, Term>>(entries));
}

Term Term::map(std::vector<std::pair<Term, Term>> entries) {
    // Stable sort keeps duplicates in argument order, so "last wins" is the
    // last of each run of equal keys.
    auto less = [](const std::pair<Term, Term>& a, const std::pair<Term, Term>& b) {
        return (a.first <=> b.first) < 0;
    };
    if (!std::is_sorted(entries.begin(), entries.end(), less))
        std::stable_sort(entries.begin(), entries.end(), less);
    std::size_t out = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (out > 0 && entries[out - 1].first == entries[i].first) {
            entries[out - 1].second = std::move(entries[i].second);
        } else {
            if (out != i) entries[out] = std::move(entries[i]);
            ++out;
        }
    }
    entries.resize(out);
    return build_map_from_sorted_unique(entries);
}

// ----- maps ------------------------------------------------------------------------

const Term* Term::find(const Term& key) const {
    const auto es = entries();
    const std::size_t i = lower_bound_key(es, key);
    if (i < es.size() && es[i].key == key) return &es[i].value;
    return nullptr;
}

Term Term::put(Term key, Term value) const {
    const auto es = entries();
    const std::size_t i = lower_bound_key(es, key);
    const bool replace = i < es.size() && es[i].key == key;
    if (replace && es[i].value == value) return *this;
    const std::size_t n = es.size() + (replace ? 0 : 1);
    check_size(n, "map");
    Box* box = detail::allocate_box(n * sizeof(MapEntry), static_cast<std::uint32_t>(n));
    MapEntry* out = TermAccess::map_entries(box);
    std::size_t o = 0;
    for (std::size_t k = 0; k < i; ++k) ::new (static_cast<void*>(out + o++)) MapEntry(es[k]);
    ::new (static_cast<void*>(out + o++)) MapEntry{std::move(key), std::move(value)};
    for (std::size_t k = replace ? i + 1 : i; k < es.size(); ++k)
        ::new (static_cast<void*>(out + o++)) MapEntry(es[k]);
    return Term(TermKind::Map, box, static_cast<std::uint32_t>(n));
}

Term Term::erase(const Term& key) const {
    const auto es = entries();
    const std::size_t i = lower_bound_key(es, key);
    if (i == es.size() || !(es[i].key == key)) return *this;
    const std::size_t n = es.size() - 1;
    if (n == 0) return Term(TermKind::Map, nullptr, 0);
    Box* box = detail::allocate_box(n * sizeof(MapEntry), static_cast<std::uint32_t>(n));
    MapEntry* out = TermAccess::map_entries(box);
    std::size_t o = 0;
    for (std::size_t k = 0; k < es.size(); ++k)
        if (k != i) ::new (static_cast<void*>(out + o++)) MapEntry(es[k]);
    return Term(TermKind::Map, box, static_cast<std::uint32_t>(n));
}

}  // namespace otpp
