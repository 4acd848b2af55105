#include "term_syntax.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "utf8.hpp"

namespace otpp::detail {

namespace {

// Sorted, for binary search.
constexpr std::array<std::string_view, 29> reserved_words = {
    "after", "and", "andalso", "band", "begin", "bnot", "bor",    "bsl",     "bsr", "bxor",
    "case",  "catch", "cond",  "div",  "else",  "end",  "fun",    "if",      "let", "maybe",
    "not",   "of",  "or",      "orelse", "receive", "rem", "try", "when",    "xor"};
static_assert(std::is_sorted(reserved_words.begin(), reserved_words.end()));

bool is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool is_atom_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@';
}

// Escape for a control character / DEL / C1 control, or nullptr.
const char* simple_escape(char32_t cp) noexcept {
    switch (cp) {
        case '\n': return "\\n";
        case '\r': return "\\r";
        case '\t': return "\\t";
        case '\v': return "\\v";
        case '\b': return "\\b";
        case '\f': return "\\f";
        case 0x1B: return "\\e";
        case 0x7F: return "\\d";
        case '\\': return "\\\\";
        default: return nullptr;
    }
}

bool printable_code_point(char32_t cp) noexcept {
    if (cp >= 0x20 && cp < 0x7F) return true;
    switch (cp) {
        case '\n': case '\r': case '\t': case '\v': case '\b': case '\f': case 0x1B: return true;
        default: break;
    }
    return (cp >= 0xA0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

}  // namespace

bool is_reserved_word(std::string_view name) noexcept {
    return std::binary_search(reserved_words.begin(), reserved_words.end(), name);
}

bool atom_is_bare(std::string_view name) noexcept {
    if (name.empty() || !is_lower(name[0])) return false;
    for (char c : name)
        if (!is_atom_char(c)) return false;
    return !is_reserved_word(name);
}

void append_atom(std::string& out, std::string_view name) {
    if (atom_is_bare(name)) {
        out += name;
    } else {
        append_quoted(out, name, '\'');
    }
}

void append_quoted(std::string& out, std::string_view text, char quote) {
    out += quote;
    std::size_t run = 0;  // start of the pending run of bytes copied verbatim
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7F && c != '\\' && c != static_cast<unsigned char>(quote)) {
            ++i;
            continue;
        }
        const std::size_t at = i;
        const char32_t cp = utf8::decode(text, i);
        if (cp != utf8::invalid && cp >= 0xA0) continue;  // printable non-ASCII: keep raw UTF-8
        out.append(text.substr(run, at - run));
        run = i;
        if (cp == static_cast<char32_t>(static_cast<unsigned char>(quote))) {
            out += '\\';
            out += quote;
        } else if (const char* esc = simple_escape(cp)) {
            out += esc;
        } else {
            // Other controls (and C1 controls, or a stray byte as a last resort).
            const std::uint32_t v = cp == utf8::invalid ? static_cast<unsigned char>(text[at]) : cp;
            static constexpr char hex[] = "0123456789ABCDEF";
            out += "\\x{";
            bool started = false;
            for (int shift = 20; shift >= 0; shift -= 4) {
                const unsigned d = (v >> shift) & 0xF;
                if (d != 0 || started || shift == 0) {
                    out += hex[d];
                    started = true;
                }
            }
            out += '}';
        }
    }
    out.append(text.substr(run));
    out += quote;
}

bool is_printable_text(std::string_view bytes) noexcept {
    for (std::size_t i = 0; i < bytes.size();) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c >= 0x20 && c < 0x7F) {
            ++i;
            continue;
        }
        const char32_t cp = utf8::decode(bytes, i);
        if (cp == utf8::invalid || !printable_code_point(cp)) return false;
    }
    return true;
}

}  // namespace otpp::detail
