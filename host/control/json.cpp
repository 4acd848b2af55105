#include "json.hpp"

#include <cstdio>

namespace otpp::control {

bool valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        char32_t cp;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const unsigned char cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        static constexpr char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

std::string json_string(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
    return out;
}

namespace {

// The text a map key or a scalar stands for as a JSON string.
std::string text_of(const Term& t) {
    if (t.is_atom()) return std::string(t.get<Atom>().name());
    if (t.is_binary() && valid_utf8(t.bytes())) return std::string(t.bytes());
    return t.to_string();
}

void encode(const Term& t, std::string& out, std::size_t depth) {
    if (depth > Term::max_depth) {  // cannot happen for parsed terms; be safe anyway
        out += "null";
        return;
    }
    switch (t.kind()) {
        case TermKind::Integer:
        case TermKind::Float: out += t.to_string(); return;
        case TermKind::Atom: {
            Atom a = t.get<Atom>();
            if (a == atoms::true_) out += "true";
            else if (a == atoms::false_) out += "false";
            else if (a == atoms::undefined) out += "null";
            else out += json_string(a.name());
            return;
        }
        case TermKind::Binary:
        case TermKind::Pid:
        case TermKind::Reference: out += json_string(text_of(t)); return;
        case TermKind::Map: {
            out += '{';
            bool first = true;
            for (const MapEntry& e : t.entries()) {
                if (!first) out += ',';
                first = false;
                out += json_string(text_of(e.key));
                out += ':';
                encode(e.value, out, depth + 1);
            }
            out += '}';
            return;
        }
        case TermKind::Tuple:
        case TermKind::Nil:
        case TermKind::List: {
            out += '[';
            bool first = true;
            for (const Term& e : t.elements()) {
                if (!first) out += ',';
                first = false;
                encode(e, out, depth + 1);
            }
            if (t.kind() == TermKind::List && !t.tail().is_nil()) {
                if (!first) out += ',';
                encode(t.tail(), out, depth + 1);
            }
            out += ']';
            return;
        }
    }
}

}  // namespace

std::string to_json(const Term& term) {
    std::string out;
    encode(term, out, 0);
    return out;
}

}  // namespace otpp::control
