// Printing terms in Erlang syntax.
//
// Iterative (explicit stack), so any nesting depth is safe; containers nested
// deeper than Term::max_depth print as "..." (the parser would reject them
// anyway). Output is stable: "{a,1}", "[1,2|t]", "#{a => 1,b => 2}" (the
// spacing of io_lib's ~p on one line), "<<\"text\">>" or "<<1,2,3>>".
#include <charconv>
#include <cstdint>
#include <ostream>
#include <string>
#include <system_error>

#include "otpp/term.hpp"
#include "small_stack.hpp"
#include "term_access.hpp"
#include "term_syntax.hpp"

namespace otpp {

using detail::TermAccess;

namespace {

void append_int(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// Shortest text that reads back as the same double, in Erlang float syntax:
// always a '.' with digits on both sides, exponent without '+' or leading zeros.
void append_float(std::string& out, double d) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    const std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
    const std::size_t e = s.find('e');
    const std::string_view mantissa = s.substr(0, e);
    out += mantissa;
    if (mantissa.find('.') == std::string_view::npos) out += ".0";
    if (e != std::string_view::npos) {
        std::string_view exp = s.substr(e + 1);
        out += 'e';
        if (exp.front() == '+') {
            exp.remove_prefix(1);
        } else if (exp.front() == '-') {
            out += '-';
            exp.remove_prefix(1);
        }
        while (exp.size() > 1 && exp.front() == '0') exp.remove_prefix(1);
        out += exp;
    }
}

void append_pid(std::string& out, const Pid& p) {
    out += '<';
    append_int(out, std::uint64_t{p.node});
    out += '.';
    append_int(out, std::uint64_t{p.id});
    out += '.';
    append_int(out, std::uint64_t{p.serial});
    out += '>';
}

void append_ref(std::string& out, const Ref& r) {
    out += "#Ref<";
    append_int(out, std::uint64_t{r.node});
    out += '.';
    append_int(out, r.id >> 32);
    out += '.';
    append_int(out, r.id & 0xFFFFFFFFu);
    out += '>';
}

class Printer {
public:
    Printer(std::string& out, std::size_t limit) : out_(out), limit_(limit) {}

    // Returns false if the output was cut at the limit.
    bool print(const Term& root) {
        visit(root);
        while (!stack_.empty() && !full()) {
            Frame& f = stack_.back();
            const Term& t = *f.term;
            const std::uint32_t n = TermAccess::aux(t);
            const std::uint32_t i = f.i++;  // f may be invalidated by visit() below
            switch (t.kind()) {
                case TermKind::Tuple:
                    if (i < n) {
                        if (i > 0) out_ += ',';
                        visit(TermAccess::tuple_elements(t)[i]);
                    } else {
                        out_ += '}';
                        stack_.pop();
                    }
                    break;
                case TermKind::List:
                    if (i < n) {
                        if (i > 0) out_ += ',';
                        visit(TermAccess::list_elements(t)[i]);
                    } else if (i == n && !TermAccess::list_tail(t).is_nil()) {
                        out_ += '|';
                        visit(TermAccess::list_tail(t));
                    } else {
                        out_ += ']';
                        stack_.pop();
                    }
                    break;
                case TermKind::Map:
                    if (i < 2 * n) {
                        const MapEntry& e = TermAccess::map_entries(t)[i / 2];
                        if (i % 2 == 0) {
                            if (i > 0) out_ += ',';
                            visit(e.key);
                        } else {
                            out_ += " => ";
                            visit(e.value);
                        }
                    } else {
                        out_ += '}';
                        stack_.pop();
                    }
                    break;
                default: stack_.pop(); break;
            }
        }
        return !full();
    }

private:
    struct Frame {
        const Term* term;
        std::uint32_t i;
    };

    bool full() const noexcept { return out_.size() > limit_; }

    void open(const Term& t, const char* bracket) {
        if (stack_.size() >= Term::max_depth) {
            out_ += "...";
            return;
        }
        out_ += bracket;
        stack_.push({&t, 0});
    }

    void visit(const Term& t) {
        switch (t.kind()) {
            case TermKind::Integer: append_int(out_, TermAccess::integer(t)); break;
            case TermKind::Float: append_float(out_, TermAccess::floating(t)); break;
            case TermKind::Atom: detail::append_atom(out_, TermAccess::atom(t).name()); break;
            case TermKind::Reference: append_ref(out_, t.get<Ref>()); break;
            case TermKind::Pid: append_pid(out_, t.get<Pid>()); break;
            case TermKind::Nil: out_ += "[]"; break;
            case TermKind::Binary: binary(TermAccess::binary_bytes(t)); break;
            case TermKind::Tuple:
                if (TermAccess::aux(t) == 0) {
                    out_ += "{}";
                } else {
                    open(t, "{");
                }
                break;
            case TermKind::Map:
                if (TermAccess::aux(t) == 0) {
                    out_ += "#{}";
                } else {
                    open(t, "#{");
                }
                break;
            case TermKind::List: open(t, "["); break;
        }
    }

    void binary(std::string_view bytes) {
        if (bytes.empty()) {
            out_ += "<<>>";
            return;
        }
        // A huge binary in a truncated message: only format what can be shown.
        const bool cut = limit_ != std::string::npos && bytes.size() > limit_;
        const std::string_view shown = cut ? bytes.substr(0, limit_) : bytes;
        out_ += "<<";
        if (detail::is_printable_text(shown)) {
            detail::append_quoted(out_, shown, '"');
        } else {
            for (std::size_t i = 0; i < shown.size() && !full(); ++i) {
                if (i > 0) out_ += ',';
                append_int(out_, std::uint64_t{static_cast<unsigned char>(shown[i])});
            }
        }
        out_ += ">>";
    }

    std::string& out_;
    std::size_t limit_;
    detail::SmallStack<Frame, 32> stack_;
};

}  // namespace

std::string Term::to_string() const {
    std::string out;
    Printer(out, std::string::npos).print(*this);
    return out;
}

std::string Term::to_string(std::size_t max_chars) const {
    std::string out;
    if (!Printer(out, max_chars).print(*this) || out.size() > max_chars) {
        std::size_t keep = max_chars;
        while (keep > 0 && (static_cast<unsigned char>(out[keep]) & 0xC0) == 0x80) --keep;  // whole code points
        out.resize(keep);
        out += "...";
    }
    return out;
}

std::ostream& operator<<(std::ostream& os, const Term& t) { return os << t.to_string(); }

std::string to_string(const Pid& p) {
    std::string out;
    append_pid(out, p);
    return out;
}

std::ostream& operator<<(std::ostream& os, const Pid& p) { return os << to_string(p); }

std::string to_string(const Ref& r) {
    std::string out;
    append_ref(out, r);
    return out;
}

std::ostream& operator<<(std::ostream& os, const Ref& r) { return os << to_string(r); }

}  // namespace otpp
