// Term equality (=:=), standard term order (<=>) and numeric equality (==).
//
// All three walk both terms with an explicit stack of "compare these two
// sequences" frames instead of recursing, so nesting depth costs heap, not
// C stack.
#include <bit>
#include <cmath>
#include <compare>
#include <cstdint>
#include <cstring>

#include "otpp/term.hpp"
#include "small_stack.hpp"
#include "term_access.hpp"

namespace otpp {

using detail::TermAccess;

namespace {

// Rank in the cross-kind order; both number kinds share rank 0.
int rank(TermKind k) noexcept {
    return k == TermKind::Integer ? 0 : static_cast<int>(k) - 1;
}

int sign(int v) noexcept { return (v > 0) - (v < 0); }

template <class T>
int cmp3(const T& a, const T& b) noexcept {
    return (a > b) - (a < b);
}

// Exact comparison of an int64 with a finite double: -1, 0 or 1.
int compare_int_double(std::int64_t i, double d) noexcept {
    constexpr double two63 = 9223372036854775808.0;  // 2^63, exact
    if (d >= two63) return -1;
    if (d < -two63) return 1;
    // |d| < 2^63 (or d == -2^63): its integral part converts to int64 exactly.
    const double whole = std::trunc(d);
    const auto w = static_cast<std::int64_t>(whole);
    if (i != w) return i < w ? -1 : 1;
    const double frac = d - whole;  // exact
    return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

int compare_doubles(double a, double b, bool numeric) noexcept {
    if (a < b) return -1;
    if (a > b) return 1;
    if (numeric) return 0;
    // Equal values: only 0.0 and -0.0 differ in exact mode; -0.0 first.
    return cmp3(!std::signbit(a), !std::signbit(b));
}

// Compares two numbers. In exact mode an integer sorts before an equal float.
int compare_numbers(const Term& a, const Term& b, bool numeric) noexcept {
    const bool ai = a.kind() == TermKind::Integer;
    const bool bi = b.kind() == TermKind::Integer;
    if (ai && bi) return cmp3(TermAccess::integer(a), TermAccess::integer(b));
    if (!ai && !bi) return compare_doubles(TermAccess::floating(a), TermAccess::floating(b), numeric);
    if (ai) {
        const int c = compare_int_double(TermAccess::integer(a), TermAccess::floating(b));
        return c != 0 || numeric ? c : -1;
    }
    const int c = -compare_int_double(TermAccess::integer(b), TermAccess::floating(a));
    return c != 0 || numeric ? c : 1;
}

Pid pid_of(const Term& t) noexcept { return *t.try_get<Pid>(); }
Ref ref_of(const Term& t) noexcept { return *t.try_get<Ref>(); }

int compare_bytes(std::string_view a, std::string_view b) noexcept { return sign(a.compare(b)); }

// A pending comparison of two sequences of n terms.
//   Elements: a[i] vs b[i] (arrays of Term)
//   Keys / Values: the keys / values of two MapEntry arrays
//   Const: no terms; the comparison result is `result` (list length mismatch)
struct Frame {
    enum Access : std::uint8_t { Elements, Keys, Values, Const };
    const void* a;
    const void* b;
    std::uint32_t n;
    std::uint32_t i;
    Access access;
    bool numeric;
    std::int8_t result;
};

using Stack = detail::SmallStack<Frame, 24>;

const Term& at(const void* base, Frame::Access access, std::uint32_t i) noexcept {
    switch (access) {
        case Frame::Keys: return static_cast<const MapEntry*>(base)[i].key;
        case Frame::Values: return static_cast<const MapEntry*>(base)[i].value;
        default: return static_cast<const Term*>(base)[i];
    }
}

// Compares the roots of a and b; containers whose outcome depends on their
// children push frames instead. Returns non-zero when decided.
int step(const Term& a, const Term& b, bool numeric, Stack& st) {
    const TermKind ka = a.kind();
    const TermKind kb = b.kind();
    const bool a_num = ka == TermKind::Integer || ka == TermKind::Float;
    const bool b_num = kb == TermKind::Integer || kb == TermKind::Float;
    if (a_num && b_num) return compare_numbers(a, b, numeric);
    if (ka != kb) return cmp3(rank(ka), rank(kb));
    switch (ka) {
        case TermKind::Atom: {
            const Atom x = TermAccess::atom(a);
            const Atom y = TermAccess::atom(b);
            return x == y ? 0 : sign(x.name().compare(y.name()));
        }
        case TermKind::Reference: {
            const auto c = ref_of(a) <=> ref_of(b);
            return c < 0 ? -1 : c > 0 ? 1 : 0;
        }
        case TermKind::Pid: {
            const auto c = pid_of(a) <=> pid_of(b);
            return c < 0 ? -1 : c > 0 ? 1 : 0;
        }
        case TermKind::Nil: return 0;
        case TermKind::Binary:
            return TermAccess::box(a) == TermAccess::box(b)
                       ? 0
                       : compare_bytes(TermAccess::binary_bytes(a), TermAccess::binary_bytes(b));
        case TermKind::Tuple: {
            const std::uint32_t n = TermAccess::aux(a);
            if (n != TermAccess::aux(b)) return cmp3(n, TermAccess::aux(b));
            if (n != 0 && TermAccess::box(a) != TermAccess::box(b))
                st.push({TermAccess::tuple_elements(a), TermAccess::tuple_elements(b), n, 0, Frame::Elements,
                         numeric, 0});
            return 0;
        }
        case TermKind::Map: {
            const std::uint32_t n = TermAccess::aux(a);
            if (n != TermAccess::aux(b)) return cmp3(n, TermAccess::aux(b));
            if (n != 0 && TermAccess::box(a) != TermAccess::box(b)) {
                const MapEntry* ea = TermAccess::map_entries(a);
                const MapEntry* eb = TermAccess::map_entries(b);
                // Keys first (always exact, as in Erlang), then values.
                st.push({ea, eb, n, 0, Frame::Values, numeric, 0});
                st.push({ea, eb, n, 0, Frame::Keys, false, 0});
            }
            return 0;
        }
        case TermKind::List: {
            if (TermAccess::box(a) == TermAccess::box(b)) return 0;
            const std::uint32_t na = TermAccess::aux(a);
            const std::uint32_t nb = TermAccess::aux(b);
            // After the common prefix: equal lengths compare the tails; otherwise
            // the shorter side's tail (never a list) meets the longer side's
            // remaining list, so the kind order decides.
            if (na == nb) {
                st.push({&TermAccess::list_tail(a), &TermAccess::list_tail(b), 1, 0, Frame::Elements, numeric, 0});
            } else if (na < nb) {
                const int r = cmp3(rank(TermAccess::list_tail(a).kind()), rank(TermKind::List));
                st.push({nullptr, nullptr, 0, 0, Frame::Const, numeric, static_cast<std::int8_t>(r)});
            } else {
                const int r = cmp3(rank(TermKind::List), rank(TermAccess::list_tail(b).kind()));
                st.push({nullptr, nullptr, 0, 0, Frame::Const, numeric, static_cast<std::int8_t>(r)});
            }
            st.push({TermAccess::list_elements(a), TermAccess::list_elements(b), na < nb ? na : nb, 0,
                     Frame::Elements, numeric, 0});
            return 0;
        }
        default: return 0;
    }
}

int compare_terms(const Term& x, const Term& y, bool numeric) {
    Stack st;
    if (const int r = step(x, y, numeric, st)) return r;
    while (!st.empty()) {
        Frame& f = st.back();
        if (f.access == Frame::Const) {
            const int r = f.result;
            st.pop();
            if (r != 0) return r;
            continue;
        }
        if (f.i == f.n) {
            st.pop();
            continue;
        }
        const Term& a = at(f.a, f.access, f.i);
        const Term& b = at(f.b, f.access, f.i);
        const bool num = f.numeric;
        ++f.i;  // before step(): it may push and invalidate f
        if (const int r = step(a, b, num, st)) return r;
    }
    return 0;
}

}  // namespace

std::strong_ordering operator<=>(const Term& a, const Term& b) noexcept {
    const int r = compare_terms(a, b, false);
    return r < 0 ? std::strong_ordering::less : r > 0 ? std::strong_ordering::greater : std::strong_ordering::equal;
}

bool equal_numeric(const Term& a, const Term& b) noexcept { return compare_terms(a, b, true) == 0; }

namespace detail {

// Exact equality of two terms of the same boxed kind that are not the same
// box. Cheaper than the order: kinds and sizes must match exactly, atoms
// compare by index and binaries by memcmp.
bool equal_slow(const Term& x, const Term& y) noexcept {
    struct EqFrame {
        const void* a;
        const void* b;
        std::uint32_t n;
        std::uint32_t i;
        bool map;  // entries of two maps (2n terms)
    };
    SmallStack<EqFrame, 24> st;
    // Returns false if a and b differ at the root, pushing children otherwise.
    auto root = [&st](const Term& a, const Term& b) -> bool {
        if (a.kind() != b.kind() || TermAccess::aux(a) != TermAccess::aux(b)) return false;
        if (TermAccess::bits(a) == TermAccess::bits(b)) return true;  // same immediate or box
        switch (a.kind()) {
            case TermKind::Tuple:
                st.push({TermAccess::tuple_elements(a), TermAccess::tuple_elements(b), TermAccess::aux(a), 0, false});
                return true;
            case TermKind::List:
                // Tail slot followed by the elements: n + 1 terms.
                st.push({&TermAccess::list_tail(a), &TermAccess::list_tail(b), TermAccess::aux(a) + 1, 0, false});
                return true;
            case TermKind::Map:
                st.push({TermAccess::map_entries(a), TermAccess::map_entries(b), TermAccess::aux(a), 0, true});
                return true;
            case TermKind::Binary: {
                const std::size_t n = TermAccess::aux(a);
                return n == 0 || std::memcmp(TermAccess::binary_bytes(a).data(), TermAccess::binary_bytes(b).data(),
                                             n) == 0;
            }
            default: return false;  // differing immediates
        }
    };
    if (!root(x, y)) return false;
    while (!st.empty()) {
        EqFrame& f = st.back();
        if (f.i == f.n) {
            st.pop();
            continue;
        }
        const std::uint32_t i = f.i++;
        if (f.map) {
            const MapEntry& ea = static_cast<const MapEntry*>(f.a)[i];
            const MapEntry& eb = static_cast<const MapEntry*>(f.b)[i];
            if (!root(ea.key, eb.key)) return false;  // may push: f is stale now
            if (!root(ea.value, eb.value)) return false;
        } else {
            if (!root(static_cast<const Term*>(f.a)[i], static_cast<const Term*>(f.b)[i])) return false;
        }
    }
    return true;
}

}  // namespace detail

}  // namespace otpp
