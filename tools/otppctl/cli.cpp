#include "cli.hpp"

#include <json.hpp>

#include <otpp/error.hpp>

#include <algorithm>
#include <cmath>
#include <cinttypes>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <thread>

namespace otppctl {

using namespace otpp;

namespace {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ----- term helpers -----

const Term& field(const Term& m, const char* key) {
    static const Term nothing = atoms::undefined;
    if (!m.is_map()) return nothing;
    const Term* v = m.find(Atom(key));
    return v ? *v : nothing;
}

// A term as table text: binaries as their bytes, atoms by name, else Erlang text.
std::string text(const Term& t) {
    if (t.is_binary()) return std::string(t.bytes());
    if (t.is_atom()) return t.is_atom(atoms::undefined) ? "" : std::string(t.get<Atom>().name());
    return t.to_string(2000);
}

std::int64_t integer(const Term& t) { return t.try_get<std::int64_t>().value_or(0); }

std::string bytes_text(std::int64_t n) {
    char buf[32];
    if (n >= 10 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%" PRId64 "M", n / (1024 * 1024));
    else if (n >= 10 * 1024) std::snprintf(buf, sizeof buf, "%" PRId64 "K", n / 1024);
    else std::snprintf(buf, sizeof buf, "%" PRId64, n);
    return buf;
}

// ----- tables -----

// UTF-8 aware width (code points; good enough for names and paths).
std::size_t width(const std::string& s) {
    std::size_t w = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++w;
    return w;
}

void print_table(std::FILE* out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right = {}) {
    std::vector<std::size_t> w(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) w[i] = width(header[i]);
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
    auto line = [&](const std::vector<std::string>& cells) {
        std::string s;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const std::size_t pad = w[i] - width(cells[i]);
            const bool r = i < right.size() && right[i];
            if (r) s.append(pad, ' ');
            s += cells[i];
            if (i + 1 < cells.size()) {
                if (!r) s.append(pad, ' ');
                s += "  ";
            }
        }
        std::fprintf(out, "%s\n", s.c_str());
    };
    line(header);
    for (const auto& r : rows) line(r);
}

// ----- argument parsing -----

struct Parsed {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;  // --name value, or "" for flags
};

// `with_value`: options that take a value; `flags`: options that do not.
Parsed parse_args(const std::vector<std::string>& args, const std::vector<std::string>& with_value,
                  const std::vector<std::string>& flags) {
    Parsed p;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1]))))) {
            std::string name = a, value;
            if (auto eq = a.find('='); eq != std::string::npos) {
                name = a.substr(0, eq);
                value = a.substr(eq + 1);
                if (std::find(with_value.begin(), with_value.end(), name) == with_value.end())
                    throw UsageError(args[0] + ": unknown option " + name);
                p.options[name] = value;
                continue;
            }
            if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
                p.options[name] = "";
            } else if (std::find(with_value.begin(), with_value.end(), name) != with_value.end()) {
                if (i + 1 >= args.size()) throw UsageError(args[0] + ": " + name + " needs a value");
                p.options[name] = args[++i];
            } else {
                throw UsageError(args[0] + ": unknown option " + a);
            }
        } else {
            p.positional.push_back(a);
        }
    }
    return p;
}

void expect_positional(const Parsed& p, const std::string& cmd, std::size_t lo, std::size_t hi, const char* usage) {
    if (p.positional.size() < lo || p.positional.size() > hi)
        throw UsageError(cmd + ": usage: " + usage);
}

Term parse_term(const std::string& s, const char* what) {
    try {
        return Term::parse(s);
    } catch (const Error& e) {
        throw UsageError(std::string(what) + ": not an Erlang term: " + e.what());
    }
}

std::int64_t parse_int(const std::string& s, const char* what, std::int64_t lo, std::int64_t hi) {
    try {
        std::size_t used = 0;
        long long v = std::stoll(s, &used);
        if (used == s.size() && v >= lo && v <= hi) return v;
    } catch (const std::exception&) {
    }
    throw UsageError(std::string(what) + ": expected an integer in " + std::to_string(lo) + ".." +
                     std::to_string(hi) + "; got \"" + s + "\"");
}

// "1s", "500ms", "2m", or plain seconds.
std::chrono::milliseconds parse_duration(const std::string& s) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(s, &used);
    } catch (const std::exception&) {
        throw UsageError("--interval: expected a duration like 1s, 500ms or 2m; got \"" + s + "\"");
    }
    const std::string unit = s.substr(used);
    double ms = unit == "ms" ? v : unit == "s" || unit.empty() ? v * 1000 : unit == "m" ? v * 60000 : -1;
    if (!std::isfinite(ms) || ms < 10 || ms > 3'600'000)
        throw UsageError("--interval: expected a duration from 10ms to 1h (like 1s, 500ms); got \"" + s + "\"");
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::string absolute(const std::string& file) {
    std::error_code ec;
    auto p = std::filesystem::absolute(file, ec);
    return ec ? file : p.lexically_normal().string();
}

Term request(const char* cmd, std::vector<Term> args) {
    return Term::tuple({Atom(cmd), Term::list(std::move(args))});
}

// ----- renderers -----

std::string module_text(const Term& row) {
    std::string m = text(field(row, "module"));
    if (m.empty()) return text(field(row, "initial_call"));
    return m + "@" + text(field(row, "version"));
}

void render_ps(const Term& rows, const Output& o) {
    std::vector<std::vector<std::string>> out;
    for (const Term& r : rows.elements())
        out.push_back({text(field(r, "pid")), text(field(r, "name")), module_text(r), text(field(r, "status")),
                       std::to_string(integer(field(r, "mailbox"))), std::to_string(integer(field(r, "reductions"))),
                       bytes_text(integer(field(r, "memory"))), text(field(r, "current_callback"))});
    print_table(o.out, {"PID", "NAME", "MODULE", "STATUS", "MAILBOX", "REDUCTIONS", "MEMORY", "CALLBACK"}, out,
                {false, false, false, false, true, true, true, false});
}

void render_info(const Term& m, const Output& o) {
    auto line = [&](const char* k, const std::string& v) { std::fprintf(o.out, "%-16s %s\n", k, v.c_str()); };
    line("pid", text(field(m, "pid")));
    line("name", text(field(m, "name")));
    line("module", module_text(m));
    line("status", text(field(m, "status")));
    line("callback", text(field(m, "current_callback")));
    line("initial_call", text(field(m, "initial_call")));
    line("mailbox", std::to_string(integer(field(m, "mailbox"))));
    line("reductions", std::to_string(integer(field(m, "reductions"))));
    line("memory", std::to_string(integer(field(m, "memory"))));
    line("stack_size", std::to_string(integer(field(m, "stack_size"))));
    line("scheduler", std::to_string(integer(field(m, "scheduler"))));
    line("trap_exit", text(field(m, "trap_exit")));
    line("links", text(field(m, "links")));
    line("monitors", text(field(m, "monitors")));
    line("monitored_by", text(field(m, "monitored_by")));
    const Term& bt = field(m, "backtrace");
    std::fprintf(o.out, "backtrace:\n");
    if (field(bt, "captured").is_atom(atoms::true_)) {
        int i = 0;
        for (const Term& f : field(bt, "frames").elements()) {
            std::string fn = text(field(f, "function"));
            std::string where = fn.empty() ? text(field(f, "address"))
                                           : fn + "+0x" + [&] {
                                                 char b[32];
                                                 std::snprintf(b, sizeof b, "%" PRIx64, integer(field(f, "offset")));
                                                 return std::string(b);
                                             }();
            std::string obj = text(field(f, "object"));
            std::fprintf(o.out, "  #%-2d %s%s\n", i++, where.c_str(), obj.empty() ? "" : ("  (" + obj + ")").c_str());
        }
    } else {
        std::fprintf(o.out, "  (none: %s)\n", text(field(bt, "note")).c_str());
    }
    std::fprintf(o.out, "state:\n  %s\n", field(m, "state").is_atom(atoms::undefined)
                                              ? "(not a GenServer, or it did not answer)"
                                              : text(field(m, "state")).c_str());
}

void tree_lines(const Term& node, const std::string& prefix, bool last, bool root, const Output& o) {
    std::string label = text(field(node, "id")) + "  " + text(field(node, "pid")) + "  " + text(field(node, "type"));
    const Term& mods = field(node, "modules");
    if (field(node, "type").is_atom(Atom("worker"))) label += "  " + text(mods);
    const std::string note = text(field(node, "note"));
    if (!note.empty()) label += "  (" + note + ")";
    std::fprintf(o.out, "%s%s%s\n", prefix.c_str(), root ? "" : (last ? "`-- " : "|-- "), label.c_str());
    const Term& children = field(node, "children");
    if (!children.is_list()) return;
    auto elems = children.elements();
    for (std::size_t i = 0; i < elems.size(); ++i)
        tree_lines(elems[i], root ? prefix : prefix + (last ? "    " : "|   "), i + 1 == elems.size(), false, o);
}

void render_map_lines(const Term& m, const Output& o) {
    for (const MapEntry& e : m.entries()) std::fprintf(o.out, "%-22s %s\n", text(e.key).c_str(), text(e.value).c_str());
}

void render_modules(const Term& rows, const Output& o) {
    std::vector<std::vector<std::string>> out;
    for (const Term& r : rows.elements()) {
        const Term& cur = field(r, "current");
        const Term& old = field(r, "old");
        auto ver = [](const Term& v) {
            if (!v.is_map()) return std::string("-");
            return text(field(v, "version")) + (field(v, "built_in").is_atom(atoms::true_) ? " (built in)" : "");
        };
        auto pins = [](const Term& v) { return v.is_map() ? std::to_string(integer(field(v, "pins"))) : "-"; };
        out.push_back({text(field(r, "module")), ver(cur), pins(cur), ver(old), pins(old),
                       cur.is_map() ? text(field(cur, "file")) : text(field(old, "file"))});
    }
    print_table(o.out, {"MODULE", "CURRENT", "PINS", "OLD", "PINS", "FILE"}, out,
                {false, false, true, false, true, false});
}

void render_purge(const Term& r, const Output& o) {
    const std::string v = text(field(r, "version"));
    if (v.empty()) {
        std::fprintf(o.out, "no old version\n");
        return;
    }
    std::fprintf(o.out, "purged version %s; killed %s; unmapped: %s\n", v.c_str(), text(field(r, "killed")).c_str(),
                 text(field(r, "unmapped")).c_str());
    const std::string d = text(field(r, "detail"));
    if (!d.empty()) std::fprintf(o.out, "  %s\n", d.c_str());
}

void render_upgrade(const Term& r, const Output& o) {
    std::fprintf(o.out, "%s %s: %s -> %s (%s)\n", text(field(r, "outcome")).c_str(), text(field(r, "module")).c_str(),
                 text(field(r, "from")).c_str(), text(field(r, "to")).c_str(), text(field(r, "mode")).c_str());
    const std::string err = text(field(r, "error"));
    if (!err.empty()) std::fprintf(o.out, "  error: %s\n", err.c_str());
    std::fprintf(o.out, "  migrated: %s\n", text(field(r, "migrated")).c_str());
    for (const Term& f : field(r, "failed").elements())
        std::fprintf(o.out, "  failed: %s in %s: %s\n", text(field(f, "pid")).c_str(), text(field(f, "phase")).c_str(),
                     text(field(f, "reason")).c_str());
    if (!field(r, "stayed").is_nil()) std::fprintf(o.out, "  stayed on the old version: %s\n", text(field(r, "stayed")).c_str());
    std::fprintf(o.out, "  longest suspension %" PRId64 " us, total %" PRId64 " us\n", integer(field(r, "suspend_max_us")),
                 integer(field(r, "total_us")));
}

void render_plan(const Term& r, const Output& o) {
    const bool ok = field(r, "ok").is_atom(atoms::true_);
    const bool dry = field(r, "dry_run").is_atom(atoms::true_);
    std::fprintf(o.out, "plan %s%s\n", ok ? (dry ? "checked: every step would run" : "done") : "stopped",
                 ok ? "" : (": " + text(field(r, "error"))).c_str());
    for (const Term& step : field(r, "steps").elements()) render_upgrade(step, o);
    const Term& skipped = field(r, "not_attempted");
    if (skipped.is_list() && !skipped.is_nil()) std::fprintf(o.out, "not attempted: %s\n", text(skipped).c_str());
}

// Prints a result: JSON, or the command's own rendering.
void show(const Term& result, const Output& o, void (*render)(const Term&, const Output&)) {
    if (o.json) std::fprintf(o.out, "%s\n", control::to_json(result).c_str());
    else render(result, o);
}

// ----- commands -----

using Handler = int (*)(Connection&, const std::vector<std::string>&, const Output&);

int failed(const Output& o, const std::string& msg) {
    if (o.json) std::fprintf(o.out, "{\"error\":%s}\n", control::json_string(msg).c_str());
    std::fprintf(o.err, "otppctl: %s\n", msg.c_str());
    return exit_failed;
}

// Sends, reports a failure; on success calls `then`.
template <class F>
int exchange(Connection& c, const Term& req, std::chrono::milliseconds wait, const Output& o, F&& then) {
    Reply r = c.request(req, wait);
    if (r.kind == Reply::refused) {
        std::fprintf(o.err, "otppctl: %s\n", r.message.c_str());
        return exit_cannot_connect;
    }
    if (r.kind == Reply::broken) {
        std::fprintf(o.err, "otppctl: %s\n", r.message.c_str());
        return exit_protocol;
    }
    if (r.kind == Reply::error) return failed(o, r.message);
    return then(r.value);
}

constexpr std::chrono::milliseconds default_wait{60000};

int cmd_ps(Connection& c, const std::vector<std::string>& a, const Output& o) {
    expect_positional(parse_args(a, {}, {}), a[0], 0, 0, "ps");
    return exchange(c, request("ps", {}), default_wait, o, [&](const Term& t) {
        show(t, o, render_ps);
        return exit_ok;
    });
}

int cmd_top(Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {"--interval", "-n"}, {});
    expect_positional(p, a[0], 0, 0, "top [--interval 1s] [-n N]");
    auto interval = p.options.count("--interval") ? parse_duration(p.options["--interval"]) : std::chrono::seconds(1);
    std::size_t n = p.options.count("-n") ? static_cast<std::size_t>(parse_int(p.options["-n"], "-n", 1, 1'000'000)) : 10;
    // The host measures (two snapshots `interval` apart) and sends the top n.
    auto wait = default_wait + std::chrono::duration_cast<std::chrono::milliseconds>(interval);
    Term req = request("top", {static_cast<std::int64_t>(interval.count()), static_cast<std::int64_t>(n)});
    return exchange(c, req, wait, o, [&](const Term& top) {
        std::vector<std::pair<std::int64_t, Term>> rows;
        for (const Term& r : top.elements()) rows.emplace_back(integer(field(r, "reductions_delta")), r);
        if (o.json) {
            std::vector<Term> out;
            for (auto& [d, r] : rows) out.push_back(r);
            std::fprintf(o.out, "%s\n", control::to_json(Term::list(std::move(out))).c_str());
            return exit_ok;
        }
        std::fprintf(o.out, "top %zu processes by reductions over %.3gs\n", rows.size(), interval.count() / 1000.0);
        std::vector<std::vector<std::string>> table;
        for (auto& [d, r] : rows)
            table.push_back({text(field(r, "pid")), text(field(r, "name")), module_text(r), std::to_string(d),
                             std::to_string(integer(field(r, "reductions"))),
                             std::to_string(integer(field(r, "mailbox"))), bytes_text(integer(field(r, "memory"))),
                             text(field(r, "status")), text(field(r, "current_callback"))});
        print_table(o.out, {"PID", "NAME", "MODULE", "REDS", "TOTAL", "MAILBOX", "MEMORY", "STATUS", "CALLBACK"}, table,
                    {false, false, false, true, true, true, true, false, false});
        return exit_ok;
    });
}

int cmd_info(Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {}, {});
    expect_positional(p, a[0], 1, 1, "info PID|NAME");
    return exchange(c, request("info", {Term::binary(p.positional[0])}), default_wait, o, [&](const Term& t) {
        show(t, o, render_info);
        return exit_ok;
    });
}

int cmd_kill(Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {}, {});
    expect_positional(p, a[0], 1, 1, "kill PID|NAME");
    return exchange(c, request("kill", {Term::binary(p.positional[0])}), default_wait, o, [&](const Term& t) {
        show(t, o, [](const Term& r, const Output& out) {
            if (field(r, "dead").is_atom(atoms::true_))
                std::fprintf(out.out, "%s killed (%s)\n", text(field(r, "pid")).c_str(), text(field(r, "reason")).c_str());
            else
                std::fprintf(out.out, "%s: %s\n", text(field(r, "pid")).c_str(), text(field(r, "note")).c_str());
        });
        return field(t, "dead").is_atom(atoms::true_) ? exit_ok : exit_failed;
    });
}

int cmd_exit(Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {}, {});
    expect_positional(p, a[0], 2, 2, "exit PID|NAME REASON");
    Term reason = parse_term(p.positional[1], "REASON");
    return exchange(c, request("exit", {Term::binary(p.positional[0]), reason}), default_wait, o, [&](const Term& t) {
        show(t, o, [](const Term& r, const Output& out) {
            std::fprintf(out.out, "exit signal %s sent to %s\n", field(r, "reason").to_string(500).c_str(),
                         text(field(r, "pid")).c_str());
        });
        return exit_ok;
    });
}

int send_like(const char* cmd, Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {}, {});
    expect_positional(p, a[0], 2, 2, (std::string(cmd) + " PID|NAME TERM").c_str());
    Term msg = parse_term(p.positional[1], "TERM");
    return exchange(c, request(cmd, {Term::binary(p.positional[0]), msg}), default_wait, o, [&](const Term& t) {
        show(t, o, [](const Term& r, const Output& out) { std::fprintf(out.out, "ok %s\n", text(field(r, "pid")).c_str()); });
        return exit_ok;
    });
}
int cmd_send(Connection& c, const std::vector<std::string>& a, const Output& o) { return send_like("send", c, a, o); }
int cmd_cast(Connection& c, const std::vector<std::string>& a, const Output& o) { return send_like("cast", c, a, o); }

int cmd_call(Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {"--timeout"}, {});
    expect_positional(p, a[0], 2, 2, "call PID|NAME TERM [--timeout MS]");
    Term msg = parse_term(p.positional[1], "TERM");
    std::int64_t timeout = p.options.count("--timeout") ? parse_int(p.options["--timeout"], "--timeout", 0, 86'400'000) : 5000;
    return exchange(c, request("call", {Term::binary(p.positional[0]), msg, timeout}),
                    std::chrono::milliseconds(timeout) + default_wait, o, [&](const Term& t) {
                        if (o.json) std::fprintf(o.out, "%s\n", control::to_json(t).c_str());
                        else std::fprintf(o.out, "%s\n", t.to_string().c_str());
                        return exit_ok;
                    });
}

int cmd_modules(Connection& c, const std::vector<std::string>& a, const Output& o) {
    expect_positional(parse_args(a, {}, {}), a[0], 0, 0, "modules");
    return exchange(c, request("modules", {}), default_wait, o, [&](const Term& t) {
        show(t, o, render_modules);
        return exit_ok;
    });
}

int cmd_load(Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {}, {"--unpurgeable"});
    expect_positional(p, a[0], 1, 1, "load FILE [--unpurgeable]");
    const bool unpurgeable = p.options.count("--unpurgeable") != 0;
    Term req = request("load", {Term::binary(absolute(p.positional[0])), unpurgeable});
    return exchange(c, req, default_wait, o, [&](const Term& t) {
        show(t, o, [](const Term& r, const Output& out) {
            std::fprintf(out.out, "loaded %s@%s from %s\n", text(field(r, "module")).c_str(),
                         text(field(r, "version")).c_str(), text(field(r, "file")).c_str());
            if (!text(field(field(r, "purged"), "version")).empty()) render_purge(field(r, "purged"), out);
        });
        return exit_ok;
    });
}

int cmd_upgrade(Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {"--mode", "--extra", "--timeout", "--batch", "--plan"},
                          {"--dry-run", "--unpurgeable", "--all-nodes"});
    const bool dry = p.options.count("--dry-run") != 0;
    if (p.options.count("--plan")) {
        if (!p.positional.empty() || p.options.size() > (dry ? 2u : 1u))
            throw UsageError("upgrade: usage: upgrade --plan FILE [--dry-run]");
        return exchange(c, request("upgrade_plan", {Term::binary(absolute(p.options["--plan"])), dry}),
                        std::chrono::minutes(30), o, [&](const Term& t) {
                            show(t, o, render_plan);
                            return field(t, "ok").is_atom(atoms::true_) ? exit_ok : exit_failed;
                        });
    }
    expect_positional(p, a[0], 2, 2,
                      "upgrade MODULE FILE [--mode atomic|rolling] [--extra TERM] [--dry-run] [--timeout MS] "
                      "[--batch N] [--unpurgeable]   or   upgrade --plan FILE [--dry-run]");
    std::vector<std::pair<Term, Term>> opts;
    if (p.options.count("--mode")) {
        const std::string m = p.options["--mode"];
        if (m != "atomic" && m != "rolling") throw UsageError("--mode: atomic or rolling; got \"" + m + "\"");
        opts.emplace_back(Atom("mode"), Atom(m));
    }
    if (p.options.count("--extra")) opts.emplace_back(Atom("extra"), parse_term(p.options["--extra"], "--extra"));
    if (dry) opts.emplace_back(Atom("dry_run"), true);
    if (p.options.count("--unpurgeable")) opts.emplace_back(Atom("unpurgeable"), true);
    const bool all_nodes = p.options.count("--all-nodes") != 0;
    if (all_nodes) opts.emplace_back(Atom("all_nodes"), true);
    std::int64_t timeout = 2000;
    if (p.options.count("--timeout")) {
        timeout = parse_int(p.options["--timeout"], "--timeout", 1, 3'600'000);
        opts.emplace_back(Atom("timeout"), timeout);
    }
    if (p.options.count("--batch")) opts.emplace_back(Atom("batch"), parse_int(p.options["--batch"], "--batch", 1, 1'000'000));
    Term req = request("upgrade", {Term::binary(p.positional[0]), Term::binary(absolute(p.positional[1])),
                                   Term::map(std::move(opts))});
    return exchange(c, req, std::chrono::minutes(30), o, [&](const Term& t) {
        auto fine = [](const Term& r) {
            const Term& outcome = field(r, "outcome");
            return outcome.is_atom(Atom("upgraded")) || outcome.is_atom(Atom("dry_run"));
        };
        bool ok = fine(t);
        if (!all_nodes) {
            show(t, o, render_upgrade);
            return ok ? exit_ok : exit_failed;
        }
        // One report per node: this one, then every other (JSON: the whole term).
        const Term& nodes = field(t, "nodes");
        if (nodes.is_list())
            for (const Term& n : nodes.elements()) {
                if (const Term* r = n.find(Atom("report"))) ok = ok && fine(*r);
                else if (n.find(Atom("error"))) ok = false;
            }
        if (o.json) {
            std::fprintf(o.out, "%s\n", control::to_json(t).c_str());
            return ok ? exit_ok : exit_failed;
        }
        std::fprintf(o.out, "%s: ", text(field(t, "node")).c_str());
        render_upgrade(t, o);
        if (!fine(t)) std::fprintf(o.out, "not shipped to other nodes: it failed here\n");
        else if (nodes.is_nil()) std::fprintf(o.out, "no other node is connected\n");
        if (nodes.is_list())
            for (const Term& n : nodes.elements()) {
                const std::string node = text(field(n, "node"));
                if (const Term* r = n.find(Atom("report"))) {
                    std::fprintf(o.out, "%s: ", node.c_str());
                    render_upgrade(*r, o);
                } else if (const Term* e = n.find(Atom("error"))) {
                    std::fprintf(o.out, "%s: FAILED: %s\n", node.c_str(), text(*e).c_str());
                } else if (const Term* sk = n.find(Atom("skipped"))) {
                    std::fprintf(o.out, "%s: skipped: %s\n", node.c_str(), text(*sk).c_str());
                }
            }
        return ok ? exit_ok : exit_failed;
    });
}

int purge_like(const char* cmd, Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {}, {});
    expect_positional(p, a[0], 1, 1, (a[0] + " MODULE").c_str());
    return exchange(c, request(cmd, {Term::binary(p.positional[0])}), default_wait, o, [&](const Term& t) {
        show(t, o, [](const Term& r, const Output& out) {
            render_purge(r.find(Atom("report")) ? field(r, "report") : r, out);
        });
        return exit_ok;
    });
}
int cmd_purge(Connection& c, const std::vector<std::string>& a, const Output& o) { return purge_like("purge", c, a, o); }
int cmd_soft_purge(Connection& c, const std::vector<std::string>& a, const Output& o) {
    return purge_like("soft_purge", c, a, o);
}

int cmd_tree(Connection& c, const std::vector<std::string>& a, const Output& o) {
    expect_positional(parse_args(a, {}, {}), a[0], 0, 0, "tree");
    return exchange(c, request("tree", {}), default_wait, o, [&](const Term& t) {
        show(t, o, [](const Term& apps, const Output& out) {
            for (const Term& app : apps.elements()) tree_lines(app, "", true, true, out);
        });
        return exit_ok;
    });
}

int cmd_stats(Connection& c, const std::vector<std::string>& a, const Output& o) {
    expect_positional(parse_args(a, {}, {}), a[0], 0, 0, "stats");
    return exchange(c, request("stats", {}), default_wait, o, [&](const Term& t) {
        show(t, o, render_map_lines);
        return exit_ok;
    });
}

int cmd_nodes(Connection& c, const std::vector<std::string>& a, const Output& o) {
    expect_positional(parse_args(a, {}, {}), a[0], 0, 0, "nodes");
    return exchange(c, request("nodes", {}), default_wait, o, [&](const Term& t) {
        show(t, o, [](const Term& r, const Output& out) {
            std::fprintf(out.out, "this node: %s%s\n", text(field(r, "node")).c_str(),
                         field(r, "alive").is_atom(atoms::true_) ? "" : " (not distributed)");
            for (const Term& n : field(r, "connected").elements()) std::fprintf(out.out, "connected: %s\n", text(n).c_str());
        });
        return exit_ok;
    });
}

int cmd_connect(Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {}, {});
    expect_positional(p, a[0], 1, 1, "connect NODE");
    return exchange(c, request("connect", {Term::binary(p.positional[0])}), default_wait, o, [&](const Term& t) {
        bool up = field(t, "connected").is_atom(atoms::true_);
        show(t, o, [](const Term& r, const Output& out) {
            std::fprintf(out.out, "%s: %s\n", text(field(r, "node")).c_str(),
                         field(r, "connected").is_atom(atoms::true_) ? "connected" : "cannot connect");
        });
        return up ? exit_ok : exit_failed;
    });
}

int cmd_log_level(Connection& c, const std::vector<std::string>& a, const Output& o) {
    Parsed p = parse_args(a, {}, {});
    expect_positional(p, a[0], 0, 1, "log-level [trace|debug|info|warn|error|critical|off]");
    std::vector<Term> args;
    if (!p.positional.empty()) args.push_back(Term::binary(p.positional[0]));
    return exchange(c, request("log_level", std::move(args)), default_wait, o, [&](const Term& t) {
        show(t, o, [](const Term& r, const Output& out) { std::fprintf(out.out, "%s\n", text(field(r, "level")).c_str()); });
        return exit_ok;
    });
}

const std::map<std::string, Handler>& handlers() {
    static const std::map<std::string, Handler> h{
        {"ps", cmd_ps},         {"top", cmd_top},         {"info", cmd_info},
        {"kill", cmd_kill},     {"exit", cmd_exit},       {"send", cmd_send},
        {"cast", cmd_cast},     {"call", cmd_call},       {"modules", cmd_modules},
        {"load", cmd_load},     {"upgrade", cmd_upgrade}, {"purge", cmd_purge},
        {"soft-purge", cmd_soft_purge}, {"tree", cmd_tree}, {"stats", cmd_stats},
        {"log-level", cmd_log_level}, {"nodes", cmd_nodes}, {"connect", cmd_connect},
    };
    return h;
}

}  // namespace

const std::vector<std::string>& command_words() {
    static const std::vector<std::string> words = [] {
        std::vector<std::string> w{"help", "quit"};
        for (const auto& [name, h] : handlers()) w.push_back(name);
        std::sort(w.begin(), w.end());
        return w;
    }();
    return words;
}

void print_usage(std::FILE* to) {
    std::fprintf(to,
                 "usage: otppctl [--socket PATH | --dir DIR --node NAME] [--json] COMMAND [ARGS...]\n"
                 "\n"
                 "The host's control socket: --socket PATH, or DIR/NAME.sock from --dir and --node\n"
                 "(--node alone uses the host's default runtime_dir), or $OTPP_CONTROL_SOCKET.\n"
                 "\n"
                 "commands:\n"
                 "  ps                                 processes: pid, name, module@version, status, mailbox, reductions, memory\n"
                 "  top [--interval 1s] [-n N]         processes by reductions used during the interval\n"
                 "  info PID|NAME                      everything about one process, its backtrace and GenServer state\n"
                 "  kill PID|NAME                      exit(Pid, kill), and wait for it to die\n"
                 "  exit PID|NAME REASON               send an exit signal (REASON: an Erlang term)\n"
                 "  send PID|NAME TERM                 send a message\n"
                 "  cast PID|NAME TERM                 gen_server cast\n"
                 "  call PID|NAME TERM [--timeout MS]  gen_server call (default 5000 ms)\n"
                 "  modules                            loaded modules: current and old versions, files, pins\n"
                 "  load FILE                          load a plugin as its module's new current version\n"
                 "  upgrade MODULE FILE [--mode atomic|rolling] [--extra TERM] [--dry-run] [--timeout MS] [--batch N]\n"
                 "          [--all-nodes]              ... then ship FILE to every connected otpp node and upgrade there\n"
                 "  upgrade --plan FILE [--dry-run]    run an upgrade plan\n"
                 "  purge MODULE                       kill the old version's processes and unload it\n"
                 "  soft-purge MODULE                  unload the old version only if nothing runs it\n"
                 "  tree                               the supervision trees of the host's applications\n"
                 "  stats                              schedulers, run queues, processes, memory, libraries\n"
                 "  log-level [LEVEL]                  show or set the host's log level\n"
                 "  nodes                              this node's name and the nodes it is connected to\n"
                 "  connect NODE                       connect to another node (net_kernel:connect_node)\n"
                 "  console                            an interactive session for the same commands\n"
                 "\n"
                 "exit status: 0 ok, 1 the command failed, 2 usage error, 3 cannot connect, 4 connection lost\n");
}

int run_command(Connection& conn, const std::vector<std::string>& args, const Output& output) {
    if (args.empty()) {
        print_usage(output.err);
        return exit_usage;
    }
    auto it = handlers().find(args[0]);
    if (it == handlers().end()) {
        std::fprintf(output.err, "otppctl: unknown command \"%s\" (otppctl help lists them)\n", args[0].c_str());
        return exit_usage;
    }
    try {
        return it->second(conn, args, output);
    } catch (const UsageError& e) {
        std::fprintf(output.err, "otppctl: %s\n", e.what());
        return exit_usage;
    }
}

}  // namespace otppctl
