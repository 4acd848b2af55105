// The supervisor behaviour, itself a GenServer module compiled into libotpp
// (as supervisor.erl is a gen_server callback module).
//
// Children live in a list in start order (strategies need the order), with a
// hash index by pid: finding and restarting the child that died is O(1) in the
// number of children (the BEAM's supervisor is O(n) there).
#include "builtin_modules.hpp"
#include "../runtime/current.hpp"
#include "../runtime/process.hpp"

#include <otpp/error.hpp>
#include <otpp/supervisor.hpp>

#include <spdlog/spdlog.h>

#include <deque>
#include <list>
#include <unordered_map>

namespace otpp::supervisor {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

enum class Strategy { one_for_one, one_for_all, rest_for_one, simple_one_for_one };
enum class Restart { permanent, transient, temporary };
enum class ChildType { worker, supervisor };

struct Shutdown {
    enum Kind { brutal_kill, timeout, infinity } kind = timeout;
    std::chrono::milliseconds time{5000};
};

struct ChildSpec {
    Atom id;
    Atom module;
    Term args;
    Restart restart = Restart::permanent;
    Shutdown shutdown;
    ChildType type = ChildType::worker;
    Term modules;  // [Module]
    std::optional<Atom> name;  // registered under it while running (OTP's {local, Name})
};

struct Child {
    ChildSpec spec;
    std::optional<Pid> pid;
};

const Term* field(const Term& map, const char* key) { return map.find(Term(Atom(key))); }

[[noreturn]] void bad_spec(const std::string& what, const Term& spec) {
    throw BadArg("bad supervisor spec: " + what + " in " + spec.to_string(300));
}

Atom atom_field(const Term& map, const char* key, std::optional<Atom> fallback) {
    const Term* v = field(map, key);
    if (!v) {
        if (fallback) return *fallback;
        bad_spec(std::string("missing ") + key, map);
    }
    if (!v->is_atom()) bad_spec(std::string(key) + " must be an atom", map);
    return v->get<Atom>();
}

ChildSpec parse_child(const Term& m) {
    if (!m.is_map()) bad_spec("a child spec must be a map", m);
    ChildSpec c;
    c.id = atom_field(m, "id", std::nullopt);
    const Term* start = field(m, "start");
    if (!start || !start->is_tuple(2) || !(*start)[0].is_atom())
        bad_spec("start must be {Module, Args}", m);
    c.module = (*start)[0].get<Atom>();
    c.args = (*start)[1];
    Atom restart = atom_field(m, "restart", atoms::permanent);
    if (restart == atoms::permanent) c.restart = Restart::permanent;
    else if (restart == atoms::transient) c.restart = Restart::transient;
    else if (restart == atoms::temporary) c.restart = Restart::temporary;
    else bad_spec("restart must be permanent, transient or temporary", m);
    Atom type = atom_field(m, "type", Atom("worker"));
    if (type == Atom("worker")) c.type = ChildType::worker;
    else if (type == Atom("supervisor")) c.type = ChildType::supervisor;
    else bad_spec("type must be worker or supervisor", m);
    if (const Term* sd = field(m, "shutdown")) {
        if (sd->is_atom(atoms::brutal_kill)) c.shutdown.kind = Shutdown::brutal_kill;
        else if (sd->is_atom(atoms::infinity)) c.shutdown.kind = Shutdown::infinity;
        else if (sd->is_integer() && sd->get<int64_t>() >= 0) c.shutdown.time = std::chrono::milliseconds(sd->get<int64_t>());
        else bad_spec("shutdown must be brutal_kill, infinity or milliseconds", m);
    } else if (c.type == ChildType::supervisor) {
        c.shutdown.kind = Shutdown::infinity;
    }
    if (field(m, "name")) c.name = atom_field(m, "name", std::nullopt);
    const Term* modules = field(m, "modules");
    c.modules = modules ? *modules : Term::list({c.module});
    return c;
}

bool is_normal_exit(const Term& reason) {
    return reason.is_atom(atoms::normal) || reason.is_atom(atoms::shutdown) ||
           (reason.is_tuple(2) && reason[0].is_atom(atoms::shutdown));
}

struct State {
    Strategy strategy = Strategy::one_for_one;
    int64_t intensity = 1;
    std::chrono::milliseconds period{5000};
    std::list<Child> children;  // start order
    std::unordered_map<Pid, std::list<Child>::iterator> by_pid;
    std::deque<Clock::time_point> restarts;
    std::optional<ChildSpec> templ;  // simple_one_for_one: what start_child instantiates

    std::list<Child>::iterator find_id(Atom id) {
        for (auto it = children.begin(); it != children.end(); ++it)
            if (it->spec.id == id) return it;
        return children.end();
    }

    Term to_term() const {
        std::vector<Term> kids;
        for (auto& c : children)
            kids.push_back(Term::tuple({c.spec.id, c.pid ? Term(*c.pid) : Term(atoms::undefined)}));
        return Term::map({{Atom("strategy"), Atom(strategy_name())},
                          {Atom("intensity"), intensity},
                          {Atom("period"), static_cast<int64_t>(period.count())},
                          {Atom("children"), Term::list(kids)}});
    }
    static State from_term(const Term&) { throw BadArg("the built-in supervisor cannot be upgraded"); }

    const char* strategy_name() const {
        switch (strategy) {
            case Strategy::one_for_one: return "one_for_one";
            case Strategy::one_for_all: return "one_for_all";
            case Strategy::rest_for_one: return "rest_for_one";
            case Strategy::simple_one_for_one: return "simple_one_for_one";
        }
        return "?";
    }
};

// ---------------------------------------------------------------- child lifecycle

// Starts one child; nullopt on success (or ignore), else the error reason.
std::optional<Term> start(State& s, std::list<Child>::iterator it) {
    // A supervisor's init starts its whole subtree: no time limit on that.
    Timeout limit = it->spec.type == ChildType::supervisor ? infinity : std::chrono::milliseconds(5000);
    gen_server::StartResult r =
        gen_server::start(it->spec.module, it->spec.args, {.name = it->spec.name, .link = true, .timeout = limit});
    if (r.ok()) {
        it->pid = r.pid();
        s.by_pid[*it->pid] = it;
        return std::nullopt;
    }
    if (r.ignored()) return std::nullopt;
    const Term& t = r.term();
    return t.is_tuple(2) ? t[1] : t;
}

void shutdown(State& s, Child& c) {
    if (!c.pid) return;
    Pid pid = *c.pid;
    s.by_pid.erase(pid);
    c.pid.reset();
    Ref ref = monitor(pid);
    unlink(pid);
    // An 'EXIT' that arrived before the unlink is no news now: drop it.
    receive(match::tuple(atoms::EXIT, pid, match::_), Timeout(0));
    auto down = match::tuple(atoms::DOWN, ref, match::_, match::_, match::_);
    if (c.spec.shutdown.kind == Shutdown::brutal_kill) {
        exit(pid, atoms::kill);
        receive(down);
        return;
    }
    exit(pid, atoms::shutdown);
    if (c.spec.shutdown.kind == Shutdown::infinity) {
        receive(down);
        return;
    }
    if (!receive(down, c.spec.shutdown.time)) {
        spdlog::error("supervisor {}: child {} ({}) did not stop within {} ms; killing it",
                      Term(self()).to_string(), c.spec.id.name(), Term(pid).to_string(),
                      c.spec.shutdown.time.count());
        exit(pid, atoms::kill);
        receive(down);
    }
}

void shutdown_all(State& s) {
    for (auto it = s.children.rbegin(); it != s.children.rend(); ++it) shutdown(s, *it);
}

// Records a restart; false if that exceeds the intensity.
bool note_restart(State& s) {
    auto now = Clock::now();
    s.restarts.push_back(now);
    while (!s.restarts.empty() && s.restarts.front() < now - s.period) s.restarts.pop_front();
    return static_cast<int64_t>(s.restarts.size()) <= s.intensity;
}

// Restarts `it` (and, by strategy, its siblings). False: intensity exceeded.
bool restart(State& s, std::list<Child>::iterator it) {
    for (;;) {
        if (!note_restart(s)) return false;
        std::optional<Term> failed;
        switch (s.strategy) {
            case Strategy::one_for_one:
            case Strategy::simple_one_for_one:
                failed = start(s, it);
                break;
            case Strategy::one_for_all:
                for (auto r = s.children.rbegin(); r != s.children.rend(); ++r) shutdown(s, *r);
                for (auto k = s.children.begin(); k != s.children.end() && !failed; ++k) failed = start(s, k);
                break;
            case Strategy::rest_for_one:
                for (auto r = s.children.rbegin(); &*r != &*it; ++r) shutdown(s, *r);
                for (auto k = it; k != s.children.end() && !failed; ++k) failed = start(s, k);
                break;
        }
        if (!failed) return true;
        spdlog::error("supervisor {}: restarting child {} failed: {}", Term(self()).to_string(),
                      it->spec.id.name(), failed->to_string(300));
    }
}

// ---------------------------------------------------------------- the module

struct Supervisor {
    using State = supervisor::State;

    static gen_server::Init<State> init(const Term& spec) {
        trap_exit(true);
        State s;
        try {
            if (!spec.is_map()) bad_spec("the spec must be a map", spec);
            Atom strategy = atom_field(spec, "strategy", Atom("one_for_one"));
            if (strategy == Atom("one_for_one")) s.strategy = Strategy::one_for_one;
            else if (strategy == Atom("one_for_all")) s.strategy = Strategy::one_for_all;
            else if (strategy == Atom("rest_for_one")) s.strategy = Strategy::rest_for_one;
            else if (strategy == Atom("simple_one_for_one")) s.strategy = Strategy::simple_one_for_one;
            else bad_spec("unknown strategy", spec);
            if (const Term* v = field(spec, "intensity")) s.intensity = v->get<int64_t>();
            if (const Term* v = field(spec, "period")) s.period = std::chrono::milliseconds(v->get<int64_t>());
            if (s.intensity < 0 || s.period.count() < 1) bad_spec("intensity >= 0 and period >= 1 required", spec);
            const Term* children = field(spec, "children");
            if (children && !children->is_list()) bad_spec("children must be a list", spec);
            if (children)
                for (const Term& c : children->elements()) s.children.push_back(Child{parse_child(c), {}});
            if (s.strategy == Strategy::simple_one_for_one && s.children.size() != 1)
                bad_spec("simple_one_for_one needs exactly one child spec (the template)", spec);
        } catch (const BadArg& e) {
            return gen_server::stop(Term::tuple({Atom("bad_spec"), Term::binary(e.what())}));
        }
        if (s.strategy == Strategy::simple_one_for_one) {  // children come later
            s.templ = std::move(s.children.front().spec);
            s.children.clear();
            return s;
        }
        for (auto it = s.children.begin(); it != s.children.end(); ++it) {
            if (auto failed = start(s, it)) {
                shutdown_all(s);
                return gen_server::stop(Term::tuple(
                    {atoms::shutdown, Term::tuple({Atom("failed_to_start_child"), it->spec.id, *failed})}));
            }
        }
        return s;
    }

    static gen_server::Result handle_info(const Term& msg, State& s) {
        if (!(msg.is_tuple(3) && msg[0].is_atom(atoms::EXIT) && msg[1].is_pid())) return gen_server::noreply();
        Pid pid = msg[1].get<Pid>();
        const Term& reason = msg[2];
        auto found = s.by_pid.find(pid);
        if (found == s.by_pid.end()) return gen_server::noreply();  // not (or no longer) ours
        auto it = found->second;
        s.by_pid.erase(found);
        it->pid.reset();
        bool dynamic = s.strategy == Strategy::simple_one_for_one;
        bool again = it->spec.restart == Restart::permanent ||
                     (it->spec.restart == Restart::transient && !is_normal_exit(reason));
        if (!again) {
            if (dynamic || it->spec.restart == Restart::temporary) s.children.erase(it);
            return gen_server::noreply();
        }
        spdlog::info("supervisor {}: child {} ({}) exited with {}; restarting ({})", Term(self()).to_string(),
                     it->spec.id.name(), Term(pid).to_string(), reason.to_string(300), s.strategy_name());
        if (restart(s, it)) return gen_server::noreply();
        spdlog::error("supervisor {}: reached maximum restart intensity ({} in {} ms); shutting down",
                      Term(self()).to_string(), s.intensity, s.period.count());
        shutdown_all(s);
        return gen_server::stop(atoms::shutdown);
    }

    static gen_server::CallReply handle_call(const Term& req, const gen_server::From&, State& s) {
        if (!req.is_tuple() || req.size() == 0 || !req[0].is_atom())
            return gen_server::reply(Term::tuple({atoms::error, Atom("bad_request")}));
        Atom op = req[0].get<Atom>();
        if (op == Atom("start_child") && req.size() == 2) return start_child(s, req[1]);
        if (op == Atom("terminate_child") && req.size() == 2) return terminate_child(s, req[1]);
        if (op == Atom("restart_child") && req.size() == 2) {
            auto it = s.find_id(req[1].get<Atom>());
            if (it == s.children.end()) return gen_server::reply(error(Atom("not_found")));
            if (it->pid) return gen_server::reply(error(Atom("running")));
            if (auto failed = start(s, it)) return gen_server::reply(error(*failed));
            return gen_server::reply(ok_pid(it->pid));
        }
        if (op == Atom("delete_child") && req.size() == 2) {
            auto it = s.find_id(req[1].get<Atom>());
            if (it == s.children.end()) return gen_server::reply(error(Atom("not_found")));
            if (it->pid) return gen_server::reply(error(Atom("running")));
            s.children.erase(it);
            return gen_server::reply(atoms::ok);
        }
        if (op == Atom("which_children")) {
            std::vector<Term> out;
            for (auto& c : s.children)
                out.push_back(Term::tuple({c.spec.id, c.pid ? Term(*c.pid) : Term(atoms::undefined),
                                           Atom(c.spec.type == ChildType::worker ? "worker" : "supervisor"),
                                           c.spec.modules}));
            return gen_server::reply(Term::list(out));
        }
        if (op == Atom("count_children")) {
            int64_t active = 0, sups = 0, workers = 0;
            for (auto& c : s.children) {
                active += c.pid ? 1 : 0;
                (c.spec.type == ChildType::worker ? workers : sups) += 1;
            }
            return gen_server::reply(Term::map({{Atom("specs"), static_cast<int64_t>(s.children.size())},
                                                {Atom("active"), active},
                                                {Atom("supervisors"), sups},
                                                {Atom("workers"), workers}}));
        }
        return gen_server::reply(error(Atom("bad_request")));
    }

    static void terminate(const Term&, State& s) { shutdown_all(s); }

    static State code_change(const Term&, const Term&, const Term&) {
        throw BadArg("the built-in supervisor cannot be upgraded");
    }
    static Term format_status(const State& s) { return s.to_term(); }

private:
    static Term error(Term why) { return Term::tuple({atoms::error, std::move(why)}); }
    static Term ok_pid(const std::optional<Pid>& pid) {
        return Term::tuple({atoms::ok, pid ? Term(*pid) : Term(atoms::undefined)});
    }

    static gen_server::CallReply start_child(State& s, const Term& arg) {
        if (s.strategy == Strategy::simple_one_for_one) {
            const ChildSpec& tmpl = *s.templ;
            Child c{tmpl, {}};
            if (tmpl.args.is_list() && arg.is_list()) {
                std::vector<Term> all(tmpl.args.elements().begin(), tmpl.args.elements().end());
                all.insert(all.end(), arg.elements().begin(), arg.elements().end());
                c.spec.args = Term::list(all);
            } else {
                c.spec.args = arg;
            }
            auto it = s.children.insert(s.children.end(), std::move(c));
            if (auto failed = start(s, it)) {
                s.children.erase(it);
                return gen_server::reply(error(*failed));
            }
            if (!it->pid) {  // ignore: nothing to keep
                s.children.erase(it);
                return gen_server::reply(ok_pid(std::nullopt));
            }
            return gen_server::reply(ok_pid(it->pid));
        }
        ChildSpec spec;
        try {
            spec = parse_child(arg);
        } catch (const BadArg& e) {
            return gen_server::reply(error(Term::tuple({Atom("bad_spec"), Term::binary(e.what())})));
        }
        auto existing = s.find_id(spec.id);
        if (existing != s.children.end())
            return gen_server::reply(error(existing->pid ? Term::tuple({Atom("already_started"), *existing->pid})
                                                         : Term(Atom("already_present"))));
        auto it = s.children.insert(s.children.end(), Child{std::move(spec), {}});
        if (auto failed = start(s, it)) {
            s.children.erase(it);
            return gen_server::reply(error(*failed));
        }
        return gen_server::reply(ok_pid(it->pid));
    }

    static gen_server::CallReply terminate_child(State& s, const Term& which) {
        if (which.is_pid()) {
            auto found = s.by_pid.find(which.get<Pid>());
            if (found == s.by_pid.end()) return gen_server::reply(error(Atom("not_found")));
            auto it = found->second;
            shutdown(s, *it);
            if (s.strategy == Strategy::simple_one_for_one) s.children.erase(it);
            return gen_server::reply(atoms::ok);
        }
        if (!which.is_atom()) return gen_server::reply(error(Atom("not_found")));
        auto it = s.find_id(which.get<Atom>());
        if (it == s.children.end()) return gen_server::reply(error(Atom("not_found")));
        shutdown(s, *it);
        if (it->spec.restart == Restart::temporary) s.children.erase(it);
        return gen_server::reply(atoms::ok);
    }
};

constexpr ModuleDescriptor supervisor_module = gen_server::module<Supervisor>("supervisor", "builtin");

Term sup_call(gen_server::ServerRef sup, Term request) { return gen_server::call(sup, std::move(request), infinity); }

}  // namespace

const ModuleDescriptor& builtin_module() { return supervisor_module; }

gen_server::StartResult start_link(Term spec, std::optional<Atom> name) {
    return gen_server::start(supervisor_module, std::move(spec), {.name = name, .link = true, .timeout = infinity});
}

Term start_child(gen_server::ServerRef sup, Term spec_or_args) {
    return sup_call(sup, Term::tuple({Atom("start_child"), std::move(spec_or_args)}));
}
Term terminate_child(gen_server::ServerRef sup, Term id_or_pid) {
    return sup_call(sup, Term::tuple({Atom("terminate_child"), std::move(id_or_pid)}));
}
Term restart_child(gen_server::ServerRef sup, Atom id) { return sup_call(sup, Term::tuple({Atom("restart_child"), id})); }
Term delete_child(gen_server::ServerRef sup, Atom id) { return sup_call(sup, Term::tuple({Atom("delete_child"), id})); }
Term which_children(gen_server::ServerRef sup) { return sup_call(sup, Term::tuple({Atom("which_children")})); }
Term count_children(gen_server::ServerRef sup) { return sup_call(sup, Term::tuple({Atom("count_children")})); }

}  // namespace otpp::supervisor
