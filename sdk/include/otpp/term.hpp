// otpp::Term: the immutable, Erlang-like value that processes send each other
// and that crosses plugin-version boundaries.
//
// Representation (part of the ABI, do not change): 16 bytes =
//   8-byte payload { int64 | double | bits | pointer to an immutable box }
//   + uint32 aux + uint8 kind (+ padding).
// Integers, floats, atoms, pids, refs and [] are immediates: copying them is a
// 16-byte copy, no allocation. Tuples, lists, maps and binaries point to one
// heap box holding a refcount and the contents inline (one allocation per
// container). Boxes are never modified after construction and never deep
// copied: copying a Term is a relaxed atomic increment, destroying it an
// acq_rel decrement; moving is free. Empty tuples, maps and binaries need no
// box at all.
//
// Thread safety: a Term is a value. Distinct Term objects that share a box may
// be copied and destroyed concurrently from any number of threads. A single
// Term object follows the usual rules (no concurrent writes).
//
// Deeply nested terms are fine: destruction, comparison, hashing, printing and
// parsing use explicit stacks, never C-stack recursion, so they are safe on the
// runtime's small fiber stacks.
//
// Box layout (also ABI, because the accessors below are inline):
//   detail::Box { atomic<uint32> refs; uint32 size; } followed at offset 8 by
//   tuple:  Term elements[size]
//   list:   Term tail; Term elements[size]     (size >= 1, tail is never a list)
//   map:    MapEntry entries[size]             (sorted by key, keys unique)
//   binary: bytes[size]
// aux holds the size as well, so size() needs no memory access.
#pragma once

#include <atomic>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <limits>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "otpp/atom.hpp"
#include "otpp/error.hpp"
#include "otpp/export.hpp"
#include "otpp/pid.hpp"
#include "otpp/ref.hpp"

namespace otpp {

// Declaration order is Erlang's term order:
// number < atom < reference < fun < port < pid < tuple < map < nil < list < bitstring.
// (Integer and Float are both "number" and compare with each other by value.)
enum class TermKind : std::uint8_t { Integer, Float, Atom, Reference, Pid, Tuple, Map, Nil, List, Binary };

// "integer", "float", "atom", "reference", "pid", "tuple", "map", "nil", "list", "binary".
OTPP_API const char* kind_name(TermKind kind) noexcept;

class Term;
struct MapEntry;

namespace detail {

struct Box {
    std::atomic<std::uint32_t> refs;
    std::uint32_t size;
};
static_assert(sizeof(Box) == 8);

// Frees a box whose refcount reached zero (and, iteratively, every box that
// this makes unreachable).
OTPP_API void free_box(Box* box, TermKind kind) noexcept;

// Number of boxes currently allocated by this process (all threads). For leak
// tests; cheap to maintain (sharded counters).
OTPP_API std::int64_t live_boxes() noexcept;

[[noreturn]] OTPP_API void throw_bad_kind(const char* expected, const Term& got);
[[noreturn]] OTPP_API void throw_bad_int_range(const Term& got, std::int64_t min, std::uint64_t max);
[[noreturn]] OTPP_API void throw_bad_index(const Term& container, std::size_t index);

OTPP_API bool equal_slow(const Term& a, const Term& b) noexcept;
OTPP_API std::size_t hash_slow(const Term& t) noexcept;

constexpr std::size_t mix_hash(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return static_cast<std::size_t>(x);
}

struct TermAccess;  // libotpp-internal construction helpers
template <class>
inline constexpr bool dependent_false = false;

}  // namespace detail

class OTPP_API Term {
public:
    // Nesting limit of the parser; the printer prints deeper parts as "...".
    static constexpr std::size_t max_depth = 10000;
    // Term::parse rejects longer input.
    static constexpr std::size_t max_parse_bytes = std::size_t{16} << 20;

    // ----- construction -------------------------------------------------------

    // [] (nil).
    Term() noexcept : aux_(0), kind_(TermKind::Nil) { p_.bits = 0; }

    Term(const Term& o) noexcept : p_(o.p_), aux_(o.aux_), kind_(o.kind_) { retain(); }
    Term(Term&& o) noexcept : p_(o.p_), aux_(o.aux_), kind_(o.kind_) { o.reset(); }
    Term& operator=(const Term& o) noexcept {
        o.retain();  // before release(): correct for self-assignment
        release();
        p_ = o.p_;
        aux_ = o.aux_;
        kind_ = o.kind_;
        return *this;
    }
    Term& operator=(Term&& o) noexcept {
        if (this != &o) {
            release();
            p_ = o.p_;
            aux_ = o.aux_;
            kind_ = o.kind_;
            o.reset();
        }
        return *this;
    }
    ~Term() { release(); }

    // Integers. One overload per builtin type so that every integer type
    // converts without ambiguity (int64_t is `long` on LP64).
    Term(int v) noexcept : Term(static_cast<long long>(v)) {}
    Term(long v) noexcept : Term(static_cast<long long>(v)) {}
    Term(long long v) noexcept : aux_(0), kind_(TermKind::Integer) { p_.i = v; }
    Term(unsigned v) noexcept : Term(static_cast<long long>(v)) {}
    // Throws BadArg if v > INT64_MAX.
    Term(unsigned long v) : Term(static_cast<unsigned long long>(v)) {}
    Term(unsigned long long v) : aux_(0), kind_(TermKind::Integer) {
        if (v > static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max()))
            throw_uint_range(v);
        p_.i = static_cast<std::int64_t>(v);
    }
    // Throws BadArg for NaN and infinities (Erlang has no such floats, and
    // excluding them keeps term order total).
    Term(double v) : aux_(0), kind_(TermKind::Float) {
        if (!(v - v == 0.0)) throw_non_finite(v);
        p_.f = v;
    }
    // The atoms true / false.
    Term(bool b) noexcept : aux_(0), kind_(TermKind::Atom) {
        p_.bits = b ? detail::atom_index_true_ : detail::atom_index_false_;
    }
    Term(Atom a) noexcept : aux_(0), kind_(TermKind::Atom) { p_.bits = a.index(); }
    Term(Pid pid) noexcept : aux_(pid.node), kind_(TermKind::Pid) {
        p_.bits = (static_cast<std::uint64_t>(pid.serial) << 32) | pid.id;
    }
    Term(Ref ref) noexcept : aux_(ref.node), kind_(TermKind::Reference) { p_.bits = ref.id; }
    // Strings become binaries (their bytes, normally UTF-8). Atoms are never
    // made implicitly from strings: write Atom("name").
    Term(std::string_view s) : Term(binary(s)) {}
    Term(const char* s) : Term(binary(std::string_view(s))) {}
    Term(const std::string& s) : Term(binary(std::string_view(s))) {}

    static Term nil() noexcept { return Term(); }
    // Binaries: one allocation (none when empty). Throws BadArg above 4 GiB - 1.
    static Term binary(std::string_view bytes);
    static Term binary(std::span<const std::byte> bytes);
    // Tuples: one allocation holding the elements inline (none for {}).
    static Term tuple(std::initializer_list<Term> elements);
    static Term tuple(std::span<const Term> elements);
    static Term tuple(std::vector<Term>&& elements);  // moves the elements
    // Lists: one allocation holding the elements inline; [] needs none.
    // `tail` makes an improper list ([a, b | c]). A list tail is spliced in,
    // so list({a}, list({b})) == list({a, b}); list({}, t) == t.
    // O(size + length of a list tail).
    static Term list(std::initializer_list<Term> elements);
    static Term list(std::span<const Term> elements, Term tail = Term());
    static Term list(std::vector<Term>&& elements, Term tail = Term());
    // [head | tail]. O(length of tail): the representation is an array, not
    // cons cells, so building lists by repeated cons is quadratic; collect
    // into a vector instead.
    static Term cons(Term head, Term tail);
    // Maps: entries sorted by key (term order); for duplicate keys the last
    // one wins, like #{a => 1, a => 2}. O(n log n), one allocation.
    static Term map(std::initializer_list<std::pair<Term, Term>> entries);
    static Term map(std::vector<std::pair<Term, Term>> entries);

    // ----- queries ------------------------------------------------------------

    TermKind kind() const noexcept { return kind_; }
    bool is_integer() const noexcept { return kind_ == TermKind::Integer; }
    bool is_float() const noexcept { return kind_ == TermKind::Float; }
    bool is_number() const noexcept { return kind_ == TermKind::Integer || kind_ == TermKind::Float; }
    bool is_atom() const noexcept { return kind_ == TermKind::Atom; }
    bool is_atom(Atom a) const noexcept { return kind_ == TermKind::Atom && p_.bits == a.index(); }
    bool is_pid() const noexcept { return kind_ == TermKind::Pid; }
    bool is_ref() const noexcept { return kind_ == TermKind::Reference; }
    bool is_tuple() const noexcept { return kind_ == TermKind::Tuple; }
    bool is_tuple(std::size_t arity) const noexcept { return kind_ == TermKind::Tuple && aux_ == arity; }
    bool is_nil() const noexcept { return kind_ == TermKind::Nil; }
    // True for [] and non-empty lists (proper or not).
    bool is_list() const noexcept { return kind_ == TermKind::List || kind_ == TermKind::Nil; }
    bool is_proper_list() const noexcept {
        return kind_ == TermKind::Nil || (kind_ == TermKind::List && list_tail().kind_ == TermKind::Nil);
    }
    bool is_map() const noexcept { return kind_ == TermKind::Map; }
    bool is_binary() const noexcept { return kind_ == TermKind::Binary; }

    // ----- typed access ---------------------------------------------------------

    // T: any integer type (range-checked; int64_t/long long never fail on an
    // integer), double (floats only: an integer is not silently converted),
    // bool (atoms true/false), Atom, Pid, Ref, std::string_view (a binary's
    // bytes, valid while this term's box lives), std::string (a copy).
    // try_get returns nullopt on a kind/range mismatch; get throws BadArg whose
    // message names the expected kind and shows the term (truncated).
    template <class T>
    std::optional<T> try_get() const noexcept;
    template <class T>
    T get() const;

    // ----- structure ------------------------------------------------------------

    // Tuple arity, proper-list length ([] is 0), map size or binary byte size.
    // BadArg for other kinds and for improper lists. O(1).
    std::size_t size() const {
        switch (kind_) {
            case TermKind::Tuple:
            case TermKind::Map:
            case TermKind::Binary: return aux_;
            case TermKind::Nil: return 0;
            case TermKind::List:
                if (list_tail().kind_ == TermKind::Nil) return aux_;
                detail::throw_bad_kind("proper list", *this);
            default: detail::throw_bad_kind("tuple, list, map or binary", *this);
        }
    }
    // Element of a tuple, or of a list's proper part. Bounds-checked (BadArg).
    const Term& operator[](std::size_t i) const {
        if (kind_ != TermKind::Tuple && kind_ != TermKind::List && kind_ != TermKind::Nil)
            detail::throw_bad_kind("tuple or list", *this);
        if (i >= aux_ || kind_ == TermKind::Nil) detail::throw_bad_index(*this, i);
        return box_terms()[i + (kind_ == TermKind::List ? 1 : 0)];  // i < size: a box exists
    }
    // Tuple elements, or a list's proper part ([] gives an empty span). BadArg otherwise.
    std::span<const Term> elements() const {
        switch (kind_) {
            case TermKind::Tuple: return {data_terms(), aux_};
            case TermKind::List: return {box_terms() + 1, aux_};
            case TermKind::Nil: return {};
            default: detail::throw_bad_kind("tuple or list", *this);
        }
    }
    // Tail of a non-empty list: [] for proper lists, the last tail otherwise
    // (never a list). BadArg for [] and other kinds (like Erlang's tl/1).
    const Term& tail() const {
        if (kind_ != TermKind::List) detail::throw_bad_kind("non-empty list", *this);
        return list_tail();
    }
    // Map entries sorted by key in term order. BadArg if not a map.
    std::span<const MapEntry> entries() const;
    // The value stored under `key` (exact match, =:=), or nullptr. O(log n).
    // BadArg if not a map.
    const Term* find(const Term& key) const;
    // A new map with key => value (replacing any existing value). O(n). BadArg if not a map.
    Term put(Term key, Term value) const;
    // A new map without key (same map if absent). O(n). BadArg if not a map.
    Term erase(const Term& key) const;
    // A binary's bytes, valid while this term's box lives. BadArg otherwise.
    std::string_view bytes() const {
        if (kind_ != TermKind::Binary) detail::throw_bad_kind("binary", *this);
        return {data_bytes(), aux_};
    }

    // ----- comparison -----------------------------------------------------------

    // Exact equality (Erlang =:=): 1 and 1.0 differ, 0.0 and -0.0 differ (OTP 27).
    friend bool operator==(const Term& a, const Term& b) noexcept {
        if (a.kind_ != b.kind_) return false;
        if (a.p_.bits == b.p_.bits && a.aux_ == b.aux_) return true;  // same immediate or same box
        if (!a.is_boxed_kind()) return false;
        return detail::equal_slow(a, b);
    }
    // Consistent with ==. Immediates are hashed inline.
    std::size_t hash() const noexcept {
        if (!is_boxed_kind() || p_.box == nullptr)
            return detail::mix_hash(
                p_.bits + detail::mix_hash((static_cast<std::uint64_t>(aux_) << 8) | static_cast<std::uint64_t>(kind_)));
        return detail::hash_slow(*this);
    }

    // ----- text -------------------------------------------------------------------

    // Erlang syntax: {sum,10}  [1,2,3]  [a|b]  <<"abc">>  <<1,2,3>>
    // #{a => 1,b => 2}  'hello world'  1.5e-7  <0.42.0>  #Ref<0.0.7>.
    // Floats print in the shortest form that parses back to the same double.
    // parse(t.to_string()) == t for every term nested at most max_depth deep.
    std::string to_string() const;
    // As to_string(), but stops after about max_chars characters and appends "...".
    std::string to_string(std::size_t max_chars) const;

    // Parses Erlang term syntax (see term_parse.cpp for the full grammar).
    // Deviation from Erlang: "abc" is a binary (UTF-8), not a charlist.
    // Throws ParseError (with column, line and byte offset) on bad syntax,
    // integers outside int64, nesting deeper than max_depth or input larger
    // than max_parse_bytes. Iterative: constant C-stack use.
    static Term parse(std::string_view text);
    // The same, accepting only atoms that already exist (Erlang's
    // binary_to_term(B, [safe])): for text from outside the node, which must
    // not be able to fill the atom table (it is never garbage collected).
    // An unknown atom is a ParseError.
    static Term parse_existing_atoms(std::string_view text);

private:
    union Payload {
        std::int64_t i;
        double f;
        std::uint64_t bits;
        detail::Box* box;
    };

    friend struct detail::TermAccess;
    friend struct MapEntry;

    static constexpr unsigned boxed_mask = (1u << static_cast<unsigned>(TermKind::Tuple)) |
                                           (1u << static_cast<unsigned>(TermKind::Map)) |
                                           (1u << static_cast<unsigned>(TermKind::List)) |
                                           (1u << static_cast<unsigned>(TermKind::Binary));

    Term(TermKind kind, detail::Box* box, std::uint32_t aux) noexcept : aux_(aux), kind_(kind) {
        p_.bits = 0;
        p_.box = box;
    }

    [[noreturn]] static void throw_uint_range(unsigned long long v);
    [[noreturn]] static void throw_non_finite(double v);

    bool is_boxed_kind() const noexcept { return (boxed_mask >> static_cast<unsigned>(kind_)) & 1u; }
    void retain() const noexcept {
        if (is_boxed_kind() && p_.box != nullptr) p_.box->refs.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        if (is_boxed_kind() && p_.box != nullptr &&
            p_.box->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
            detail::free_box(p_.box, kind_);
    }
    void reset() noexcept {
        p_.bits = 0;
        aux_ = 0;
        kind_ = TermKind::Nil;
    }

    const std::byte* data_raw() const noexcept {
        return reinterpret_cast<const std::byte*>(p_.box) + sizeof(detail::Box);
    }
    // Precondition: p_.box != nullptr (non-empty tuple, any list).
    const Term* box_terms() const noexcept { return std::launder(reinterpret_cast<const Term*>(data_raw())); }
    const Term* data_terms() const noexcept { return p_.box ? box_terms() : nullptr; }
    const char* data_bytes() const noexcept {
        return p_.box ? reinterpret_cast<const char*>(data_raw()) : "";
    }
    // Precondition: kind_ == List (lists always have a box).
    const Term& list_tail() const noexcept { return box_terms()[0]; }

    std::int64_t int_unchecked() const noexcept { return p_.i; }

    Payload p_;
    std::uint32_t aux_;
    TermKind kind_;
};

static_assert(sizeof(Term) == 16, "Term must stay 16 bytes (ABI)");
static_assert(alignof(Term) == 8);

struct MapEntry {
    Term key;
    Term value;
};
static_assert(sizeof(MapEntry) == 32);

// Erlang's standard term order, made strict-total and consistent with ==:
// numbers compare by value (int64 vs double exactly, no rounding); when an
// integer and a float are numerically equal the integer sorts first; -0.0
// sorts before 0.0. Then atom < reference < pid < tuple < map < nil < list <
// binary. Tuples: by arity, then elements. Maps: by size, then keys in order,
// then values in key order. Lists: element-wise, a shorter proper list first.
// Binaries: bytewise. Atoms: by name. Pids: node, serial, id. Refs: node, id.
// Iterative; O(size of the common prefix).
OTPP_API std::strong_ordering operator<=>(const Term& a, const Term& b) noexcept;

// Erlang's == : like the order above, but an integer and a float with the same
// value are equal (1 == 1.0, {1} == {1.0}); map keys still match exactly.
OTPP_API bool equal_numeric(const Term& a, const Term& b) noexcept;

OTPP_API std::ostream& operator<<(std::ostream& os, const Term& t);

// ----- inline definitions -----------------------------------------------------

inline std::span<const MapEntry> Term::entries() const {
    if (kind_ != TermKind::Map) detail::throw_bad_kind("map", *this);
    if (p_.box == nullptr) return {};
    return {std::launder(reinterpret_cast<const MapEntry*>(data_raw())), aux_};
}

template <class T>
std::optional<T> Term::try_get() const noexcept {
    if constexpr (std::is_same_v<T, bool>) {
        if (kind_ == TermKind::Atom) {
            if (p_.bits == detail::atom_index_true_) return true;
            if (p_.bits == detail::atom_index_false_) return false;
        }
        return std::nullopt;
    } else if constexpr (std::is_integral_v<T>) {
        if (kind_ != TermKind::Integer) return std::nullopt;
        const std::int64_t v = p_.i;
        if constexpr (std::is_signed_v<T>) {
            if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
                v > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
                return std::nullopt;
        } else {
            if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) return std::nullopt;
        }
        return static_cast<T>(v);
    } else if constexpr (std::is_same_v<T, double>) {
        if (kind_ == TermKind::Float) return p_.f;
        return std::nullopt;
    } else if constexpr (std::is_same_v<T, Atom>) {
        if (kind_ == TermKind::Atom) return Atom::from_index(static_cast<std::uint32_t>(p_.bits));
        return std::nullopt;
    } else if constexpr (std::is_same_v<T, Pid>) {
        if (kind_ == TermKind::Pid)
            return Pid{aux_, static_cast<std::uint32_t>(p_.bits), static_cast<std::uint32_t>(p_.bits >> 32)};
        return std::nullopt;
    } else if constexpr (std::is_same_v<T, Ref>) {
        if (kind_ == TermKind::Reference) return Ref{aux_, p_.bits};
        return std::nullopt;
    } else if constexpr (std::is_same_v<T, std::string_view>) {
        if (kind_ == TermKind::Binary) return std::string_view(data_bytes(), aux_);
        return std::nullopt;
    } else if constexpr (std::is_same_v<T, std::string>) {
        // May throw std::bad_alloc, which terminates (noexcept): same as any
        // allocation failure elsewhere in the runtime.
        if (kind_ == TermKind::Binary) return std::string(data_bytes(), aux_);
        return std::nullopt;
    } else if constexpr (std::is_same_v<T, Term>) {
        return *this;
    } else {
        static_assert(detail::dependent_false<T>, "Term::get<T>: unsupported T");
    }
}

template <class T>
T Term::get() const {
    if (auto v = try_get<T>()) return std::move(*v);
    if constexpr (std::is_same_v<T, bool>) {
        detail::throw_bad_kind("boolean", *this);
    } else if constexpr (std::is_integral_v<T>) {
        if (kind_ != TermKind::Integer) detail::throw_bad_kind("integer", *this);
        detail::throw_bad_int_range(*this, static_cast<std::int64_t>(std::numeric_limits<T>::min()),
                                    static_cast<std::uint64_t>(std::numeric_limits<T>::max()));
    } else if constexpr (std::is_same_v<T, double>) {
        detail::throw_bad_kind("float", *this);
    } else if constexpr (std::is_same_v<T, Atom>) {
        detail::throw_bad_kind("atom", *this);
    } else if constexpr (std::is_same_v<T, Pid>) {
        detail::throw_bad_kind("pid", *this);
    } else if constexpr (std::is_same_v<T, Ref>) {
        detail::throw_bad_kind("reference", *this);
    } else {
        detail::throw_bad_kind("binary", *this);
    }
}

}  // namespace otpp

template <>
struct std::hash<otpp::Term> {
    std::size_t operator()(const otpp::Term& t) const noexcept { return t.hash(); }
};
