// Erlang's External Term Format (erts/doc/src/erl_ext_dist.xml) <-> otpp::Term.
//
// The codec of distribution messages and of term_to_binary/binary_to_term.
//
// Encoding writes what the BEAM writes for the same value: SMALL_INTEGER_EXT
// (0..255), INTEGER_EXT (int32), SMALL_BIG_EXT (the rest of int64),
// NEW_FLOAT_EXT, SMALL_ATOM_UTF8_EXT, SMALL/LARGE_TUPLE_EXT, NIL_EXT,
// STRING_EXT for a proper list of 1..65535 integers in 0..255, LIST_EXT
// otherwise (improper tails included), BINARY_EXT, MAP_EXT (keys in otpp's
// term order), NEW_PID_EXT and NEWER_REFERENCE_EXT (3 words).
//
// Decoding also accepts every older form a peer may send: ATOM_EXT and
// SMALL_ATOM_EXT (Latin-1), ATOM_UTF8_EXT, FLOAT_EXT, LARGE_BIG_EXT, PID_EXT,
// REFERENCE_EXT, NEW_REFERENCE_EXT, BIT_BINARY_EXT with a whole last byte,
// LIST_EXT with zero elements (= its tail), maps in any key order.
//
// Refused with DecodeError (the message says which and why):
//   * unrepresentable in a Term: integers outside int64 (Erlang bignums),
//     funs (NEW_FUN_EXT, EXPORT_EXT, FUN_EXT), ports (PORT_EXT, NEW_PORT_EXT,
//     V4_PORT_EXT), bitstrings whose last byte is partial, references with
//     more than 3 words or a first word wider than 18 bits, atoms whose UTF-8
//     exceeds otpp's 255 bytes, LOCAL_EXT;
//   * not supported here: COMPRESSED (zlib; the BEAM compresses only when
//     term_to_binary is asked to, never on distribution), ATOM_CACHE_REF
//     (only with DFLAG_DIST_HDR_ATOM_CACHE, which we do not negotiate);
//   * malformed: unknown tags, truncation, sizes larger than the bytes that
//     remain, invalid UTF-8 or more than 255 characters in an atom, NaN or
//     infinite floats, duplicate map keys, nesting deeper than
//     max_decode_depth, a full atom table or node table.
//
// Hostile input is safe: the decoder uses an explicit stack (constant C-stack
// use, so it runs on small fiber stacks), and every declared size is checked
// against the bytes that remain before anything is allocated -- counting the
// elements still owed by all enclosing containers, so total allocation stays
// linear in the input size. List tails that are lists are spliced in a loop
// (no nesting, no quadratic copying). The encoder is iterative too.
//
// Thread safety: encode and decode are reentrant and may be called from any
// number of threads at once (NodeTable and the atom table are thread-safe).
#pragma once

#include "node_table.hpp"

#include <otpp/error.hpp>
#include <otpp/term.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace otpp::dist {

// The version byte that starts term_to_binary output (not distribution
// messages, whose terms follow the control header without one).
inline constexpr unsigned char etf_version = 131;

// Deepest nesting of tuples, maps and list elements decode accepts (list
// tails do not count). The same as Term's text parser, so whatever decodes
// also prints and parses back.
inline constexpr std::size_t max_decode_depth = Term::max_depth;

// Input decode refuses. An otpp::Error, hence a std::runtime_error. what() is
// "external term format: <reason> (at byte N)"; offset() is N, the offset of
// the offending byte from the start of the view passed to decode.
class DecodeError : public Error {
public:
    DecodeError(const std::string& reason, std::size_t offset);
    std::size_t offset() const noexcept { return offset_; }

private:
    std::size_t offset_;
};

// Appends the encoding of `t` to `out` (no version byte). Local pids and refs
// (node index 0) carry the node table's local name and creation; remote ones
// the incarnation behind their index. Throws BadArg if a pid or ref names an
// index the table never handed out (the term did not come from this table),
// and whatever std::string throws when out of memory. On throw, `out` may hold
// a partial encoding after its old contents.
void encode(const Term& t, std::string& out, const NodeTable& nodes);

// term_to_binary: the version byte 131, then encode(t).
void encode_with_version(const Term& t, std::string& out, const NodeTable& nodes);
std::string encode_with_version(const Term& t, const NodeTable& nodes);

// Decodes one term from the front of `in` (no version byte) and advances `in`
// past it; bytes after the term are left for the caller. Atoms are created as
// Erlang creates them; node incarnations in pids and refs are added to
// `nodes` (a pid of this node's own incarnation, name and creation alike,
// comes back with node 0). Throws
// DecodeError (see the list above) and leaves `in` unchanged; atoms and node
// table entries made before the error stay, as in Erlang.
// `atom_refs`: the atoms a distribution header references (ATOM_CACHE_REF
// i is atom_refs[i]); empty outside distribution, where the tag is refused.
Term decode(std::string_view& in, NodeTable& nodes, std::span<const Atom> atom_refs = {});

// binary_to_term: requires the version byte 131 first, then decode(). Throws
// DecodeError as decode does, also for a missing version byte and for
// compressed input. Unlike binary_to_term/1, trailing bytes are left in `in`.
Term decode_with_version(std::string_view& in, NodeTable& nodes);

}  // namespace otpp::dist
