// otpp::Atom: an interned symbol, as in Erlang.
//
// An Atom is a 32-bit index into one host-wide intern table that lives in
// libotpp. The table is append-only and never freed (like Erlang's), so an
// Atom stays valid for the life of the process and can be copied freely
// between threads, processes and plugin versions.
//
// Thread safety: everything here is safe to call concurrently. Interning
// (Atom(name)) takes a lock; name() and comparisons are lock-free reads.
//
// Limits (Erlang's defaults): a name is at most 255 bytes of valid UTF-8, and
// the table holds at most 1,048,576 atoms. Breaking either throws BadArg.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "otpp/export.hpp"

namespace otpp {

// The predefined atoms, in table order: X(identifier, "name"). Their indices are
// compile-time constants; atom_table.cpp seeds the table from this same list,
// so the two cannot drift apart. Append only: indices are part of the ABI.
#define OTPP_PREDEFINED_ATOMS(X)        \
    X(undefined, "undefined")           \
    X(ok, "ok")                         \
    X(error, "error")                   \
    X(true_, "true")                    \
    X(false_, "false")                  \
    X(normal, "normal")                 \
    X(kill, "kill")                     \
    X(killed, "killed")                 \
    X(shutdown, "shutdown")             \
    X(noproc, "noproc")                 \
    X(noconnection, "noconnection")     \
    X(timeout, "timeout")               \
    X(infinity, "infinity")             \
    X(badarg, "badarg")                 \
    X(EXIT, "EXIT")                     \
    X(DOWN, "DOWN")                     \
    X(process, "process")               \
    X(exit, "exit")                     \
    X(exception, "exception")           \
    X(nil, "nil")                       \
    X(call, "call")                     \
    X(cast, "cast")                     \
    X(reply, "reply")                   \
    X(stop, "stop")                     \
    X(ignore, "ignore")                 \
    X(noreply, "noreply")               \
    X(running, "running")               \
    X(runnable, "runnable")             \
    X(waiting, "waiting")               \
    X(suspended, "suspended")           \
    X(exiting, "exiting")               \
    X(permanent, "permanent")           \
    X(transient, "transient")           \
    X(temporary, "temporary")           \
    X(brutal_kill, "brutal_kill")       \
    X(down, "down")                     \
    X(nonode_at_nohost, "nonode@nohost")

namespace detail {
enum PredefinedAtomIndex : std::uint32_t {
#define OTPP_X_ATOM_INDEX(id, name) atom_index_##id,
    OTPP_PREDEFINED_ATOMS(OTPP_X_ATOM_INDEX)
#undef OTPP_X_ATOM_INDEX
    predefined_atom_count
};
}  // namespace detail

class OTPP_API Atom {
public:
    static constexpr std::size_t max_name_bytes = 255;
    static constexpr std::uint32_t max_atoms = 1u << 20;  // 1,048,576

    // Index 0: the atom `undefined`.
    constexpr Atom() noexcept = default;

    // Interns `name` (returns the existing atom if already interned).
    // Throws BadArg if the name is longer than 255 bytes, is not valid UTF-8,
    // or the table is full. Takes a lock only when `name` is new.
    explicit Atom(std::string_view name);

    // Looks `name` up without interning it (Erlang's list_to_existing_atom).
    static std::optional<Atom> existing(std::string_view name) noexcept;

    // Lock-free; the view stays valid forever (names are never moved or freed).
    // Precondition: the index came from this table (an Atom made by from_index
    // with an index never handed out yields an empty name).
    std::string_view name() const noexcept;

    constexpr std::uint32_t index() const noexcept { return index_; }
    static constexpr Atom from_index(std::uint32_t index) noexcept {
        Atom a;
        a.index_ = index;
        return a;
    }

    friend constexpr bool operator==(Atom a, Atom b) noexcept { return a.index_ == b.index_; }

private:
    std::uint32_t index_ = 0;
};

// Erlang atom order: by the bytes of the name (UTF-8 byte order equals code
// point order). Equal indices short-circuit; otherwise two table reads.
OTPP_API std::strong_ordering operator<=>(Atom a, Atom b) noexcept;

// Number of atoms currently in the table (predefined ones included).
OTPP_API std::size_t atom_count() noexcept;

// Prints the atom in Erlang syntax, quoted when needed ('EXIT', 'hello world').
OTPP_API std::string to_string(Atom a);
OTPP_API std::ostream& operator<<(std::ostream& os, Atom a);

namespace atoms {
#define OTPP_X_ATOM_CONSTANT(id, name) \
    inline constexpr Atom id = Atom::from_index(detail::atom_index_##id);
OTPP_PREDEFINED_ATOMS(OTPP_X_ATOM_CONSTANT)
#undef OTPP_X_ATOM_CONSTANT
}  // namespace atoms

}  // namespace otpp

template <>
struct std::hash<otpp::Atom> {
    std::size_t operator()(otpp::Atom a) const noexcept {
        // Fibonacci hashing spreads consecutive indices across buckets.
        return static_cast<std::size_t>(a.index()) * 0x9E3779B97F4A7C15ull;
    }
};
