#include "commands.hpp"

#include "backtrace.hpp"
#include "command_support.hpp"
#include "status.hpp"

#include <otpp/error.hpp>
#include <otpp/gen_server.hpp>
#include <otpp/log.hpp>
#include <otpp/node.hpp>
#include <otpp/process.hpp>
#include <otpp/supervisor.hpp>

#include <unistd.h>

#include <algorithm>
#include <unordered_map>
#include <thread>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>

namespace otpp::control {

namespace {

Term bin(std::string_view s) { return Term::binary(s); }

std::vector<std::pair<Term, Term>> ps_entries(const ProcessInfo& i) {
    return {
        {Atom("pid"), i.pid},
        {Atom("name"), i.registered_name ? Term(*i.registered_name) : Term(atoms::undefined)},
        {Atom("module"), bin(i.module)},
        {Atom("version"), bin(i.module_version)},
        {Atom("status"), Atom(to_string(i.status))},
        {Atom("mailbox"), static_cast<int64_t>(i.message_queue_len)},
        {Atom("reductions"), static_cast<int64_t>(i.reductions)},
        {Atom("memory"), static_cast<int64_t>(i.memory)},
        {Atom("current_callback"), bin(i.current_callback)},
        {Atom("initial_call"), bin(i.initial_call)},
    };
}

// The short form `ps` lists.
Term ps_row(const ProcessInfo& i) { return Term::map(ps_entries(i)); }

// `info`: the `ps` keys and the rest.
Term info_map(const ProcessInfo& i) {
    auto pids = [](const std::vector<Pid>& v) {
        std::vector<Term> out(v.begin(), v.end());
        return Term::list(std::move(out));
    };
    auto entries = ps_entries(i);
    entries.emplace_back(Atom("stack_size"), static_cast<int64_t>(i.stack_size));
    entries.emplace_back(Atom("links"), pids(i.links));
    entries.emplace_back(Atom("monitors"), pids(i.monitors));
    entries.emplace_back(Atom("monitored_by"), pids(i.monitored_by));
    entries.emplace_back(Atom("trap_exit"), i.trap_exit);
    entries.emplace_back(Atom("scheduler"), static_cast<int64_t>(i.scheduler));
    return Term::map(std::move(entries));
}

std::string text_arg(const Term& t, const char* what) {
    if (t.is_binary()) return std::string(t.bytes());
    if (t.is_atom()) return std::string(t.get<Atom>().name());
    throw CommandError(std::string(what) + ": expected a string; got " + t.to_string(200));
}

std::int64_t int_arg(const Term& t, const char* what, std::int64_t lo, std::int64_t hi) {
    auto v = t.try_get<std::int64_t>();
    if (!v || *v < lo || *v > hi)
        throw CommandError(std::string(what) + ": expected an integer in " + std::to_string(lo) + ".." +
                           std::to_string(hi) + "; got " + t.to_string(200));
    return *v;
}

// ----- commands -----

Term cmd_hello(const Args&, const ControlContext& ctx) {
    std::vector<Term> names;
    for (const auto& n : command_names()) names.push_back(Atom(n));
    return Term::map({{Atom("node"), bin(ctx.node)},
                      {Atom("protocol"), protocol_version},
                      {Atom("os_pid"), static_cast<int64_t>(::getpid())},
                      {Atom("commands"), Term::list(std::move(names))}});
}

Term cmd_ps(const Args&, const ControlContext& ctx) {
    std::vector<Pid> pids = ctx.runtime->processes();
    std::sort(pids.begin(), pids.end());
    std::vector<Term> rows;
    rows.reserve(pids.size());
    for (Pid p : pids)
        if (auto i = ctx.runtime->process_info(p)) rows.push_back(ps_row(*i));
    return Term::list(std::move(rows));
}

// top: the processes that used the most reductions over the interval,
// computed here so that only N rows cross the socket (a node with 10,000
// processes has a `ps` of megabytes).
Term cmd_top(const Args& a, const ControlContext& ctx) {
    const auto interval = std::chrono::milliseconds(int_arg(a[0], "interval", 1, 3600 * 1000));
    const auto n = static_cast<std::size_t>(int_arg(a[1], "n", 1, 1'000'000));
    std::unordered_map<uint64_t, uint64_t> before;
    auto key = [](Pid p) { return (static_cast<uint64_t>(p.id) << 32) ^ p.serial; };
    for (Pid p : ctx.runtime->processes())
        if (auto i = ctx.runtime->process_info(p)) before[key(p)] = i->reductions;
    // A process wait, not a thread sleep: the host stopping kills the request
    // and this returns at once.
    otpp::sleep_for(interval);
    std::vector<std::pair<int64_t, Pid>> used;
    for (Pid p : ctx.runtime->processes()) {
        auto i = ctx.runtime->process_info(p);
        if (!i) continue;
        auto it = before.find(key(p));
        used.emplace_back(static_cast<int64_t>(i->reductions - (it == before.end() ? 0 : it->second)), p);
    }
    std::size_t keep = std::min(n, used.size());
    std::partial_sort(used.begin(), used.begin() + static_cast<std::ptrdiff_t>(keep), used.end(),
                      [](auto& x, auto& y) { return x.first > y.first; });
    std::vector<Term> rows;
    for (std::size_t k = 0; k < keep; ++k)
        if (auto i = ctx.runtime->process_info(used[k].second))
            rows.push_back(ps_row(*i).put(Atom("reductions_delta"), used[k].first));
    return Term::list(std::move(rows));
}

Term frame_term(const SymbolizedFrame& f) {
    char addr[32];
    std::snprintf(addr, sizeof addr, "0x%zx", static_cast<std::size_t>(f.address));
    return Term::map({{Atom("address"), bin(addr)},
                      {Atom("function"), bin(f.function)},
                      {Atom("offset"), static_cast<int64_t>(f.offset)},
                      {Atom("object"), bin(f.object)}});
}

Term cmd_info(const Args& a, const ControlContext& ctx) {
    Pid pid = resolve_target(a.at(0));
    auto info = ctx.runtime->process_info(pid);
    if (!info) throw CommandError("no such process: " + to_string(pid));
    Backtrace bt = backtrace_of(pid, std::chrono::milliseconds(1000));
    std::vector<Term> frames;
    for (const auto& f : bt.frames) frames.push_back(frame_term(f));
    Term backtrace = Term::map({{Atom("captured"), bt.captured},
                                {Atom("frames"), Term::list(std::move(frames))},
                                {Atom("note"), bin(bt.note)}});
    // A GenServer's state, through its format_status, asked between callbacks:
    // a server stuck in a callback does not answer, hence the short timeout.
    Term state = atoms::undefined;
    const std::string busy_in = bt.info ? bt.info->current_callback : info->current_callback;
    if (!info->module.empty() && !bt.captured && busy_in.empty()) {
        if (auto s = server_status(pid, std::chrono::milliseconds(1000))) state = *s;
    } else if (!info->module.empty()) {
        // It would answer only after the callback returns.
        state = bin("not asked: the process is in " + (busy_in.empty() ? std::string("a callback") : busy_in));
    }
    Term m = info_map(*info);
    m = m.put(Atom("backtrace"), backtrace);
    m = m.put(Atom("state"), state);
    return m;
}

// A thread acting as a process (the host's main thread, a console request):
// an exit signal would unwind a thread that is not written to be unwound.
void refuse_thread_target(const ControlContext& ctx, Pid pid) {
    auto info = ctx.runtime->process_info(pid);
    if (!info) throw CommandError("no such process: " + to_string(pid));
    if (info->initial_call == "ScopedProcess")
        throw CommandError(to_string(pid) +
                           " is a host thread acting as a process (ScopedProcess); it takes no exit signals from "
                           "the console");
}

Term cmd_kill(const Args& a, const ControlContext& ctx) {
    Pid pid = resolve_target(a.at(0));
    refuse_thread_target(ctx, pid);
    Ref mon = monitor(pid);
    otpp::exit(pid, atoms::kill);
    auto down = receive(match::tuple(atoms::DOWN, mon, match::_, match::_, match::_), std::chrono::seconds(5));
    if (!down) {
        demonitor(mon, Flush::yes);
        return Term::map({{Atom("pid"), pid},
                          {Atom("dead"), false},
                          {Atom("note"), bin("kill sent; still alive after 5 s (running code that never reaches a "
                                             "yield point?)")}});
    }
    return Term::map({{Atom("pid"), pid}, {Atom("dead"), true}, {Atom("reason"), (*down)[4]}});
}

Term cmd_exit(const Args& a, const ControlContext& ctx) {
    Pid pid = resolve_target(a.at(0));
    refuse_thread_target(ctx, pid);
    otpp::exit(pid, a.at(1));
    return Term::map({{Atom("pid"), pid}, {Atom("reason"), a.at(1)}});
}

Term cmd_send(const Args& a, const ControlContext&) {
    Pid pid = resolve_target(a.at(0));
    if (!is_process_alive(pid)) throw CommandError("no such process: " + to_string(pid));
    send(pid, a.at(1));
    return Term::map({{Atom("pid"), pid}});
}

Term cmd_cast(const Args& a, const ControlContext&) {
    Pid pid = resolve_target(a.at(0));
    if (!is_process_alive(pid)) throw CommandError("no such process: " + to_string(pid));
    gen_server::cast(pid, a.at(1));
    return Term::map({{Atom("pid"), pid}});
}

Term cmd_call(const Args& a, const ControlContext&) {
    Pid pid = resolve_target(a.at(0));
    const auto timeout = a.size() > 2 ? int_arg(a[2], "timeout", 0, 24 * 3600 * 1000) : 5000;
    auto r = gen_server::try_call(pid, a.at(1), std::chrono::milliseconds(timeout));
    if (!r.ok) throw CommandError("call to " + to_string(pid) + " failed: " + r.value.to_string(1000));
    return r.value;
}

// One supervisor and, recursively, its children (which_children).
Term tree_node(Term id, Pid pid, int depth) {
    std::vector<Term> children;
    Term note = bin("");
    if (depth > 64) {
        note = bin("deeper levels left out");
    } else {
        try {
            Term list = supervisor::which_children(pid);
            for (const Term& c : list.elements()) {
                if (!c.is_tuple(4)) continue;
                const Term& child_pid = c[1];
                const bool is_sup = c[2].is_atom(Atom("supervisor"));
                if (is_sup && child_pid.is_pid()) {
                    children.push_back(tree_node(c[0], child_pid.get<Pid>(), depth + 1));
                } else {
                    children.push_back(Term::map({{Atom("id"), c[0]},
                                                  {Atom("pid"), child_pid},
                                                  {Atom("type"), c[2]},
                                                  {Atom("modules"), c[3]},
                                                  {Atom("children"), Term()}}));
                }
            }
        } catch (const ProcessExit& e) {
            note = bin("which_children failed: " + e.reason().to_string(500));
        }
    }
    return Term::map({{Atom("id"), std::move(id)},
                      {Atom("pid"), pid},
                      {Atom("type"), Atom("supervisor")},
                      {Atom("modules"), Term::list({Atom("supervisor")})},
                      {Atom("children"), Term::list(std::move(children))},
                      {Atom("note"), note}});
}

Term cmd_tree(const Args&, const ControlContext& ctx) {
    std::vector<Term> apps;
    for (Atom app : ctx.applications) {
        if (auto pid = whereis(app)) apps.push_back(tree_node(app, *pid, 1));
        else
            apps.push_back(Term::map({{Atom("id"), app},
                                      {Atom("pid"), atoms::undefined},
                                      {Atom("type"), Atom("supervisor")},
                                      {Atom("modules"), Term::list({Atom("supervisor")})},
                                      {Atom("children"), Term()},
                                      {Atom("note"), bin("not running")}}));
    }
    return Term::list(std::move(apps));
}

// Resident and virtual size of the host, from /proc/self/statm.
std::pair<std::int64_t, std::int64_t> os_memory() {
    std::ifstream in("/proc/self/statm");
    std::int64_t size = 0, resident = 0;
    in >> size >> resident;
    const std::int64_t page = ::sysconf(_SC_PAGESIZE);
    return {resident * page, size * page};
}

Term cmd_stats(const Args&, const ControlContext& ctx) {
    RuntimeStats s = ctx.runtime->stats();
    std::vector<Term> queues;
    for (std::size_t q : s.run_queue_lengths) queues.push_back(static_cast<int64_t>(q));
    std::int64_t process_memory = 0;
    for (Pid p : ctx.runtime->processes())
        if (auto i = ctx.runtime->process_info(p)) process_memory += static_cast<std::int64_t>(i->memory);
    auto [rss, vsize] = os_memory();
    return Term::map({{Atom("node"), bin(ctx.node)},
                      {Atom("schedulers"), static_cast<int64_t>(s.schedulers)},
                      {Atom("replacement_threads"), static_cast<int64_t>(s.replacement_threads)},
                      {Atom("run_queues"), Term::list(std::move(queues))},
                      {Atom("process_count"), static_cast<int64_t>(s.process_count)},
                      {Atom("processes_spawned"), static_cast<int64_t>(s.processes_spawned)},
                      {Atom("stack_bytes_reserved"), static_cast<int64_t>(s.stack_bytes_reserved)},
                      {Atom("process_memory"), process_memory},
                      {Atom("os_resident_bytes"), rss},
                      {Atom("os_virtual_bytes"), vsize},
                      {Atom("loaded_libraries"), static_cast<int64_t>(loaded_library_count(ctx))},
                      {Atom("log_level"), bin(log::level())}});
}

Term cmd_log_level(const Args& a, const ControlContext&) {
    if (!a.empty()) {
        const std::string level = text_arg(a[0], "level");
        if (!log::set_level(level))
            throw CommandError("unknown log level \"" + level +
                               "\" (one of trace, debug, info, warn, error, critical, off)");
    }
    return Term::map({{Atom("level"), bin(log::level())}});
}

// nodes(): this node and the nodes it is connected to.
Term cmd_nodes(const Args&, const ControlContext&) {
    std::vector<Term> connected;
    for (Atom n : otpp::nodes()) connected.emplace_back(n);
    return Term::map({{Atom("node"), otpp::node()},
                      {Atom("alive"), otpp::is_alive()},
                      {Atom("connected"), Term::list(std::move(connected))}});
}

// net_kernel:connect_node(Node).
Term cmd_connect(const Args& a, const ControlContext&) {
    if (!otpp::is_alive()) throw CommandError("connect: this node is not distributed (start it with --sname or --name)");
    const std::string name = text_arg(a[0], "node");
    if (name.find('@') == std::string::npos) throw CommandError("connect: expected name@host; got " + name);
    return Term::map({{Atom("node"), Atom(name)}, {Atom("connected"), otpp::connect_node(Atom(name))}});
}

const std::map<std::string, CommandSpec, std::less<>>& commands() {
    static const std::map<std::string, CommandSpec, std::less<>> table = [] {
        std::map<std::string, CommandSpec, std::less<>> t{
            {"hello", {0, 0, cmd_hello}},
            {"ps", {0, 0, cmd_ps}},
            {"top", {2, 2, cmd_top}},
            {"info", {1, 1, cmd_info}},
            {"kill", {1, 1, cmd_kill}},
            {"exit", {2, 2, cmd_exit}},
            {"send", {2, 2, cmd_send}},
            {"cast", {2, 2, cmd_cast}},
            {"call", {2, 3, cmd_call}},
            {"tree", {0, 0, cmd_tree}},
            {"stats", {0, 0, cmd_stats}},
            {"log_level", {0, 1, cmd_log_level}},
            {"nodes", {0, 0, cmd_nodes}},
            {"connect", {1, 1, cmd_connect}},
        };
        for (auto& [name, c] : code_commands()) t.emplace(name, c);
        return t;
    }();
    return table;
}

Term error_reply(std::string_view message) { return Term::tuple({atoms::error, bin(message)}); }

}  // namespace

Pid resolve_target(const Term& t) {
    if (t.is_pid()) return t.get<Pid>();
    std::string text;
    if (t.is_atom()) text = std::string(t.get<Atom>().name());
    else if (t.is_binary()) text = std::string(t.bytes());
    else throw CommandError("expected a pid or a registered name; got " + t.to_string(200));
    if (!text.empty() && text.front() == '<') {
        try {
            Term p = Term::parse_existing_atoms(text);
            if (p.is_pid()) return p.get<Pid>();
        } catch (const Error&) {
        }
        throw CommandError("not a pid: " + text + " (expected <Node.Id.Serial>, e.g. <0.42.0>)");
    }
    if (auto a = Atom::existing(text))
        if (auto pid = whereis(*a)) return *pid;
    throw CommandError("no process is registered as " + text);
}

CommandError::~CommandError() = default;

const std::vector<std::string>& command_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& [name, c] : commands()) v.push_back(name);
        return v;
    }();
    return names;
}

void intern_protocol_atoms() {
    for (const auto& name : command_names()) (void)Atom(name);
    // Option keys and values of `upgrade` (code_commands.cpp).
    for (const char* word :
         {"mode", "extra", "dry_run", "timeout", "batch", "unpurgeable", "atomic", "rolling", "all_nodes"})
        (void)Atom(word);
}

Term handle_request(const Term& request, const ControlContext& context) {
    if (!request.is_tuple(2) || !request[0].is_atom() || !request[1].is_proper_list())
        return error_reply("bad request: expected {Command, [Args...]}; got " + request.to_string(200));
    const std::string_view name = request[0].get<Atom>().name();
    auto it = commands().find(name);
    if (it == commands().end()) return error_reply("unknown command: " + std::string(name));
    const CommandSpec& cmd = it->second;
    auto span = request[1].elements();
    Args args(span.begin(), span.end());
    if (args.size() < cmd.min_args || args.size() > cmd.max_args)
        return error_reply(std::string(name) + ": expected " +
                           (cmd.min_args == cmd.max_args ? std::to_string(cmd.min_args)
                                                         : std::to_string(cmd.min_args) + ".." +
                                                               std::to_string(cmd.max_args)) +
                           " arguments; got " + std::to_string(args.size()));
    try {
        return Term::tuple({atoms::ok, cmd.run(args, context)});
    } catch (const CommandError& e) {
        return error_reply(e.what());
    } catch (const Error& e) {
        return error_reply(std::string(name) + ": " + e.what());
    } catch (const std::exception& e) {
        return error_reply(std::string(name) + ": " + e.what());
    }
}

}  // namespace otpp::control
