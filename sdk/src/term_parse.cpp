// Parsing Erlang term syntax.
//
// Grammar (whitespace and %-comments allowed between tokens):
//   term    := integer | float | char | atom | string | binary | tuple | list
//            | map | pid | ref
//   integer := [+-] digits | [+-] base '#' alnum-digits      (base 2..36)
//              digits may contain single '_' separators: 1_000_000
//   float   := [+-] digits '.' digits [ [eE] [+-] digits ]   (Erlang needs the '.')
//   char    := [+-] '$' (character | escape)                 -> integer
//   atom    := [a-z][A-Za-z0-9_@]* | '\'' quoted '\''         (true/false are atoms)
//   string  := '"' quoted '"'                                -> BINARY (UTF-8)
//   binary  := '<<' [ segment { ',' segment } ] '>>'
//   segment := string | integer in 0..255 | char
//   tuple   := '{' [ term { ',' term } ] '}'
//   list    := '[' [ term { ',' term } [ '|' term ] ] ']'
//   map     := '#{' [ term '=>' term { ',' term '=>' term } ] '}'
//   pid     := '<' u32 '.' u32 '.' u32 '>'
//   ref     := '#Ref<' u32 '.' u32 '.' u32 '>'
//   input   := term [ '.' ]
// Escapes: \b \d \e \f \n \r \s \t \v \' \" \\ \NNN (octal) \xHH \x{H...} \^C,
// any other escaped character stands for itself. Escapes denote Unicode code
// points, written to strings and atoms as UTF-8.
//
// Deviation from Erlang: "abc" is a binary, not a charlist; it is what a user
// typing at the console means, and it round-trips with the printer.
//
// The parser is iterative: containers live on explicit stacks (values and
// frames), so C-stack use is constant whatever the input.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "otpp/term.hpp"
#include "term_access.hpp"
#include "utf8.hpp"

namespace otpp {

using detail::TermAccess;

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

bool is_atom_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '@';
}

class Parser {
public:
    explicit Parser(std::string_view src, bool existing_atoms_only = false)
        : src_(src), existing_atoms_only_(existing_atoms_only) {}

    Term run() {
        if (src_.size() > Term::max_parse_bytes)
            throw ParseError("input too large: " + std::to_string(src_.size()) + " bytes (limit " +
                                 std::to_string(Term::max_parse_bytes) + ")",
                             1, 1, 0, false);
        parse_value();
        for (;;) {
            if (frames_.empty()) break;
            after_value();
        }
        skip_ws();
        if (pos_ < src_.size() && src_[pos_] == '.') {
            ++pos_;
            skip_ws();
        }
        if (pos_ < src_.size()) unexpected(pos_);
        return std::move(values_.back());
    }

private:
    enum class State : std::uint8_t { Tuple, List, ListTail, MapKey, MapValue };
    struct Frame {
        State state;
        std::size_t base;  // index of the first element in values_
        std::size_t open;  // offset of the opening bracket
    };

    // ----- errors -------------------------------------------------------------------

    [[noreturn]] void fail(std::size_t at, std::string message) const {
        std::size_t line = 1;
        std::size_t line_start = 0;
        for (std::size_t i = 0; i < at && i < src_.size(); ++i) {
            if (src_[i] == '\n') {
                ++line;
                line_start = i + 1;
            }
        }
        std::size_t column = 1;
        for (std::size_t i = line_start; i < at && i < src_.size(); ++i)
            if ((static_cast<unsigned char>(src_[i]) & 0xC0) != 0x80) ++column;  // count code points
        const bool multi_line = src_.find('\n') != std::string_view::npos;
        throw ParseError(std::move(message), line, column, at, multi_line);
    }

    [[noreturn]] void unexpected(std::size_t at) const {
        if (at >= src_.size()) fail(at, "unexpected end of input");
        const auto c = static_cast<unsigned char>(src_[at]);
        if (c >= 0x20 && c < 0x7F) fail(at, std::string("unexpected '") + static_cast<char>(c) + "'");
        std::size_t i = at;
        const char32_t cp = detail::utf8::decode(src_, i);
        char buf[32];
        if (cp == detail::utf8::invalid) {
            std::snprintf(buf, sizeof buf, "unexpected byte 0x%02X", c);
        } else {
            std::snprintf(buf, sizeof buf, "unexpected character U+%04X", static_cast<unsigned>(cp));
        }
        fail(at, buf);
    }

    // ----- lexing helpers ---------------------------------------------------------

    bool at_end() const noexcept { return pos_ >= src_.size(); }
    char peek(std::size_t ahead = 0) const noexcept {
        return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
    }
    bool starts_with(std::string_view s) const noexcept { return src_.substr(pos_).starts_with(s); }

    void skip_ws() noexcept {
        while (pos_ < src_.size()) {
            const char c = src_[pos_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
                ++pos_;
            } else if (c == '%') {
                while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
            } else {
                break;
            }
        }
    }

    void expect(char c) {
        if (peek() != c || at_end()) unexpected(pos_);
        ++pos_;
    }

    // Digits of `base` with optional single '_' between digits. Appends digit
    // values to `out`; returns false if there was no digit at all.
    bool digits(int base, std::string& out) {
        const std::size_t start = pos_;
        while (!at_end()) {
            const char c = src_[pos_];
            if (digit_value(c) < base) {
                out += c;
                ++pos_;
            } else if (c == '_' && pos_ > start && digit_value(src_[pos_ - 1]) < base &&
                       digit_value(peek(1)) < base) {
                ++pos_;
            } else {
                break;
            }
        }
        return pos_ > start;
    }

    // ----- scalars -----------------------------------------------------------------

    // A code point after a backslash (pos_ is just past the backslash).
    char32_t escape() {
        const std::size_t at = pos_ - 1;
        if (at_end()) unexpected(pos_);
        const char c = src_[pos_++];
        switch (c) {
            case 'b': return 8;
            case 'd': return 127;
            case 'e': return 27;
            case 'f': return 12;
            case 'n': return 10;
            case 'r': return 13;
            case 's': return 32;
            case 't': return 9;
            case 'v': return 11;
            case '^': {
                if (at_end()) unexpected(pos_);
                return static_cast<unsigned char>(src_[pos_++]) & 31u;
            }
            case 'x': {
                char32_t v = 0;
                if (peek() == '{') {
                    ++pos_;
                    std::size_t n = 0;
                    while (!at_end() && digit_value(src_[pos_]) < 16) {
                        v = v * 16 + static_cast<char32_t>(digit_value(src_[pos_++]));
                        if (++n > 8) fail(at, "escape sequence out of range");
                    }
                    if (n == 0) unexpected(pos_);
                    expect('}');
                } else {
                    for (int k = 0; k < 2; ++k) {
                        if (at_end() || digit_value(src_[pos_]) >= 16) unexpected(pos_);
                        v = v * 16 + static_cast<char32_t>(digit_value(src_[pos_++]));
                    }
                }
                if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) fail(at, "escape is not a Unicode code point");
                return v;
            }
            default:
                if (c >= '0' && c <= '7') {
                    char32_t v = static_cast<char32_t>(c - '0');
                    for (int k = 0; k < 2 && peek() >= '0' && peek() <= '7' && !at_end(); ++k)
                        v = v * 8 + static_cast<char32_t>(src_[pos_++] - '0');
                    return v;
                }
                --pos_;
                return source_char();
        }
    }

    // One UTF-8 encoded character of the source.
    char32_t source_char() {
        const std::size_t at = pos_;
        const char32_t cp = detail::utf8::decode(src_, pos_);
        if (cp == detail::utf8::invalid) fail(at, "invalid UTF-8");
        return cp;
    }

    // Quoted text up to the closing `quote`; pos_ is on the opening quote.
    std::string quoted(char quote) {
        const std::size_t open = pos_++;
        std::string out;
        for (;;) {
            if (at_end()) fail(open, std::string("unterminated ") + (quote == '"' ? "string" : "quoted atom"));
            const char c = src_[pos_];
            if (c == quote) {
                ++pos_;
                return out;
            }
            if (c == '\\') {
                ++pos_;
                detail::utf8::encode(out, escape());
            } else if (static_cast<unsigned char>(c) < 0x80) {
                out += c;
                ++pos_;
            } else {
                const std::size_t from = pos_;
                source_char();
                out.append(src_.substr(from, pos_ - from));
            }
        }
    }

    Term make_atom(std::string_view name, std::size_t at) {
        if (name.size() > Atom::max_name_bytes)
            fail(at, "atom too long: " + std::to_string(name.size()) + " bytes (maximum " +
                         std::to_string(Atom::max_name_bytes) + ")");
        if (existing_atoms_only_) {
            if (auto a = Atom::existing(name)) return Term(*a);
            fail(at, "unknown atom '" + std::string(name) + "' (only atoms the node already knows are accepted)");
        }
        try {
            return Term(Atom(name));
        } catch (const BadArg& e) {  // atom table full
            fail(at, e.what());
        }
    }

    // $c -> code point; pos_ is on the '$'.
    std::int64_t char_literal() {
        ++pos_;
        if (at_end()) unexpected(pos_);
        if (src_[pos_] == '\\') {
            ++pos_;
            return escape();
        }
        return source_char();
    }

    // Integer, float or char literal, with optional sign.
    Term number() {
        const std::size_t start = pos_;
        bool negative = false;
        if (peek() == '-' || peek() == '+') {
            negative = peek() == '-';
            ++pos_;
        }
        if (peek() == '$' && !at_end()) {
            const std::int64_t v = char_literal();
            return Term(negative ? -v : v);
        }
        std::string text;
        if (negative) text += '-';
        const std::size_t digits_start = text.size();
        if (!digits(10, text)) unexpected(pos_);
        if (peek() == '#' && !at_end()) {
            const std::string_view base_text = std::string_view(text).substr(digits_start);
            int base = 0;
            if (base_text.size() <= 2) std::from_chars(base_text.data(), base_text.data() + base_text.size(), base);
            if (base < 2 || base > 36) fail(start, "radix must be between 2 and 36");
            ++pos_;
            std::string value_digits;
            if (!digits(base, value_digits)) unexpected(pos_);
            return integer(value_digits, base, negative, start);
        }
        if (peek() == '.' && is_digit(peek(1))) {
            ++pos_;
            text += '.';
            digits(10, text);
            if ((peek() == 'e' || peek() == 'E') &&
                (is_digit(peek(1)) || ((peek(1) == '-' || peek(1) == '+') && is_digit(peek(2))))) {
                text += 'e';
                ++pos_;
                if (peek() == '-' || peek() == '+') text += src_[pos_++];
                digits(10, text);
            }
            double d = 0;
            const auto r = std::from_chars(text.data(), text.data() + text.size(), d);
            if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !(d - d == 0.0))
                fail(start, "float out of range");
            return Term(d);
        }
        return integer(std::string_view(text).substr(digits_start), 10, negative, start);
    }

    Term integer(std::string_view digit_chars, int base, bool negative, std::size_t start) {
        const std::uint64_t limit =
            negative ? std::uint64_t{1} << 63 : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        std::uint64_t v = 0;
        for (char c : digit_chars) {
            const auto d = static_cast<std::uint64_t>(digit_value(c));
            if (v > (limit - d) / static_cast<std::uint64_t>(base)) fail(start, "integer out of 64-bit range");
            v = v * static_cast<std::uint64_t>(base) + d;
        }
        if (!negative) return Term(static_cast<std::int64_t>(v));
        return Term(v == (std::uint64_t{1} << 63) ? std::numeric_limits<std::int64_t>::min()
                                                  : -static_cast<std::int64_t>(v));
    }

    std::uint32_t u32(const char* what) {
        const std::size_t at = pos_;
        std::uint64_t v = 0;
        if (at_end() || !is_digit(src_[pos_])) unexpected(pos_);
        while (!at_end() && is_digit(src_[pos_])) {
            v = v * 10 + static_cast<std::uint64_t>(src_[pos_++] - '0');
            if (v > std::numeric_limits<std::uint32_t>::max()) fail(at, std::string(what) + " out of range");
        }
        return static_cast<std::uint32_t>(v);
    }

    Term pid() {
        ++pos_;  // '<'
        Pid p;
        p.node = u32("pid node");
        expect('.');
        p.id = u32("pid id");
        expect('.');
        p.serial = u32("pid serial");
        expect('>');
        return Term(p);
    }

    Term ref() {
        pos_ += 5;  // "#Ref<"
        Ref r;
        r.node = u32("reference node");
        expect('.');
        const std::uint64_t high = u32("reference number");
        expect('.');
        const std::uint64_t low = u32("reference number");
        expect('>');
        r.id = (high << 32) | low;
        return Term(r);
    }

    Term binary() {
        pos_ += 2;  // "<<"
        std::string bytes;
        skip_ws();
        if (starts_with(">>")) {
            pos_ += 2;
            return Term::binary(bytes);
        }
        for (;;) {
            skip_ws();
            const std::size_t seg = pos_;
            const char c = peek();
            if (c == '"' && !at_end()) {
                bytes += quoted('"');
            } else if (is_digit(c) || c == '$' || c == '-' || c == '+') {
                const Term v = number();
                if (!v.is_integer()) fail(seg, "binary segment must be an integer or a string");
                const std::int64_t b = v.get<std::int64_t>();
                if (b < 0 || b > 255) fail(seg, "byte value out of range 0..255");
                bytes += static_cast<char>(static_cast<unsigned char>(b));
            } else {
                unexpected(pos_);
            }
            skip_ws();
            if (peek() == ',' && !at_end()) {
                ++pos_;
            } else if (starts_with(">>")) {
                pos_ += 2;
                return Term::binary(bytes);
            } else {
                unexpected(pos_);
            }
        }
    }

    // ----- structure ---------------------------------------------------------------

    void open(State state, std::size_t width) {
        if (frames_.size() >= Term::max_depth)
            fail(pos_, "nesting deeper than " + std::to_string(Term::max_depth) + " levels");
        frames_.push_back({state, values_.size(), pos_});
        pos_ += width;
    }

    // Parses one value. Scalars go onto values_; an opening bracket pushes a
    // frame (and an empty container is completed at once).
    void parse_value() {
        for (;;) {
            skip_ws();
            const std::size_t at = pos_;
            if (at_end()) unexpected(pos_);
            const char c = src_[pos_];
            if (c == '{') {
                open(State::Tuple, 1);
                skip_ws();
                if (peek() == '}' && !at_end()) return close();
                continue;  // first element
            }
            if (c == '[') {
                open(State::List, 1);
                skip_ws();
                if (peek() == ']' && !at_end()) return close();
                continue;
            }
            if (c == '#') {
                if (peek(1) == '{') {
                    open(State::MapKey, 2);
                    skip_ws();
                    if (peek() == '}' && !at_end()) return close();
                    continue;
                }
                if (starts_with("#Ref<")) return push(ref());
                unexpected(pos_ + 1);
            }
            if (is_digit(c) || c == '-' || c == '+' || c == '$') return push(number());
            if (c >= 'a' && c <= 'z') {
                while (!at_end() && is_atom_char(src_[pos_])) ++pos_;
                return push(make_atom(src_.substr(at, pos_ - at), at));
            }
            if (c == '\'') {
                const std::string name = quoted('\'');
                return push(make_atom(name, at));
            }
            if (c == '"') return push(Term::binary(quoted('"')));
            if (c == '<') {
                if (peek(1) == '<') return push(binary());
                if (is_digit(peek(1))) return push(pid());
            }
            unexpected(pos_);
        }
    }

    void push(Term t) { values_.push_back(std::move(t)); }

    // Finishes the innermost container at its closing bracket (pos_ on it).
    void close() {
        const Frame f = frames_.back();
        frames_.pop_back();
        ++pos_;
        Term* first = values_.data() + f.base;
        const std::size_t n = values_.size() - f.base;
        Term result;
        switch (f.state) {
            case State::Tuple: result = TermAccess::tuple_moving(first, n); break;
            case State::List: result = TermAccess::list_moving(first, n, Term()); break;
            case State::ListTail: {
                Term tail = std::move(values_.back());
                result = TermAccess::list_moving(first, n - 1, std::move(tail));
                break;
            }
            case State::MapKey:
            case State::MapValue: {
                std::vector<std::pair<Term, Term>> entries;
                entries.reserve(n / 2);
                for (std::size_t i = 0; i + 1 < n; i += 2)
                    entries.emplace_back(std::move(first[i]), std::move(first[i + 1]));
                result = Term::map(std::move(entries));
                break;
            }
        }
        values_.resize(f.base);
        values_.push_back(std::move(result));
    }

    // Called with a value just completed inside the innermost frame: consumes
    // the separator or closing bracket that must follow, and parses the next
    // value if there is one.
    void after_value() {
        skip_ws();
        Frame& f = frames_.back();
        const char c = at_end() ? '\0' : src_[pos_];
        switch (f.state) {
            case State::Tuple:
                if (c == ',') break;
                if (c == '}') return close();
                unexpected(pos_);
            case State::List:
                if (c == ',') break;
                if (c == '|') {
                    f.state = State::ListTail;
                    break;
                }
                if (c == ']') return close();
                unexpected(pos_);
            case State::ListTail:
                if (c == ']') return close();
                unexpected(pos_);
            case State::MapKey:
                if (starts_with("=>")) {
                    f.state = State::MapValue;
                    ++pos_;  // the second character is consumed below
                    break;
                }
                unexpected(pos_);
            case State::MapValue:
                if (c == ',') {
                    f.state = State::MapKey;
                    break;
                }
                if (c == '}') return close();
                unexpected(pos_);
        }
        ++pos_;
        parse_value();
    }

    std::string_view src_;
    bool existing_atoms_only_ = false;
    std::size_t pos_ = 0;
    std::vector<Term> values_;
    std::vector<Frame> frames_;
};

}  // namespace

Term Term::parse(std::string_view text) { return Parser(text).run(); }
Term Term::parse_existing_atoms(std::string_view text) { return Parser(text, true).run(); }

}  // namespace otpp
