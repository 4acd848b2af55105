// The code server's commands: modules, load, upgrade, upgrade_plan, purge,
// soft_purge (host/code/module_table.hpp, upgrade.hpp, upgrade_plan.hpp).
#include "command_support.hpp"

#include "../code/code_agent.hpp"
#include "../code/upgrade.hpp"
#include "../code/upgrade_options.hpp"
#include "../code/upgrade_plan.hpp"
#include "../runtime/kernel.hpp"

#include <otpp/error.hpp>
#include <otpp/gen_server.hpp>
#include <otpp/node.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace otpp::control {

namespace {

Term bin(std::string_view s) { return Term::binary(s); }

code::ModuleTable& modules_of(const ControlContext& ctx) { return ctx.runtime->kernel().modules(); }

std::string text_arg(const Term& t, const char* what) {
    if (t.is_binary()) return std::string(t.bytes());
    if (t.is_atom()) return std::string(t.get<Atom>().name());
    throw CommandError(std::string(what) + ": expected a string; got " + t.to_string(200));
}

// An existing module name: an atom nobody interned cannot name a loaded module.
Atom module_arg(const Term& t) {
    const std::string name = text_arg(t, "module");
    if (auto a = Atom::existing(name)) return *a;
    throw CommandError("no module named " + name + " is loaded");
}

std::filesystem::path file_arg(const Term& t) {
    std::filesystem::path p = text_arg(t, "file");
    if (p.empty()) throw CommandError("file: empty path");
    std::error_code ec;
    if (p.is_relative()) p = std::filesystem::absolute(p, ec);
    return p;
}


Term version_term(const std::optional<code::ModuleTable::VersionStatus>& v) {
    if (!v) return atoms::undefined;
    return Term::map({{Atom("version"), bin(v->version)},
                      {Atom("file"), bin(v->file)},
                      {Atom("pins"), static_cast<int64_t>(v->pins)},
                      {Atom("built_in"), v->built_in}});
}

Term cmd_modules(const Args&, const ControlContext& ctx) {
    std::vector<Term> rows;
    for (const auto& m : modules_of(ctx).all_loaded())
        rows.push_back(Term::map({{Atom("module"), m.name},
                                  {Atom("current"), version_term(m.current)},
                                  {Atom("old"), version_term(m.old)}}));
    return Term::list(std::move(rows));
}

// [File] or [File, AllowUnpurgeable]
Term cmd_load(const Args& a, const ControlContext& ctx) {
    auto unpurgeable = a.size() > 1 ? a[1].try_get<bool>() : std::optional<bool>(false);
    if (!unpurgeable) throw CommandError("load: AllowUnpurgeable must be true or false");
    auto report = modules_of(ctx).load(file_arg(a.at(0)), *unpurgeable);
    return Term::map({{Atom("module"), report.loaded->name},
                      {Atom("version"), bin(report.loaded->version)},
                      {Atom("file"), bin(report.loaded->file)},
                      {Atom("purged"), report.purged.to_term()}});
}

// Ships `file` to every connected otpp node and upgrades it there (Erlang's
// nl/1 for an upgrade). Each node's upgrade is atomic or rolling on its own;
// across nodes nothing is: every node's outcome is reported, and a node that
// failed is named. Nodes without an otpp code agent (BEAM nodes) are skipped
// and listed.
Term upgrade_on_other_nodes(Atom module, const std::filesystem::path& file, const Term& options,
                            std::chrono::milliseconds timeout) {
    std::ifstream in(file, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) throw CommandError("upgrade: cannot read " + file.string());
    const Term request = Term::tuple({Atom("upgrade"), module, bin(file.filename().string()), bin(content), options});
    std::vector<Term> rows;
    for (Atom node : otpp::nodes()) {
        auto r = gen_server::try_call(gen_server::NameOnNode{Atom(code::code_agent_name), node}, request, timeout);
        if (r.ok && r.value.is_map()) {
            rows.push_back(Term::map({{Atom("node"), node}, {Atom("report"), r.value}}));
        } else if (!r.ok && r.value.is_atom(atoms::noproc)) {
            rows.push_back(Term::map({{Atom("node"), node}, {Atom("skipped"), bin("not an otpp node (no otpp_code)")}}));
        } else {
            std::string why = r.ok ? r.value.to_string(500) : "the call failed: " + r.value.to_string(500);
            if (r.ok && r.value.is_tuple(2) && r.value[1].is_binary()) why = r.value[1].get<std::string>();
            rows.push_back(Term::map({{Atom("node"), node}, {Atom("error"), bin(why)}}));
        }
    }
    return Term::list(std::move(rows));
}

// [Module, File, #{mode, extra, dry_run, timeout, batch, all_nodes}]
Term cmd_upgrade(const Args& a, const ControlContext& ctx) {
    const std::string module = text_arg(a.at(0), "module");
    const auto file = file_arg(a.at(1));
    code::UpgradeOptions options;
    bool all_nodes = false;
    Term shipped_options = Term::map({});
    if (a.size() > 2) {
        if (!a[2].is_map()) throw CommandError("upgrade options: expected a map; got " + a[2].to_string(200));
        std::vector<std::pair<Term, Term>> rest;
        for (const MapEntry& e : a[2].entries()) {
            if (e.key.is_atom(Atom("all_nodes"))) {
                auto b = e.value.try_get<bool>();
                if (!b) throw CommandError("upgrade: all_nodes must be true or false");
                all_nodes = *b;
            } else {
                rest.emplace_back(e.key, e.value);
            }
        }
        shipped_options = Term::map(std::move(rest));
        try {
            options = code::upgrade_options_from_term(shipped_options);
        } catch (const BadArg& e) {
            throw CommandError(e.what());
        }
    }
    // The file names its module; an operator naming another one made a
    // mistake: learn the file's module with a dry run and refuse then.
    code::UpgradeOptions probe = options;
    probe.dry_run = true;
    code::UpgradeReport dry = code::upgrade(modules_of(ctx), file, probe);
    const bool refused = dry.outcome == code::UpgradeReport::Outcome::refused;
    if (!refused && dry.module.name() != module)
        throw CommandError("upgrade: " + file.string() + " holds module " + std::string(dry.module.name()) +
                           ", not " + module + "; nothing changed");
    code::UpgradeReport report = refused || options.dry_run ? dry : code::upgrade(modules_of(ctx), file, options);
    Term local = report.to_term();
    if (!all_nodes) return local;
    // Here first; the other nodes only if it worked here (else nothing was
    // shipped, and the report says so).
    bool fine = report.outcome == code::UpgradeReport::Outcome::upgraded ||
                report.outcome == code::UpgradeReport::Outcome::dry_run;
    Term nodes = fine ? upgrade_on_other_nodes(dry.module, file, shipped_options,
                                               options.suspend_timeout * 2 + std::chrono::seconds(30))
                      : Term::list({});
    std::vector<std::pair<Term, Term>> fields;
    for (const MapEntry& e : local.entries()) fields.emplace_back(e.key, e.value);
    fields.emplace_back(Atom("nodes"), nodes);
    fields.emplace_back(Atom("node"), otpp::node());
    return Term::map(std::move(fields));
}

// [File, DryRun]
Term cmd_upgrade_plan(const Args& a, const ControlContext& ctx) {
    const auto file = file_arg(a.at(0));
    auto dry = a.size() > 1 ? a[1].try_get<bool>() : std::optional<bool>(false);
    if (!dry) throw CommandError("upgrade_plan: DryRun must be true or false");
    return code::run_plan(modules_of(ctx), file, *dry).to_term();
}

Term cmd_purge(const Args& a, const ControlContext& ctx) {
    return modules_of(ctx).purge(module_arg(a.at(0))).to_term();
}

Term cmd_soft_purge(const Args& a, const ControlContext& ctx) {
    Atom m = module_arg(a.at(0));
    auto r = modules_of(ctx).soft_purge(m);
    if (!r.purged && !r.pinned.empty()) {
        std::string pids;
        for (Pid p : r.pinned) pids += (pids.empty() ? "" : ", ") + to_string(p);
        throw CommandError("soft_purge " + std::string(m.name()) + ": refused, the old version still runs in " +
                           pids);
    }
    return Term::map({{Atom("purged"), r.purged}, {Atom("report"), r.report.to_term()}});
}

}  // namespace

std::size_t loaded_library_count(const ControlContext& ctx) {
    std::size_t n = 0;
    for (const auto& m : modules_of(ctx).all_loaded()) {
        if (m.current && !m.current->built_in) ++n;
        if (m.old && !m.old->built_in) ++n;
    }
    return n;
}

const std::map<std::string, CommandSpec>& code_commands() {
    static const std::map<std::string, CommandSpec> table{
        {"modules", {0, 0, cmd_modules}},
        {"load", {1, 2, cmd_load}},
        {"upgrade", {2, 3, cmd_upgrade}},
        {"upgrade_plan", {1, 2, cmd_upgrade_plan}},
        {"purge", {1, 1, cmd_purge}},
        {"soft_purge", {1, 1, cmd_soft_purge}},
    };
    return table;
}

}  // namespace otpp::control
