#include "external_term.hpp"

#include "../../sdk/src/utf8.hpp"

#include <span>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace otpp::dist {

namespace {

// Tags (erl_ext_dist).
enum Tag : unsigned char {
    NEW_FLOAT_EXT = 70,
    BIT_BINARY_EXT = 77,
    COMPRESSED = 80,
    ATOM_CACHE_REF = 82,
    NEW_PID_EXT = 88,
    NEW_PORT_EXT = 89,
    NEWER_REFERENCE_EXT = 90,
    SMALL_INTEGER_EXT = 97,
    INTEGER_EXT = 98,
    FLOAT_EXT = 99,
    ATOM_EXT = 100,
    REFERENCE_EXT = 101,
    PORT_EXT = 102,
    PID_EXT = 103,
    SMALL_TUPLE_EXT = 104,
    LARGE_TUPLE_EXT = 105,
    NIL_EXT = 106,
    STRING_EXT = 107,
    LIST_EXT = 108,
    BINARY_EXT = 109,
    SMALL_BIG_EXT = 110,
    LARGE_BIG_EXT = 111,
    NEW_FUN_EXT = 112,
    EXPORT_EXT = 113,
    NEW_REFERENCE_EXT = 114,
    SMALL_ATOM_EXT = 115,
    MAP_EXT = 116,
    FUN_EXT = 117,
    ATOM_UTF8_EXT = 118,
    SMALL_ATOM_UTF8_EXT = 119,
    V4_PORT_EXT = 120,
    LOCAL_EXT = 121,
};

// Erlang's limits.
constexpr std::size_t erlang_max_atom_chars = 255;
constexpr std::size_t erlang_max_ref_words = 5;
constexpr std::size_t otpp_ref_words = 3;
constexpr std::size_t max_string_ext = 65535;

// ----- encoding ----------------------------------------------------------------

void put_u8(std::string& out, unsigned v) { out.push_back(static_cast<char>(v & 0xFF)); }
void put_u16(std::string& out, std::uint32_t v) {
    const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out.append(b, 2);
}
void put_u32(std::string& out, std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out.append(b, 4);
}
void put_u64(std::string& out, std::uint64_t v) {
    put_u32(out, static_cast<std::uint32_t>(v >> 32));
    put_u32(out, static_cast<std::uint32_t>(v));
}

void put_atom(std::string& out, Atom a) {
    const std::string_view name = a.name();  // <= 255 bytes (Atom's limit)
    put_u8(out, SMALL_ATOM_UTF8_EXT);
    put_u8(out, static_cast<unsigned>(name.size()));
    out.append(name);
}

void put_integer(std::string& out, std::int64_t v) {
    if (v >= 0 && v <= 255) {
        put_u8(out, SMALL_INTEGER_EXT);
        put_u8(out, static_cast<unsigned>(v));
    } else if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) {
        put_u8(out, INTEGER_EXT);
        put_u32(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
    } else {
        // |v| without overflow for INT64_MIN.
        std::uint64_t mag = v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
        char digits[8];
        unsigned n = 0;
        while (mag != 0) {
            digits[n++] = static_cast<char>(mag & 0xFF);
            mag >>= 8;
        }
        put_u8(out, SMALL_BIG_EXT);
        put_u8(out, n);
        put_u8(out, v < 0 ? 1 : 0);
        out.append(digits, n);
    }
}

NodeIncarnation incarnation_of(const NodeTable& nodes, std::uint32_t index, const char* what, const Term& t) {
    if (auto n = nodes.node(index)) return *n;
    throw BadArg(std::string("external term format: ") + what + " " + t.to_string() + " names node index " +
                 std::to_string(index) + ", which this node table never handed out");
}

// A proper list of 1..65535 integers in 0..255: STRING_EXT, as the BEAM does.
bool is_byte_string(const Term& list) {
    if (!list.tail().is_nil()) return false;
    const auto es = list.elements();
    if (es.size() > max_string_ext) return false;
    for (const Term& e : es) {
        auto v = e.try_get<std::int64_t>();
        if (!v || *v < 0 || *v > 255) return false;
    }
    return true;
}

}  // namespace

void encode(const Term& root, std::string& out, const NodeTable& nodes) {
    // Terms still to write, last first. Pointers into `root`, which outlives this call.
    std::vector<const Term*> todo;
    todo.push_back(&root);
    while (!todo.empty()) {
        const Term& t = *todo.back();
        todo.pop_back();
        switch (t.kind()) {
            case TermKind::Integer: put_integer(out, t.get<std::int64_t>()); break;
            case TermKind::Float:
                put_u8(out, NEW_FLOAT_EXT);
                put_u64(out, std::bit_cast<std::uint64_t>(t.get<double>()));
                break;
            case TermKind::Atom: put_atom(out, t.get<Atom>()); break;
            case TermKind::Pid: {
                const Pid p = t.get<Pid>();
                const NodeIncarnation n = incarnation_of(nodes, p.node, "pid", t);
                put_u8(out, NEW_PID_EXT);
                put_atom(out, n.name);
                put_u32(out, p.id);
                put_u32(out, p.serial);
                put_u32(out, n.creation);
                break;
            }
            case TermKind::Reference: {
                const RefWords w = unpack_ref(t.get<Ref>());
                const NodeIncarnation n = incarnation_of(nodes, w.node_index, "reference", t);
                put_u8(out, NEWER_REFERENCE_EXT);
                put_u16(out, otpp_ref_words);
                put_atom(out, n.name);
                put_u32(out, n.creation);
                put_u32(out, w.w0);
                put_u32(out, w.w1);
                put_u32(out, w.w2);
                break;
            }
            case TermKind::Tuple: {
                const auto es = t.elements();
                if (es.size() <= 255) {
                    put_u8(out, SMALL_TUPLE_EXT);
                    put_u8(out, static_cast<unsigned>(es.size()));
                } else {
                    put_u8(out, LARGE_TUPLE_EXT);
                    put_u32(out, static_cast<std::uint32_t>(es.size()));
                }
                for (std::size_t i = es.size(); i-- > 0;) todo.push_back(&es[i]);
                break;
            }
            case TermKind::Map: {
                const auto es = t.entries();
                put_u8(out, MAP_EXT);
                put_u32(out, static_cast<std::uint32_t>(es.size()));
                for (std::size_t i = es.size(); i-- > 0;) {
                    todo.push_back(&es[i].value);
                    todo.push_back(&es[i].key);
                }
                break;
            }
            case TermKind::Nil: put_u8(out, NIL_EXT); break;
            case TermKind::List: {
                const auto es = t.elements();
                if (is_byte_string(t)) {
                    put_u8(out, STRING_EXT);
                    put_u16(out, static_cast<std::uint32_t>(es.size()));
                    for (const Term& e : es) put_u8(out, static_cast<unsigned>(e.get<std::int64_t>()));
                    break;
                }
                put_u8(out, LIST_EXT);
                put_u32(out, static_cast<std::uint32_t>(es.size()));
                todo.push_back(&t.tail());  // never a list: Term splices list tails
                for (std::size_t i = es.size(); i-- > 0;) todo.push_back(&es[i]);
                break;
            }
            case TermKind::Binary: {
                const std::string_view b = t.bytes();
                put_u8(out, BINARY_EXT);
                put_u32(out, static_cast<std::uint32_t>(b.size()));
                out.append(b);
                break;
            }
        }
    }
}

void encode_with_version(const Term& t, std::string& out, const NodeTable& nodes) {
    put_u8(out, etf_version);
    encode(t, out, nodes);
}

std::string encode_with_version(const Term& t, const NodeTable& nodes) {
    std::string out;
    encode_with_version(t, out, nodes);
    return out;
}

// ----- decoding ------------------------------------------------------------------

DecodeError::DecodeError(const std::string& reason, std::size_t offset)
    : Error("external term format: " + reason + " (at byte " + std::to_string(offset) + ")"), offset_(offset) {}

namespace {

// Strict UTF-8 (sdk/src/utf8.hpp's rules, as the atom table checks them).
// Returns the number of code points, or nullopt if invalid.
std::optional<std::size_t> utf8_chars(std::string_view s) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < s.size(); ++chars)
        if (detail::utf8::decode(s, i) == detail::utf8::invalid) return std::nullopt;
    return chars;
}

// Room for n more items; geometric, so splicing many list tails stays linear.
void grow(std::vector<Term>& v, std::size_t n) {
    if (v.capacity() - v.size() < n) v.reserve(std::max(v.size() + n, 2 * v.capacity()));
}

const char* tag_name(unsigned tag) {
    switch (tag) {
        case NEW_FUN_EXT: return "a fun (NEW_FUN_EXT)";
        case FUN_EXT: return "a fun (FUN_EXT)";
        case EXPORT_EXT: return "an external fun (EXPORT_EXT)";
        case PORT_EXT: return "a port (PORT_EXT)";
        case NEW_PORT_EXT: return "a port (NEW_PORT_EXT)";
        case V4_PORT_EXT: return "a port (V4_PORT_EXT)";
        case LOCAL_EXT: return "LOCAL_EXT (a term in a node-local encoding)";
        default: return nullptr;
    }
}

class Decoder {
public:
    Decoder(std::string_view in, std::size_t start, NodeTable& nodes, std::span<const Atom> atom_refs = {})
        : in_(in), pos_(start), nodes_(nodes), atom_refs_(atom_refs) {}

    std::size_t pos() const noexcept { return pos_; }

    Term run();

private:
    enum class Kind : std::uint8_t { Tuple, List, Map };
    struct Frame {
        Kind kind;
        bool in_tail = false;     // list: elements done, the next term is the tail
        std::size_t left = 0;     // items (map: keys + values) still to come
        std::size_t declared = 0; // map: declared pairs (duplicate-key check)
        std::size_t start = 0;    // offset of the tag, for messages
        std::vector<Term> items;  // map: key, value, key, value...
    };

    [[noreturn]] void fail(const std::string& reason, std::size_t at) const { throw DecodeError(reason, at); }
    [[noreturn]] void fail(const std::string& reason) const { fail(reason, pos_); }

    std::size_t remaining() const noexcept { return in_.size() - pos_; }
    void need(std::size_t n, const char* what) const {
        if (remaining() < n)
            fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " more bytes, " +
                 std::to_string(remaining()) + " remain");
    }
    unsigned u8(const char* what) {
        need(1, what);
        return static_cast<unsigned char>(in_[pos_++]);
    }
    std::uint32_t u16(const char* what) {
        need(2, what);
        const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + pos_);
        pos_ += 2;
        return static_cast<std::uint32_t>(p[0]) << 8 | p[1];
    }
    std::uint32_t u32(const char* what) {
        need(4, what);
        const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + pos_);
        pos_ += 4;
        return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
               static_cast<std::uint32_t>(p[2]) << 8 | p[3];
    }
    std::string_view bytes(std::size_t n, const char* what) {
        need(n, what);
        std::string_view v = in_.substr(pos_, n);
        pos_ += n;
        return v;
    }

    // Claims `slots` more items (terms) for a container about to be read:
    // these and all the items owed so far need at least one byte each.
    // `what` is "tuple of N elements" and the like.
    void owe(std::uint64_t slots, const std::string& what, std::size_t tag_at) {
        if (owed_ + slots > remaining())
            fail(what + " needs at least " + std::to_string(slots) + " more bytes, " + std::to_string(remaining()) +
                     " remain" +
                     (owed_ ? " and " + std::to_string(owed_) + " are owed to enclosing terms" : std::string()),
                 tag_at);
        owed_ += static_cast<std::size_t>(slots);
    }
    void push(Kind kind, std::size_t items, std::size_t tag_at) {
        if (stack_.size() >= max_decode_depth)
            fail("nesting deeper than " + std::to_string(max_decode_depth) + " levels", tag_at);
        Frame& f = stack_.emplace_back();
        f.kind = kind;
        f.left = items;
        f.in_tail = kind == Kind::List && items == 0;
        f.start = tag_at;
        f.items.reserve(items);  // bounded by the input size (owe)
    }

    Atom atom_from(std::string_view utf8, std::size_t at);
    Atom read_atom_body(unsigned tag, std::size_t tag_at);
    Atom read_node_atom();
    std::uint32_t node_index(Atom name, std::uint32_t creation, std::size_t at);
    Term read_big(unsigned tag, std::size_t tag_at);
    Term read_float_ext(std::size_t tag_at);
    Term read_pid(unsigned tag, std::size_t tag_at);
    Term read_ref(unsigned tag, std::size_t tag_at);
    Term finish(Frame& f);

    std::string_view in_;
    std::size_t pos_;
    NodeTable& nodes_;
    std::span<const Atom> atom_refs_;  // a distribution header's atom cache refs

    // ATOM_CACHE_REF: an index into the header's references.
    Atom cache_ref(std::size_t at) {
        const unsigned i = u8("atom cache reference");
        if (i >= atom_refs_.size())
            fail("ATOM_CACHE_REF " + std::to_string(i) + " but the distribution header has " +
                     std::to_string(atom_refs_.size()) + " references",
                 at);
        return atom_refs_[i];
    }
    std::vector<Frame> stack_;
    std::size_t owed_ = 0;  // items still owed by the open containers
};

Atom Decoder::atom_from(std::string_view utf8, std::size_t at) {
    if (utf8.size() > Atom::max_name_bytes)
        fail("atom of " + std::to_string(utf8.size()) + " UTF-8 bytes exceeds otpp's limit of " +
                 std::to_string(Atom::max_name_bytes) + " bytes",
             at);
    try {
        return Atom(utf8);
    } catch (const BadArg& e) {  // the atom table is full
        fail(std::string("cannot create atom: ") + e.what(), at);
    }
}

Atom Decoder::read_atom_body(unsigned tag, std::size_t tag_at) {
    const bool small = tag == SMALL_ATOM_EXT || tag == SMALL_ATOM_UTF8_EXT;
    const std::size_t n = small ? u8("atom length") : u16("atom length");
    const std::string_view raw = bytes(n, "atom text");
    if (tag == ATOM_EXT || tag == SMALL_ATOM_EXT) {  // Latin-1
        if (n > erlang_max_atom_chars)
            fail("atom of " + std::to_string(n) + " characters exceeds Erlang's limit of 255", tag_at);
        std::string utf8;
        utf8.reserve(2 * n);
        for (char c : raw) {
            const auto b = static_cast<unsigned char>(c);
            if (b < 0x80) {
                utf8.push_back(c);
            } else {
                utf8.push_back(static_cast<char>(0xC0 | (b >> 6)));
                utf8.push_back(static_cast<char>(0x80 | (b & 0x3F)));
            }
        }
        return atom_from(utf8, tag_at);
    }
    const auto chars = utf8_chars(raw);
    if (!chars) fail("atom text is not valid UTF-8", tag_at);
    if (*chars > erlang_max_atom_chars)
        fail("atom of " + std::to_string(*chars) + " characters exceeds Erlang's limit of 255", tag_at);
    return atom_from(raw, tag_at);
}

Atom Decoder::read_node_atom() {
    const std::size_t at = pos_;
    const unsigned tag = u8("node name");
    switch (tag) {
        case ATOM_EXT:
        case SMALL_ATOM_EXT:
        case ATOM_UTF8_EXT:
        case SMALL_ATOM_UTF8_EXT: return read_atom_body(tag, at);
        case ATOM_CACHE_REF: return cache_ref(at);
        default: fail("node name: expected an atom, got tag " + std::to_string(tag), at);
    }
}

std::uint32_t Decoder::node_index(Atom name, std::uint32_t creation, std::size_t at) {
    // This node's own incarnation is index 0. Exactly: since OTP 23 the BEAM
    // no longer takes creation 0 with its own name as itself, nor do we.
    try {
        return nodes_.index_of({name, creation});
    } catch (const std::length_error& e) {
        fail(e.what(), at);
    }
}

Term Decoder::read_big(unsigned tag, std::size_t tag_at) {
    const std::size_t n = tag == SMALL_BIG_EXT ? u8("big length") : u32("big length");
    const unsigned sign = u8("big sign");
    if (sign > 1) fail("big integer sign byte must be 0 or 1, got " + std::to_string(sign), tag_at);
    const std::string_view digits = bytes(n, "big digits");  // little-endian base 256
    std::size_t used = n;
    while (used > 0 && digits[used - 1] == 0) --used;
    if (used > 8)
        fail("integer of " + std::to_string(used) + " bytes does not fit in 64 bits (otpp integers are int64)",
             tag_at);
    std::uint64_t mag = 0;
    for (std::size_t i = used; i-- > 0;) mag = mag << 8 | static_cast<unsigned char>(digits[i]);
    constexpr std::uint64_t max_pos = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (sign == 0) {
        if (mag > max_pos) fail("integer " + std::to_string(mag) + " does not fit in int64", tag_at);
        return Term(static_cast<std::int64_t>(mag));
    }
    if (mag > max_pos + 1) fail("integer -" + std::to_string(mag) + " does not fit in int64", tag_at);
    return Term(static_cast<std::int64_t>(~mag + 1));  // two's complement; -2^63 included
}

Term Decoder::read_float_ext(std::size_t tag_at) {
    // 31 bytes of "%.20e" text, NUL-padded.
    std::string_view text = bytes(31, "FLOAT_EXT");
    text = text.substr(0, std::min(text.find('\0'), text.size()));
    double d = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        fail("FLOAT_EXT text is not a float", tag_at);
    if (!std::isfinite(d)) fail("float is not finite (Erlang has no NaN or infinity)", tag_at);
    return Term(d);
}

Term Decoder::read_pid(unsigned tag, std::size_t tag_at) {
    const Atom node = read_node_atom();
    const std::uint32_t id = u32("pid id");
    const std::uint32_t serial = u32("pid serial");
    const std::uint32_t creation = tag == PID_EXT ? u8("pid creation") : u32("pid creation");
    return Term(Pid{node_index(node, creation, tag_at), id, serial});
}

Term Decoder::read_ref(unsigned tag, std::size_t tag_at) {
    std::size_t len = 1;
    if (tag != REFERENCE_EXT) {
        len = u16("reference length");
        if (len == 0) fail("reference with no ID words", tag_at);
        if (len > erlang_max_ref_words)
            fail("reference of " + std::to_string(len) + " ID words (Erlang's maximum is 5)", tag_at);
    }
    const Atom node = read_node_atom();
    std::uint32_t creation = 0;
    if (tag == NEWER_REFERENCE_EXT) creation = u32("reference creation");
    std::array<std::uint32_t, erlang_max_ref_words> w{};
    if (tag == REFERENCE_EXT) {
        w[0] = u32("reference ID");
        creation = u8("reference creation");
    } else {
        if (tag == NEW_REFERENCE_EXT) creation = u8("reference creation");
        need(4 * len, "reference ID words");
        for (std::size_t i = 0; i < len; ++i) w[i] = u32("reference ID");
    }
    // Erlang compares references ignoring trailing zero words, so a longer
    // one whose extra words are zero is the same reference.
    for (std::size_t i = otpp_ref_words; i < len; ++i)
        if (w[i] != 0)
            fail("reference of " + std::to_string(len) +
                     " ID words, the extra ones not zero, is not representable: otpp refs hold 3",
                 tag_at);
    if (w[0] > ref_word0_max)
        fail("reference whose first ID word " + std::to_string(w[0]) +
                 " is wider than 18 bits is not representable (BEAM refs use 18)",
             tag_at);
    return Term(pack_ref({node_index(node, creation, tag_at), w[0], w[1], w[2]}));
}

Term Decoder::finish(Frame& f) {
    switch (f.kind) {
        case Kind::Tuple: return Term::tuple(std::move(f.items));
        case Kind::List: return Term::list(std::move(f.items));  // only proper lists reach here
        case Kind::Map: {
            std::vector<std::pair<Term, Term>> pairs;
            pairs.reserve(f.items.size() / 2);
            for (std::size_t i = 0; i + 1 < f.items.size(); i += 2)
                pairs.emplace_back(std::move(f.items[i]), std::move(f.items[i + 1]));
            Term m = Term::map(std::move(pairs));
            if (m.size() != f.declared) fail("map has duplicate keys", f.start);
            return m;
        }
    }
    return Term();  // unreachable
}

Term Decoder::run() {
    Term value;
    for (;;) {
        // A list whose elements are done: list forms in its tail are spliced
        // in here, so [a | [b | [c]]] costs no depth and no copying.
        if (!stack_.empty() && stack_.back().in_tail) {
            Frame& f = stack_.back();
            const std::size_t at = pos_;
            need(1, "list tail");
            const auto tag = static_cast<unsigned char>(in_[pos_]);
            if (tag == NIL_EXT || tag == STRING_EXT || tag == LIST_EXT) {
                ++pos_;
                --owed_;
                if (tag == LIST_EXT) {
                    const std::uint32_t n = u32("list length");
                    owe(std::uint64_t{n} + 1, "list tail of " + std::to_string(n) + " elements", at);
                    grow(f.items, n);
                    f.left = n;
                    f.in_tail = n == 0;
                    continue;
                }
                if (tag == STRING_EXT) {
                    const std::uint32_t n = u16("string length");
                    const std::string_view s = bytes(n, "string bytes");
                    grow(f.items, n);
                    for (char c : s) f.items.emplace_back(static_cast<std::int64_t>(static_cast<unsigned char>(c)));
                }
                value = finish(f);
                stack_.pop_back();
                goto deliver;
            }
            // Any other tail: decoded below, then ends the list improperly.
        }
        {
            if (!stack_.empty()) --owed_;  // this term fills an item of the top container
            const std::size_t at = pos_;
            const unsigned tag = u8("tag");
            switch (tag) {
                case SMALL_INTEGER_EXT: value = Term(static_cast<std::int64_t>(u8("SMALL_INTEGER_EXT"))); break;
                case INTEGER_EXT:
                    value = Term(static_cast<std::int64_t>(static_cast<std::int32_t>(u32("INTEGER_EXT"))));
                    break;
                case SMALL_BIG_EXT:
                case LARGE_BIG_EXT: value = read_big(tag, at); break;
                case NEW_FLOAT_EXT: {
                    need(8, "NEW_FLOAT_EXT");
                    const std::uint64_t hi = u32("NEW_FLOAT_EXT");
                    const std::uint64_t bits = hi << 32 | u32("NEW_FLOAT_EXT");
                    const double d = std::bit_cast<double>(bits);
                    if (!std::isfinite(d)) fail("float is not finite (Erlang has no NaN or infinity)", at);
                    value = Term(d);
                    break;
                }
                case FLOAT_EXT: value = read_float_ext(at); break;
                case ATOM_EXT:
                case SMALL_ATOM_EXT:
                case ATOM_UTF8_EXT:
                case SMALL_ATOM_UTF8_EXT: value = Term(read_atom_body(tag, at)); break;
                case NEW_PID_EXT:
                case PID_EXT: value = read_pid(tag, at); break;
                case NEWER_REFERENCE_EXT:
                case NEW_REFERENCE_EXT:
                case REFERENCE_EXT: value = read_ref(tag, at); break;
                case NIL_EXT: value = Term(); break;
                case STRING_EXT: {
                    const std::uint32_t n = u16("string length");
                    const std::string_view s = bytes(n, "string bytes");
                    std::vector<Term> es;
                    es.reserve(n);
                    for (char c : s) es.emplace_back(static_cast<std::int64_t>(static_cast<unsigned char>(c)));
                    value = Term::list(std::move(es));
                    break;
                }
                case BINARY_EXT: {
                    const std::uint32_t n = u32("binary length");
                    value = Term::binary(bytes(n, "binary bytes"));
                    break;
                }
                case BIT_BINARY_EXT: {
                    const std::uint32_t n = u32("bitstring length");
                    const unsigned bits = u8("bitstring bits");
                    const std::string_view b = bytes(n, "bitstring bytes");
                    if (bits > 8 || (bits == 0) != (n == 0))
                        fail("BIT_BINARY_EXT with " + std::to_string(bits) + " bits in the last of " +
                                 std::to_string(n) + " bytes",
                             at);
                    if (bits != 8 && n != 0)
                        fail("bitstring of " + std::to_string(8 * (std::uint64_t{n} - 1) + bits) +
                                 " bits is not representable: otpp binaries hold whole bytes",
                             at);
                    value = Term::binary(b);
                    break;
                }
                case SMALL_TUPLE_EXT:
                case LARGE_TUPLE_EXT: {
                    const std::uint32_t n = tag == SMALL_TUPLE_EXT ? u8("tuple arity") : u32("tuple arity");
                    if (n == 0) {
                        value = Term::tuple(std::vector<Term>{});
                        break;
                    }
                    owe(n, "tuple of " + std::to_string(n) + " elements", at);
                    push(Kind::Tuple, n, at);
                    continue;
                }
                case LIST_EXT: {
                    const std::uint32_t n = u32("list length");
                    owe(std::uint64_t{n} + 1, "list of " + std::to_string(n) + " elements", at);  // + the tail
                    push(Kind::List, n, at);
                    continue;
                }
                case MAP_EXT: {
                    const std::uint32_t n = u32("map size");
                    if (n == 0) {
                        value = Term::map(std::vector<std::pair<Term, Term>>{});
                        break;
                    }
                    owe(2 * std::uint64_t{n}, "map of " + std::to_string(n) + " pairs", at);
                    push(Kind::Map, 2 * std::size_t{n}, at);
                    stack_.back().declared = n;
                    continue;
                }
                case COMPRESSED:
                    fail("compressed terms are not supported (zlib; the BEAM compresses only when "
                         "term_to_binary is asked to)",
                         at);
                case ATOM_CACHE_REF: value = Term(cache_ref(at)); break;
                case etf_version: fail("unexpected version byte 131 inside a term", at);
                default:
                    if (const char* name = tag_name(tag))
                        fail(std::string(name) + " is not representable as an otpp term", at);
                    fail("unknown tag " + std::to_string(tag), at);
            }
        }
    deliver:
        // Hand `value` to the containers it completes.
        for (;;) {
            if (stack_.empty()) return value;
            Frame& f = stack_.back();
            if (f.in_tail) {  // an improper tail (list forms were spliced above)
                value = Term::list(std::move(f.items), std::move(value));
                stack_.pop_back();
                continue;
            }
            f.items.push_back(std::move(value));
            if (--f.left > 0) break;
            if (f.kind == Kind::List) {
                f.in_tail = true;
                break;
            }
            value = finish(f);
            stack_.pop_back();
        }
    }
}

}  // namespace

Term decode(std::string_view& in, NodeTable& nodes, std::span<const Atom> atom_refs) {
    Decoder d(in, 0, nodes, atom_refs);
    Term t = d.run();
    in.remove_prefix(d.pos());
    return t;
}

Term decode_with_version(std::string_view& in, NodeTable& nodes) {
    if (in.empty()) throw DecodeError("truncated: empty input, expected the version byte 131", 0);
    if (static_cast<unsigned char>(in[0]) != etf_version)
        throw DecodeError("expected the version byte 131, got " +
                              std::to_string(static_cast<unsigned char>(in[0])),
                          0);
    Decoder d(in, 1, nodes);
    Term t = d.run();
    in.remove_prefix(d.pos());
    return t;
}

}  // namespace otpp::dist
