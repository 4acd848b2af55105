#include "applications.hpp"

#include <otpp/error.hpp>
#include <otpp/process.hpp>
#include <otpp/supervisor.hpp>

#include <spdlog/spdlog.h>

namespace otpp::host {

namespace {

const char* strategy_atom(Strategy s) {
    switch (s) {
        case Strategy::one_for_one: return "one_for_one";
        case Strategy::one_for_all: return "one_for_all";
        case Strategy::rest_for_one: return "rest_for_one";
        case Strategy::simple_one_for_one: return "simple_one_for_one";
    }
    return "one_for_one";
}

const char* restart_atom(Restart r) {
    switch (r) {
        case Restart::permanent: return "permanent";
        case Restart::transient: return "transient";
        case Restart::temporary: return "temporary";
    }
    return "permanent";
}

Term shutdown_term(const Shutdown& s) {
    switch (s.kind) {
        case Shutdown::Kind::brutal_kill: return atoms::brutal_kill;
        case Shutdown::Kind::infinity: return atoms::infinity;
        case Shutdown::Kind::timeout: return static_cast<int64_t>(s.timeout.count());
    }
    return 5000;
}

Term child_term(const ChildSpec& c) {
    bool is_sup = c.type == ChildType::supervisor;
    Term start = is_sup ? Term::tuple({Atom("supervisor"), supervisor_spec_term(*c.supervisor)})
                        : Term::tuple({c.module, c.args});
    std::vector<std::pair<Term, Term>> entries{{Atom("id"), c.id},
                                               {Atom("start"), start},
                                               {Atom("restart"), Atom(restart_atom(c.restart))},
                                               {Atom("shutdown"), shutdown_term(c.shutdown)},
                                               {Atom("type"), Atom(is_sup ? "supervisor" : "worker")},
                                               {Atom("modules"), Term::list({c.module})}};
    if (c.name) entries.emplace_back(Atom("name"), *c.name);
    return Term::map(std::move(entries));
}

}  // namespace

Term supervisor_spec_term(const SupervisorSpec& spec) {
    std::vector<Term> children;
    for (const ChildSpec& c : spec.children) children.push_back(child_term(c));
    return Term::map({{Atom("strategy"), Atom(strategy_atom(spec.strategy))},
                      {Atom("intensity"), static_cast<int64_t>(spec.intensity)},
                      {Atom("period"), static_cast<int64_t>(spec.period.count())},
                      {Atom("children"), Term::list(children)}});
}

void Applications::start_all(const std::vector<ApplicationSpec>& specs) {
    for (const ApplicationSpec& app : specs) {
        auto r = supervisor::start_link(supervisor_spec_term(app.supervisor), app.name);
        if (!r.ok()) {
            std::string why = r.term().to_string(2000);
            stop_all();
            throw Error("application " + std::string(app.name.name()) + " failed to start: " + why);
        }
        running_.push_back({app.name, r.pid()});
        spdlog::info("application {} started: top supervisor {}", app.name.name(), Term(r.pid()).to_string());
    }
}

void Applications::stop_all() {
    while (!running_.empty()) {
        Running app = running_.back();
        running_.pop_back();
        Ref ref = monitor(app.supervisor);
        unlink(app.supervisor);
        exit(app.supervisor, atoms::shutdown);
        receive(match::tuple(atoms::DOWN, ref, match::_, match::_, match::_));
        receive(match::tuple(atoms::EXIT, app.supervisor, match::_), Timeout(0));  // drop a stale EXIT
        spdlog::info("application {} stopped", app.name.name());
    }
}

const Applications::Running* Applications::find(Pid pid) const {
    for (const Running& r : running_)
        if (r.supervisor == pid) return &r;
    return nullptr;
}

}  // namespace otpp::host
