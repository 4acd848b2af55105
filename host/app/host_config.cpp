#include "host_config.hpp"

#include "../code/module_version.hpp"

#include "../../sdk/src/utf8.hpp"  // the term parser's UTF-8 encoder, header-only

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace otpp::host {

namespace fs = std::filesystem;

// ----- ConfigError ------------------------------------------------------------

namespace {

std::string position_prefix(const std::string& file, std::size_t line, std::size_t column) {
    std::string out = file;
    if (line != 0) {
        out += ':' + std::to_string(line);
        if (column != 0) out += ':' + std::to_string(column);
    }
    return out + ": ";
}

}  // namespace

ConfigError::ConfigError(std::string file, std::size_t line, std::size_t column, std::string key,
                         std::string message)
    : ConfigError(file, line, column, key, message,
                  position_prefix(file, line, column) + (key.empty() ? message : key + ": " + message)) {}

ConfigError::ConfigError(std::string file, std::size_t line, std::size_t column, std::string key,
                         std::string message, std::string what)
    : Error(std::move(what)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      key_(std::move(key)),
      message_(std::move(message)) {}

ConfigError ConfigError::missing(std::string file, std::size_t line, std::size_t column, std::string key,
                                 std::string reason) {
    std::string message = "is required";
    if (!reason.empty()) message += ' ' + reason;
    std::string what = position_prefix(file, line, column) + key + ' ' + message;
    return ConfigError(std::move(file), line, column, std::move(key), std::move(message), std::move(what));
}

ConfigError::~ConfigError() = default;

bool operator==(const ChildSpec& a, const ChildSpec& b) {
    if (!(a.id == b.id && a.module == b.module && a.args == b.args && a.restart == b.restart && a.name == b.name &&
          a.shutdown == b.shutdown && a.type == b.type))
        return false;
    if (!a.supervisor || !b.supervisor) return !a.supervisor && !b.supervisor;
    return *a.supervisor == *b.supervisor;
}

namespace {

// ----- small text helpers -----------------------------------------------------------

using Names = std::span<const std::string_view>;

constexpr std::int64_t max_timeout_ms = std::numeric_limits<std::int32_t>::max();

bool is_bare_key(std::string_view key) {
    if (key.empty()) return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

// A TOML/JSON-style double-quoted string, cut after about `max_bytes` bytes
// (at a UTF-8 boundary).
std::string dquote(std::string_view s, std::size_t max_bytes = 80) {
    std::string out = "\"";
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (i >= max_bytes && (c & 0xC0) != 0x80) break;
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04X", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    if (i < s.size()) out += "...";
    return out;
}

std::string key_path(const std::string& parent, std::string_view key) {
    std::string k = is_bare_key(key) ? std::string(key) : dquote(key);
    return parent.empty() ? k : parent + "." + k;
}

std::string index_path(const std::string& parent, std::size_t i) {
    return parent + "[" + std::to_string(i) + "]";
}

// The TOML header naming a key path: application[0].supervisor.children -> application.supervisor.children.
std::string table_header(std::string_view path) {
    std::string out;
    bool in_index = false;
    for (char c : path) {
        if (c == '[') in_index = true;
        else if (c == ']') in_index = false;
        else if (!in_index) out += c;
    }
    return out;
}

std::string join_names(Names names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += ", ";
        out += names[i];
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

// The candidate `got` most likely meant: same letters in another case, a
// small edit distance, or a prefix of it (period -> period_ms).
std::optional<std::string_view> suggest(std::string_view got, Names candidates) {
    if (got.empty() || got.size() > 64) return std::nullopt;
    const std::string g = lower(got);
    std::optional<std::string_view> best;
    std::size_t best_distance = g.size() <= 3 ? 2 : 3;  // accept < this
    for (std::string_view c : candidates) {
        std::size_t dist = edit_distance(g, lower(c));
        if (dist < best_distance) {
            best = c;
            best_distance = dist;
        }
    }
    if (best) return best;
    for (std::string_view c : candidates) {
        std::string lc = lower(c);
        if (lc.size() >= 3 && g.size() >= 3 && (lc.starts_with(g) || g.starts_with(lc))) return c;
    }
    return std::nullopt;
}

std::string did_you_mean(std::string_view got, Names candidates) {
    if (auto s = suggest(got, candidates)) return " (did you mean " + dquote(*s) + "?)";
    return {};
}

// [a-z][A-Za-z0-9_@]*, at most 255 bytes: an atom that needs no quotes, as
// module names must be (otpp/module.hpp).
bool is_atom_name(std::string_view s) { return otpp::code::is_module_name(s); }

// "name@host": name [a-z][A-Za-z0-9_]*, host [A-Za-z0-9._-]+, at most 255 bytes in all.
bool is_node_name(std::string_view s) {
    if (s.size() > otpp::Atom::max_name_bytes) return false;
    std::size_t at = s.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
    std::string_view name = s.substr(0, at), host = s.substr(at + 1);
    if (!(name[0] >= 'a' && name[0] <= 'z')) return false;
    bool name_ok = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    bool host_ok = std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
    return name_ok && host_ok;
}

std::string_view type_name(toml::node_type t) {
    switch (t) {
        case toml::node_type::none: return "nothing";
        case toml::node_type::table: return "table";
        case toml::node_type::array: return "array";
        case toml::node_type::string: return "string";
        case toml::node_type::integer: return "integer";
        case toml::node_type::floating_point: return "float";
        case toml::node_type::boolean: return "boolean";
        case toml::node_type::date: return "date";
        case toml::node_type::time: return "time";
        case toml::node_type::date_time: return "date-time";
    }
    return "value";
}

// "string \"x\"", "integer 4", "table", ...: what was found instead.
std::string describe(const toml::node& n) {
    std::string out(type_name(n.type()));
    if (auto s = n.as_string()) out += ' ' + dquote(s->get());
    else if (auto i = n.as_integer()) out += ' ' + std::to_string(i->get());
    else if (auto b = n.as_boolean()) out += b->get() ? " true" : " false";
    else if (auto f = n.as_floating_point()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, " %g", f->get());
        out += buf;
    } else if (auto a = n.as_array(); a && !a->empty() && a->is_array_of_tables()) {
        out = "array of tables";
    }
    return out;
}

// ----- positions inside TOML string literals ----------------------------------------

struct Pos {
    std::size_t line = 1;
    std::size_t column = 1;
};

Pos pos_of(const toml::source_region& r) {
    if (r.begin.line == 0) return {};
    return {r.begin.line, r.begin.column};
}


// Re-reads the TOML string literal that starts at `start` (toml++'s position of
// its opening quote) and returns, for every byte of its decoded value, the
// file position of the character that produced it, plus one more entry for the
// closing quote. Empty if the literal cannot be followed or does not decode to
// `expected` (then callers fall back to the literal's start).
std::vector<Pos> string_literal_positions(std::string_view text, Pos start, std::string_view expected) {
    // Byte offset of start.line / start.column (columns count code points).
    std::size_t i = 0;
    if (text.starts_with("\xEF\xBB\xBF")) i = 3;
    for (std::size_t line = 1; line < start.line; ++line) {
        i = text.find('\n', i);
        if (i == std::string_view::npos) return {};
        ++i;
    }
    for (std::size_t col = 1; col < start.column; ++col) {
        if (i >= text.size() || text[i] == '\n') return {};
        ++i;
        while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    }

    Pos cur = start;
    auto at = [&](std::string_view s) { return text.substr(i).starts_with(s); };
    // Consumes one code point (or "\r\n" / "\n"), keeping `cur` up to date.
    auto advance = [&] {
        if (text[i] == '\n') {
            ++i;
            ++cur.line;
            cur.column = 1;
            return;
        }
        ++i;
        while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
        ++cur.column;
    };

    bool basic = false, multi = false;
    if (at("\"\"\"")) basic = multi = true;
    else if (at("'''")) multi = true;
    else if (at("\"")) basic = true;
    else if (!at("'")) return {};
    const char quote = basic ? '"' : '\'';
    for (int k = 0; k < (multi ? 3 : 1); ++k) advance();
    if (multi) {  // a newline right after the opening delimiter is trimmed
        if (at("\r\n")) {
            ++i;
            advance();
        } else if (at("\n")) {
            advance();
        }
    }

    std::string decoded;
    std::vector<Pos> map;
    auto emit = [&](std::string_view bytes, Pos p) {
        decoded += bytes;
        map.insert(map.end(), bytes.size(), p);
    };
    auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };

    while (i < text.size()) {
        const char c = text[i];
        if (c == quote) {
            if (!multi) break;
            std::size_t n = 0;
            while (i + n < text.size() && text[i + n] == quote) ++n;
            if (n >= 3) {
                for (std::size_t k = 0; k < n - 3 && k < 2; ++k) {  // up to two quotes belong to the content
                    emit(std::string_view(&text[i], 1), cur);
                    advance();
                }
                break;
            }
        }
        if (c == '\n' && !multi) return {};
        if (basic && c == '\\') {
            Pos p = cur;
            advance();
            if (i >= text.size()) return {};
            char e = text[i];
            if (multi && (e == ' ' || e == '\t' || e == '\r' || e == '\n')) {
                // line-ending backslash: drop whitespace and newlines up to the next character
                while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
                    advance();
                continue;
            }
            std::size_t digits = e == 'u' ? 4 : e == 'U' ? 8 : e == 'x' ? 2 : 0;
            if (digits) {
                advance();
                std::uint32_t cp = 0;
                for (std::size_t k = 0; k < digits; ++k) {
                    if (i >= text.size() || !is_hex(text[i])) return {};
                    const char h = text[i];
                    cp = cp * 16 + static_cast<std::uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                    advance();
                }
                std::string bytes;
                detail::utf8::encode(bytes, static_cast<char32_t>(cp));
                emit(bytes, p);
                continue;
            }
            char out;
            switch (e) {
                case 'b': out = '\b'; break;
                case 't': out = '\t'; break;
                case 'n': out = '\n'; break;
                case 'f': out = '\f'; break;
                case 'r': out = '\r'; break;
                case 'e': out = '\x1B'; break;
                case '"': out = '"'; break;
                case '\\': out = '\\'; break;
                default: return {};
            }
            emit(std::string_view(&out, 1), p);
            advance();
            continue;
        }
        if (multi && c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {  // CRLF reads as LF
            Pos p = cur;
            ++i;
            advance();
            emit("\n", p);
            continue;
        }
        Pos p = cur;
        std::size_t from = i;
        advance();
        emit(text.substr(from, i - from), p);
    }
    if (i >= text.size()) return {};
    map.push_back(cur);  // the closing quote
    if (decoded != expected) return {};
    return map;
}

// ----- the loader -----------------------------------------------------------------

constexpr std::string_view root_keys[] = {"node", "code", "control", "distribution", "log", "application"};
constexpr std::string_view distribution_keys[] = {"enabled",    "names",      "cookie", "net_ticktime_s",
                                                   "port",       "hidden",     "tls",    "certfile",
                                                   "keyfile",    "cacertfile", "verify", "fail_if_no_peer_cert",
                                                   "verify_hostname", "busy_limit_kib"};
constexpr std::string_view tls_keys[] = {"certfile", "keyfile", "cacertfile", "verify", "fail_if_no_peer_cert",
                                         "verify_hostname"};
constexpr std::string_view verify_modes[] = {"verify_peer", "verify_none"};
constexpr std::string_view name_modes[] = {"shortnames", "longnames"};
constexpr std::string_view node_keys[] = {"name", "schedulers", "stuck_after_ms", "default_stack_kib"};
constexpr std::string_view code_keys[] = {"plugin_dirs", "private_dir", "watch"};
constexpr std::string_view control_keys[] = {"runtime_dir", "enabled", "max_clients", "idle_timeout_ms"};
constexpr std::string_view log_keys[] = {"level", "sink"};
constexpr std::string_view log_levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
constexpr std::string_view log_sinks[] = {"stderr", "stdout", "file:"};
constexpr std::string_view application_keys[] = {"name", "supervisor"};
constexpr std::string_view supervisor_keys[] = {"strategy", "intensity", "period_ms", "children"};
constexpr std::string_view child_keys[] = {"id", "module", "args", "restart", "shutdown", "type", "supervisor", "name"};
constexpr std::string_view shutdown_words[] = {"brutal_kill", "infinity"};

class Loader {
public:
    Loader(std::string_view text, std::string file, fs::path source)
        : text_(text), file_(std::move(file)), source_(std::move(source)), base_dir_(source_.parent_path()) {}

    HostConfig run() {
        toml::table root;
        try {
            root = toml::parse(text_, std::string_view(file_));
        } catch (const toml::parse_error& e) {
            Pos p = pos_of(e.source());
            throw ConfigError(file_, p.line, p.column, "", "invalid TOML: " + std::string(e.description()));
        }

        HostConfig config;
        config.source = source_;
        check_keys(root, "", root_keys);

        const toml::table* node = get_table(root, "", "node");
        if (!node) missing(root, "node.name");
        read_node(*node, config.node);
        if (const toml::table* code = get_table(root, "", "code")) read_code(*code, config);
        else default_code(config);
        if (const toml::table* control = get_table(root, "", "control")) read_control(*control, config);
        else default_control(config);
        if (const toml::table* dist = get_table(root, "", "distribution")) read_distribution(*dist, config.distribution);
        if (const toml::table* log = get_table(root, "", "log")) read_log(*log, config.log);
        read_applications(root, config.applications);
        return config;
    }

private:
    // ----- errors -----

    [[noreturn]] void fail(Pos p, const std::string& key, std::string message) const {
        throw ConfigError(file_, p.line, p.column, key, std::move(message));
    }
    [[noreturn]] void fail(const toml::node& at, const std::string& key, std::string message) const {
        fail(pos_of(at.source()), key, std::move(message));
    }
    // `key` (a full path) is absent from `table`.
    [[noreturn]] void missing(const toml::node& table, const std::string& key, std::string reason = {}) const {
        Pos p = pos_of(table.source());
        throw ConfigError::missing(file_, p.line, p.column, key, std::move(reason));
    }
    [[noreturn]] void wrong_type(const toml::node& n, const std::string& key, std::string_view expected) const {
        fail(n, key, "expected " + std::string(expected) + "; got " + describe(n));
    }

    // ----- generic readers -----

    // Every key of `t` must be one of `allowed`; reports the first unknown one in file order.
    void check_keys(const toml::table& t, const std::string& path, Names allowed) const {
        const toml::key* first = nullptr;
        for (auto&& [k, v] : t) {
            (void)v;
            if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
            auto before = [](const toml::key& a, const toml::key& b) {
                return std::pair(a.source().begin.line, a.source().begin.column) <
                       std::pair(b.source().begin.line, b.source().begin.column);
            };
            if (!first || before(k, *first)) first = &k;
        }
        if (!first) return;
        std::string message = "unknown key";
        if (auto s = suggest(first->str(), allowed)) message += " (did you mean " + dquote(*s) + "?)";
        else message += " (valid keys here: " + join_names(allowed) + ")";
        fail(pos_of(first->source()), key_path(path, first->str()), std::move(message));
    }

    const toml::table* get_table(const toml::table& t, const std::string& path, std::string_view key) const {
        const toml::node* n = t.get(key);
        if (!n) return nullptr;
        if (!n->is_table()) wrong_type(*n, key_path(path, key), "table");
        return n->as_table();
    }

    // An array whose elements are all tables ([[key]] or [{...}, ...]).
    const toml::array* get_table_array(const toml::table& t, const std::string& path, std::string_view key) const {
        const toml::node* n = t.get(key);
        if (!n) return nullptr;
        const std::string p = key_path(path, key);
        const toml::array* a = n->as_array();
        if (!a) wrong_type(*n, p, "an array of tables ([[" + table_header(p) + "]])");
        for (std::size_t i = 0; i < a->size(); ++i)
            if (!(*a)[i].is_table()) wrong_type((*a)[i], index_path(p, i), "table");
        return a;
    }

    const toml::value<std::string>* get_string(const toml::table& t, const std::string& path,
                                               std::string_view key) const {
        const toml::node* n = t.get(key);
        if (!n) return nullptr;
        if (!n->is_string()) wrong_type(*n, key_path(path, key), "string");
        return n->as_string();
    }

    std::optional<bool> get_bool(const toml::table& t, const std::string& path, std::string_view key) const {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (!n->is_boolean()) wrong_type(*n, key_path(path, key), "boolean");
        return n->as_boolean()->get();
    }

    std::optional<std::int64_t> get_int(const toml::table& t, const std::string& path, std::string_view key,
                                        std::int64_t lo, std::int64_t hi) const {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (!n->is_integer()) wrong_type(*n, key_path(path, key), "integer");
        std::int64_t v = n->as_integer()->get();
        if (v < lo || v > hi) fail(*n, key_path(path, key), "expected an integer in " + range(lo, hi) + "; got " +
                                                                std::to_string(v));
        return v;
    }

    static std::string range(std::int64_t lo, std::int64_t hi) {
        return std::to_string(lo) + ".." + std::to_string(hi);
    }

    // A string naming one of `names`; its index, or nullopt when absent.
    std::optional<std::size_t> get_enum(const toml::table& t, const std::string& path, std::string_view key,
                                        Names names) const {
        const toml::value<std::string>* s = get_string(t, path, key);
        if (!s) return std::nullopt;
        for (std::size_t i = 0; i < names.size(); ++i)
            if (names[i] == s->get()) return i;
        fail(*s, key_path(path, key),
             "expected one of " + join_names(names) + "; got " + dquote(s->get()) + did_you_mean(s->get(), names));
    }

    // A required atom ([a-z][A-Za-z0-9_@]*).
    otpp::Atom get_atom(const toml::table& t, const std::string& path, std::string_view key) const {
        const toml::value<std::string>* s = get_string(t, path, key);
        if (!s) missing(t, key_path(path, key));
        if (!is_atom_name(s->get()))
            fail(*s, key_path(path, key),
                 "expected an atom (a lowercase letter, then letters, digits, _ or @; at most 255 bytes); got " +
                     dquote(s->get()));
        return otpp::Atom(s->get());
    }

    // A non-empty path string, resolved against the config file's directory.
    std::optional<fs::path> get_path(const toml::table& t, const std::string& path, std::string_view key) const {
        const toml::value<std::string>* s = get_string(t, path, key);
        if (!s) return std::nullopt;
        if (s->get().empty()) fail(*s, key_path(path, key), "expected a path; got an empty string");
        return resolve(s->get());
    }

    fs::path resolve(const std::string& p) const {
        fs::path path(p);
        if (path.is_relative()) path = base_dir_ / path;
        path = path.lexically_normal();
        if (!path.has_filename() && path.has_relative_path()) path = path.parent_path();  // "dir/" -> "dir"
        return path;
    }

    // ----- sections -----

    void read_node(const toml::table& t, NodeConfig& node) const {
        const std::string path = "node";
        check_keys(t, path, node_keys);
        const toml::value<std::string>* name = get_string(t, path, "name");
        if (!name) missing(t, "node.name");
        if (!is_node_name(name->get()))
            fail(*name, "node.name",
                 "expected \"name@host\" (name: a lowercase letter, then letters, digits or _; host: letters, "
                 "digits, ., - or _; at most 255 bytes); got " +
                     dquote(name->get()));
        node.name = name->get();
        if (auto v = get_int(t, path, "schedulers", 0, 1024)) node.schedulers = static_cast<unsigned>(*v);
        if (auto v = get_int(t, path, "stuck_after_ms", 1, 60000)) node.stuck_after_ms = *v;
        if (auto v = get_int(t, path, "default_stack_kib", 16, 1024)) {
            if ((*v & (*v - 1)) != 0)
                fail(*t.get("default_stack_kib"), "node.default_stack_kib",
                     "expected a power of two in 16..1024 (16, 32, 64, 128, 256, 512 or 1024); got " +
                         std::to_string(*v));
            node.default_stack_kib = static_cast<std::size_t>(*v);
        }
    }

    void default_code(HostConfig& config) const {
        config.code.private_dir = default_private_dir(config.node.name);
    }

    void read_code(const toml::table& t, HostConfig& config) const {
        const std::string path = "code";
        check_keys(t, path, code_keys);
        if (const toml::node* n = t.get("plugin_dirs")) {
            const toml::array* a = n->as_array();
            if (!a) wrong_type(*n, "code.plugin_dirs", "an array of strings");
            for (std::size_t i = 0; i < a->size(); ++i) {
                const toml::node& e = (*a)[i];
                const std::string p = index_path("code.plugin_dirs", i);
                if (!e.is_string()) wrong_type(e, p, "string");
                const std::string& s = e.as_string()->get();
                if (s.empty()) fail(e, p, "expected a directory; got an empty string");
                fs::path dir = resolve(s);
                std::error_code ec;
                fs::file_status st = fs::status(dir, ec);
                if (!fs::exists(st)) fail(e, p, "no such directory: " + dir.string());
                if (!fs::is_directory(st)) fail(e, p, "not a directory: " + dir.string());
                config.code.plugin_dirs.push_back(std::move(dir));
            }
        }
        if (auto p = get_path(t, path, "private_dir")) config.code.private_dir = *p;
        else config.code.private_dir = default_private_dir(config.node.name);
        if (auto w = get_bool(t, path, "watch")) config.code.watch = *w;
    }

    void default_control(HostConfig& config) const { config.control.runtime_dir = default_runtime_dir(); }

    void read_control(const toml::table& t, HostConfig& config) const {
        check_keys(t, "control", control_keys);
        if (auto p = get_path(t, "control", "runtime_dir")) config.control.runtime_dir = *p;
        else config.control.runtime_dir = default_runtime_dir();
        if (auto b = get_bool(t, "control", "enabled")) config.control.enabled = *b;
        if (auto v = get_int(t, "control", "max_clients", 1, 1024)) config.control.max_clients = static_cast<unsigned>(*v);
        if (auto v = get_int(t, "control", "idle_timeout_ms", 1, max_timeout_ms)) config.control.idle_timeout_ms = *v;
    }

    void read_distribution(const toml::table& t, DistributionConfig& d) const {
        const std::string path = "distribution";
        check_keys(t, path, distribution_keys);
        if (auto b = get_bool(t, path, "enabled")) d.enabled = *b;
        if (auto i = get_enum(t, path, "names", name_modes)) d.long_names = *i == 1;
        if (const toml::value<std::string>* s = get_string(t, path, "cookie")) {
            if (s->get().empty()) fail(*s, path + ".cookie", "expected a cookie; got an empty string");
            d.cookie = s->get();
        }
        if (auto v = get_int(t, path, "net_ticktime_s", 1, 3600)) d.net_ticktime_s = *v;
        if (auto v = get_int(t, path, "busy_limit_kib", 1, 2097151)) d.busy_limit_kib = *v;
        if (auto v = get_int(t, path, "port", 0, 65535)) d.port = *v;
        if (auto b = get_bool(t, path, "hidden")) d.hidden = *b;
        read_distribution_tls(t, d);
    }

    void read_distribution_tls(const toml::table& t, DistributionConfig& d) const {
        const std::string path = "distribution";
        const auto tls = get_bool(t, path, "tls");
        if (!tls) {
            // TLS settings without `tls` would leave the node on plain TCP
            // while its operator believes otherwise.
            for (std::string_view k : tls_keys)
                if (const toml::node* n = t.get(k))
                    fail(*n, key_path(path, k), "a TLS setting, but distribution.tls is not set: add tls = true (or "
                                                "tls = false to keep them unused)");
            return;
        }
        d.tls = *tls;
        if (auto p = get_path(t, path, "certfile")) d.certfile = *p;
        if (auto p = get_path(t, path, "keyfile")) d.keyfile = *p;
        if (auto p = get_path(t, path, "cacertfile")) d.cacertfile = *p;
        if (auto i = get_enum(t, path, "verify", verify_modes)) d.verify_peer = *i == 0;
        if (auto b = get_bool(t, path, "fail_if_no_peer_cert")) d.fail_if_no_peer_cert = *b;
        if (auto b = get_bool(t, path, "verify_hostname")) d.verify_hostname = *b;
        if (!d.tls) return;
        if (d.certfile.empty()) missing(t, "distribution.certfile", "with tls = true (this node's certificate, PEM)");
        if (d.verify_peer && d.cacertfile.empty())
            missing(t, "distribution.cacertfile",
                    "with tls = true and verify = \"verify_peer\" (the CAs that sign peers' certificates, PEM)");
    }

    void read_log(const toml::table& t, LogConfig& log) const {
        const std::string path = "log";
        check_keys(t, path, log_keys);
        if (auto i = get_enum(t, path, "level", log_levels)) log.level = std::string(log_levels[*i]);
        if (const toml::value<std::string>* s = get_string(t, path, "sink")) {
            const std::string& v = s->get();
            if (v == "stderr" || v == "stdout") {
                log.sink = v;
            } else if (v.starts_with("file:") && v.size() > 5) {
                log.sink = "file:" + resolve(v.substr(5)).string();
            } else {
                fail(*s, "log.sink",
                     "expected \"stderr\", \"stdout\" or \"file:<path>\"; got " + dquote(v) + did_you_mean(v, log_sinks));
            }
        }
    }

    void read_applications(const toml::table& root, std::vector<ApplicationSpec>& out) const {
        const toml::array* apps = get_table_array(root, "", "application");
        if (!apps) return;
        std::map<otpp::Atom, std::pair<std::size_t, Pos>> seen;  // name -> index, position
        for (std::size_t i = 0; i < apps->size(); ++i) {
            const toml::table& t = *(*apps)[i].as_table();
            const std::string path = index_path("application", i);
            check_keys(t, path, application_keys);
            ApplicationSpec app;
            app.name = get_atom(t, path, "name");
            const toml::node& name_node = *t.get("name");
            auto [it, fresh] = seen.try_emplace(app.name, i, pos_of(name_node.source()));
            if (!fresh)
                fail(name_node, key_path(path, "name"),
                     "duplicate application name " + dquote(app.name.name()) + " (already used by " +
                         index_path("application", it->second.first) + " at line " +
                         std::to_string(it->second.second.line) + ")");
            const toml::table* sup = get_table(t, path, "supervisor");
            app.supervisor = read_supervisor(sup ? *sup : t, sup != nullptr, key_path(path, "supervisor"), 1);
            out.push_back(std::move(app));
        }
    }

    // `t` is the supervisor table, or (present == false) the table that lacks
    // one: then every setting takes its default and there are no children.
    SupervisorSpec read_supervisor(const toml::table& t, bool present, const std::string& path, int depth) const {
        SupervisorSpec spec;
        if (!present) return spec;
        if (depth > max_supervision_depth)
            fail(t, path,
                 "supervision tree nested too deep (more than " + std::to_string(max_supervision_depth) +
                     " levels of supervisors)");
        check_keys(t, path, supervisor_keys);
        if (auto s = get_enum(t, path, "strategy", strategy_names)) spec.strategy = static_cast<Strategy>(*s);
        if (auto v = get_int(t, path, "intensity", 0, std::numeric_limits<int>::max()))
            spec.intensity = static_cast<int>(*v);
        if (auto v = get_int(t, path, "period_ms", 1, max_timeout_ms)) spec.period = std::chrono::milliseconds(*v);

        const toml::array* children = get_table_array(t, path, "children");
        const std::string cpath = key_path(path, "children");
        if (spec.strategy == Strategy::simple_one_for_one) {
            std::size_t n = children ? children->size() : 0;
            if (n == 0)
                missing(t, index_path(cpath, 0),
                        "for a simple_one_for_one supervisor (exactly one child spec, the template)");
            if (n > 1)
                fail((*children)[1], cpath,
                     "a simple_one_for_one supervisor takes exactly one child spec (the template for the children "
                     "it starts later); got " +
                         std::to_string(n));
        }
        if (!children) return spec;

        std::map<otpp::Atom, std::pair<std::size_t, Pos>> seen;
        for (std::size_t i = 0; i < children->size(); ++i) {
            const toml::table& c = *(*children)[i].as_table();
            const std::string p = index_path(cpath, i);
            ChildSpec child = read_child(c, p, depth);
            const toml::node& id_node = *c.get("id");
            auto [it, fresh] = seen.try_emplace(child.id, i, pos_of(id_node.source()));
            if (!fresh)
                fail(id_node, key_path(p, "id"),
                     "duplicate child id " + dquote(child.id.name()) + " (already used by " +
                         index_path(cpath, it->second.first) + " at line " + std::to_string(it->second.second.line) +
                         ")");
            spec.children.push_back(std::move(child));
        }
        return spec;
    }

    ChildSpec read_child(const toml::table& t, const std::string& path, int depth) const {
        check_keys(t, path, child_keys);
        ChildSpec child;
        child.id = get_atom(t, path, "id");
        child.module = get_atom(t, path, "module");
        if (t.get("name")) child.name = get_atom(t, path, "name");
        if (auto i = get_enum(t, path, "type", child_type_names)) child.type = static_cast<ChildType>(*i);
        if (auto i = get_enum(t, path, "restart", restart_names)) child.restart = static_cast<Restart>(*i);
        child.shutdown = read_shutdown(t, path, child.type);
        if (const toml::value<std::string>* a = get_string(t, path, "args")) child.args = parse_args(*a, path);

        const toml::table* sup = get_table(t, path, "supervisor");
        const std::string spath = key_path(path, "supervisor");
        if (child.type == ChildType::supervisor) {
            if (!sup) missing(t, spath, "for a child of type \"supervisor\" (its strategy and children)");
            child.supervisor = std::make_shared<const SupervisorSpec>(read_supervisor(*sup, true, spath, depth + 1));
        } else if (sup) {
            fail(*sup, spath,
                 "only a child of type \"supervisor\" has a supervisor table (this child's type is \"worker\")");
        }
        return child;
    }

    Shutdown read_shutdown(const toml::table& t, const std::string& path, ChildType type) const {
        const toml::node* n = t.get("shutdown");
        if (!n) return Shutdown::default_for(type);
        const std::string p = key_path(path, "shutdown");
        const std::string expected = "an integer (milliseconds) in " + range(0, max_timeout_ms) +
                                     ", \"brutal_kill\" or \"infinity\"";
        if (auto i = n->as_integer()) {
            if (i->get() < 0 || i->get() > max_timeout_ms)
                fail(*n, p, "expected " + expected + "; got " + std::to_string(i->get()));
            return Shutdown::after(std::chrono::milliseconds(i->get()));
        }
        if (auto s = n->as_string()) {
            if (s->get() == "brutal_kill") return Shutdown::brutal_kill();
            if (s->get() == "infinity") return Shutdown::infinity();
            fail(*n, p, "expected " + expected + "; got " + dquote(s->get()) + did_you_mean(s->get(), shutdown_words));
        }
        wrong_type(*n, p, expected);
    }

    otpp::Term parse_args(const toml::value<std::string>& s, const std::string& path) const {
        const std::string p = key_path(path, "args");
        try {
            return otpp::Term::parse(s.get());
        } catch (const otpp::ParseError& e) {
            Pos where = pos_of(s.source());
            std::vector<Pos> map = string_literal_positions(text_, where, s.get());
            if (!map.empty()) where = map[std::min(e.offset(), map.size() - 1)];
            fail(where, p, "invalid Erlang term: " + e.message());
        } catch (const otpp::Error& e) {
            fail(s, p, std::string("invalid Erlang term: ") + e.what());
        }
    }

    // ----- environment-dependent defaults -----

    static fs::path env_dir(const char* var) {
        const char* v = std::getenv(var);
        if (!v || !*v) return {};
        fs::path p(v);
        std::error_code ec;
        if (p.is_relative()) p = fs::absolute(p, ec);
        return p.lexically_normal();
    }

    static fs::path default_private_dir(const std::string& node_name) {
        fs::path tmp = env_dir("TMPDIR");
        if (tmp.empty()) tmp = "/tmp";
        return tmp / ("otpp-" + node_name);
    }

    static fs::path default_runtime_dir() {
        fs::path xdg = env_dir("XDG_RUNTIME_DIR");
        if (!xdg.empty()) return xdg / "otpp";
        return fs::path("/tmp") / ("otpp-" + std::to_string(::getuid()));
    }

    std::string_view text_;
    std::string file_;
    fs::path source_;
    fs::path base_dir_;
};

fs::path absolute_source(const std::string& name) {
    std::error_code ec;
    fs::path p = fs::absolute(fs::path(name), ec);
    if (ec) p = fs::path(name);
    return p.lexically_normal();
}

}  // namespace

HostConfig parse_host_config(std::string_view text, std::string source_name) {
    fs::path source = absolute_source(source_name);
    return Loader(text, std::move(source_name), std::move(source)).run();
}

HostConfig load_host_config(const fs::path& path) {
    const std::string file = path.string();
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw ConfigError(file, 0, 0, "", "cannot read the file: it is a directory");
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (!f) throw ConfigError(file, 0, 0, "", std::string("cannot read the file: ") + std::strerror(errno));
    std::string text;
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    const bool failed = std::ferror(f) != 0;
    const int err = errno;
    std::fclose(f);
    if (failed) throw ConfigError(file, 0, 0, "", std::string("cannot read the file: ") + std::strerror(err));
    return parse_host_config(text, file);
}

}  // namespace otpp::host
