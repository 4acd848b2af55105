// The code server's commands: modules, load, upgrade, upgrade_plan, purge,
// soft_purge (host/code/module_table.hpp, upgrade.hpp, upgrade_plan.hpp).
#include "command_support.hpp"

#include "../code/upgrade.hpp"
#include "../code/upgrade_plan.hpp"
#include "../runtime/kernel.hpp"

#include <filesystem>

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

// [Module, File, #{mode, extra, dry_run, timeout, batch}]
Term cmd_upgrade(const Args& a, const ControlContext& ctx) {
    const std::string module = text_arg(a.at(0), "module");
    const auto file = file_arg(a.at(1));
    code::UpgradeOptions options;
    if (a.size() > 2) {
        const Term& o = a[2];
        if (!o.is_map()) throw CommandError("upgrade options: expected a map; got " + o.to_string(200));
        for (const MapEntry& e : o.entries()) {
            const std::string key = e.key.is_atom() ? std::string(e.key.get<Atom>().name()) : e.key.to_string(80);
            if (key == "mode") {
                if (e.value.is_atom(Atom("atomic"))) options.mode = code::UpgradeMode::atomic;
                else if (e.value.is_atom(Atom("rolling"))) options.mode = code::UpgradeMode::rolling;
                else throw CommandError("upgrade: mode must be atomic or rolling; got " + e.value.to_string(80));
            } else if (key == "extra") {
                options.extra = e.value;
            } else if (key == "dry_run") {
                auto b = e.value.try_get<bool>();
                if (!b) throw CommandError("upgrade: dry_run must be true or false");
                options.dry_run = *b;
            } else if (key == "timeout") {
                auto v = e.value.try_get<std::int64_t>();
                if (!v || *v < 1 || *v > 3'600'000) throw CommandError("upgrade: timeout must be 1..3600000 ms");
                options.suspend_timeout = std::chrono::milliseconds(*v);
            } else if (key == "unpurgeable") {
                auto b = e.value.try_get<bool>();
                if (!b) throw CommandError("upgrade: unpurgeable must be true or false");
                options.allow_unpurgeable = *b;
            } else if (key == "batch") {
                auto v = e.value.try_get<std::int64_t>();
                if (!v || *v < 1 || *v > 1'000'000) throw CommandError("upgrade: batch must be 1..1000000");
                options.batch = static_cast<std::size_t>(*v);
            } else {
                throw CommandError("upgrade: unknown option " + key);
            }
        }
    }
    // The file names its module; an operator naming another one made a
    // mistake: learn the file's module with a dry run and refuse then.
    code::UpgradeOptions probe = options;
    probe.dry_run = true;
    code::UpgradeReport dry = code::upgrade(modules_of(ctx), file, probe);
    if (dry.outcome == code::UpgradeReport::Outcome::refused) return dry.to_term();
    if (dry.module.name() != module)
        throw CommandError("upgrade: " + file.string() + " holds module " + std::string(dry.module.name()) +
                           ", not " + module + "; nothing changed");
    if (options.dry_run) return dry.to_term();
    return code::upgrade(modules_of(ctx), file, options).to_term();
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
