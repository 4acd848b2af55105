// The GenServer engine: the server loop that drives a module's callbacks, and
// the client side (start, call, cast, reply, stop). Mirrors gen_server.erl.
//
// Wire format (messages a server understands):
//   {'$gen_call', {From, Tag}, Request}   -> handle_call; the reply is a Reply
//                                            signal to the caller's alias Tag
//   {'$gen_cast', Message}                -> handle_cast
//   {'$gen_stop', Reason}                 -> terminate(Reason), exit(Reason)
//   {'EXIT', Parent, Reason}              -> when trapping exits and Parent is
//                                            the starter: terminate, exit(Reason)
//   {'$system', From, Request}            -> handled by the engine, between
//                                            callbacks: get_status, and the
//                                            code server's migration requests
//                                            (host/code/migration.hpp)
//   anything else                         -> handle_info
#include "../code/migration.hpp"
#include "../code/module_table.hpp"
#include "../code/module_version.hpp"
#include "../runtime/current.hpp"
#include "../runtime/deadline.hpp"
#include "../runtime/kernel.hpp"
#include "../runtime/process.hpp"
#include "crash_report.hpp"

#include <otpp/error.hpp>
#include <otpp/gen_server.hpp>
#include <otpp/node.hpp>
#include <otpp/runtime.hpp>

#include <cxxabi.h>

namespace otpp::gen_server {

namespace {

const Atom gen_call("$gen_call");
const Atom gen_cast("$gen_cast");
const Atom gen_stop("$gen_stop");
const Atom gen_system("$system");
const Atom get_status_atom("get_status");
const Atom prepare_atom("prepare"), commit_atom("commit"), abort_atom("abort"), migrate_atom("migrate");
const Atom failed_atom("failed"), done_atom("done");
const Atom bad_return("bad_return_from_code_change");
const Atom gen_server_atom("gen_server");
const Atom already_started("already_started");
const Atom alias_atom("alias");

using runtime::deadline_after;
runtime::Kernel& kernel() { return runtime::current_kernel(); }

// {Name, Node} on this node is just Name.
bool is_remote(const ServerRef& server) {
    auto* n = std::get_if<NameOnNode>(&server);
    return n && n->node != otpp::node();
}

// A local name or pid as a pid; nullopt if the name is free or `server` is
// {Name, OtherNode} (known only there).
std::optional<Pid> resolve(const ServerRef& server) {
    if (auto* pid = std::get_if<Pid>(&server)) return *pid;
    if (auto* name = std::get_if<Atom>(&server)) return whereis(*name);
    if (is_remote(server)) return std::nullopt;
    return whereis(std::get<NameOnNode>(server).name);
}

Term server_term(const ServerRef& server) {
    if (auto* pid = std::get_if<Pid>(&server)) return *pid;
    if (auto* name = std::get_if<Atom>(&server)) return *name;
    auto& n = std::get<NameOnNode>(server);
    return Term::tuple({n.name, n.node});
}

// Sends `value` to the alias `tag` of `to`: delivered only while `to` waits.
// A call's tag is also the caller's monitor on us: once we have replied we
// drop our side of it, and the caller drops its own without a Demonitor
// signal (do_call). The reply goes first: were we to die in between, the
// caller still gets its answer and ignores our DOWN.
void send_reply(Pid to, Ref tag, Term value);

// A call's {From, Tag}: Tag is a ref, or [alias | Ref] from a BEAM caller.
std::optional<From> parse_from(const Term& t) {
    if (!t.is_tuple(2) || !t[0].is_pid()) return std::nullopt;
    if (t[1].is_ref()) return From{t[0].get<Pid>(), t[1].get<Ref>(), false};
    if (t[1].is_list() && !t[1].is_nil() && t[1].elements().size() == 1 && t[1].elements()[0].is_atom(alias_atom) &&
        t[1].tail().is_ref())
        return From{t[0].get<Pid>(), t[1].tail().get<Ref>(), true};
    return std::nullopt;
}

void send_reply(const From& to, Term value) {
    if (to.pid.node != 0) {
        // Another node's caller waits for the message {Tag, Reply}, with its
        // tag as it sent it (gen:reply/2).
        Term tag = to.alias ? Term::cons(alias_atom, to.tag) : Term(to.tag);
        send(to.pid, Term::tuple({std::move(tag), std::move(value)}));
        return;
    }
    send_reply(to.pid, to.tag, std::move(value));
}

void send_reply(Pid to, Ref tag, Term value) {
    runtime::Process* me = runtime::current_process();
    kernel().send_signal(to, new runtime::Signal(runtime::SignalKind::Reply, me ? me->pid() : Pid{},
                                                 std::move(value), tag));
    if (me) me->forget_watcher(tag, to);
}

// ---------------------------------------------------------------- the server

class Server {
public:
    // The process's pin holds the version; the server only points at it, so
    // that a process cut loose in a callback (its stack abandoned) still
    // releases its version when the exit protocol drops the pin.
    Server(std::shared_ptr<const code::ModuleVersion> module, std::optional<Pid> parent)
        : module_(module.get()),
          callbacks_(static_cast<const Callbacks*>(module_->callbacks)),
          parent_(parent),
          me_(runtime::require_process()) {
        module_->servers_started.fetch_add(1, std::memory_order_acq_rel);
        me_.set_code(std::move(module));
    }

    ~Server() {
        if (state_) callbacks_->destroy(state_);
        discard_pending();
    }

    // Runs init and acknowledges the starter; false if the server must not go on.
    bool init(const Term& args, const StartOptions& options, Pid starter, Ref tag) {
        if (options.name) {
            try {
                register_name(*options.name, me_.pid());
            } catch (const BadArg&) {
                auto holder = whereis(*options.name);
                Term who = holder ? Term(*holder) : Term(atoms::undefined);
                send_reply(starter, tag,
                           Term::tuple({atoms::error, Term::tuple({already_started, who})}));
                return false;
            }
        }
        Outcome out;
        try {
            me_.set_callback("init");
            state_ = callbacks_->init(args, out);
            me_.set_callback(nullptr);
        } catch (const ProcessExit&) {
            throw;
        } catch (...) {
            Term reason = current_exception_reason();
            send_reply(starter, tag, Term::tuple({atoms::error, reason}));
            report_crash(reason, "init", args);
            exit(reason);
        }
        switch (out.kind) {
            case Outcome::ok:
                timeout_ = out.timeout;
                send_reply(starter, tag, Term::tuple({atoms::ok, me_.pid()}));
                return true;
            case Outcome::ignore:
                send_reply(starter, tag, atoms::ignore);
                return false;
            default:
                send_reply(starter, tag, Term::tuple({atoms::error, out.value}));
                exit(out.value);
        }
    }

    // Runs until the server stops; with hibernate_after, may instead leave
    // by hibernating, to be called again on a fresh stack.
    [[noreturn]] void loop(std::optional<Timeout> hibernate_after) {
        for (;;) {
            std::optional<Term> message;
            if (timeout_ != infinity) {
                message = receive(timeout_);
                if (!message) message = Term(atoms::timeout);
            } else if (hibernate_after) {
                message = receive(*hibernate_after);
                if (!message) me_.hibernate();
            } else {
                message = receive();
            }
            last_message_ = *message;
            dispatch(*message);
        }
    }

private:
    void dispatch(const Term& m) {
        Outcome out;
        if (m.is_tuple(3) && m[0].is_atom(gen_system)) return handle_system(m[1], m[2]);
        std::optional<From> caller;
        if (m.is_tuple(3) && m[0].is_atom(gen_call) && (caller = parse_from(m[1]))) {
            const From& from = *caller;
            run("handle_call", out, [&] { callbacks_->handle_call(m[2], from, state_, out); });
            switch (out.kind) {
                case Outcome::reply:
                    send_reply(from, std::move(out.value));
                    timeout_ = out.timeout;
                    return;
                case Outcome::stop:
                    if (out.stop_reply) send_reply(from, *out.stop_reply);
                    stop(out.value);
                default:
                    timeout_ = out.timeout;
                    return;
            }
        }
        if (m.is_tuple(2) && m[0].is_atom(gen_cast)) {
            run("handle_cast", out, [&] { callbacks_->handle_cast(m[1], state_, out); });
        } else if (m.is_tuple(2) && m[0].is_atom(gen_stop)) {
            stop(m[1]);
        } else if (parent_ && m.is_tuple(3) && m[0].is_atom(atoms::EXIT) && m[1] == Term(*parent_)) {
            stop(m[2]);  // our parent (supervisor) tells us to go: terminate first
        } else {
            run("handle_info", out, [&] { callbacks_->handle_info(m, state_, out); });
        }
        if (out.kind == Outcome::stop) stop(out.value);
        timeout_ = out.timeout;
    }


    // ------------------------------------------------------------ system messages

    void handle_system(const Term& from, const Term& request) {
        if (request.is_atom(get_status_atom)) {
            if (auto caller = parse_from(from)) send_reply(*caller, status());
            return;
        }
        // Migrations: {'$system', Id, prepare | migrate} (commit and abort are
        // awaited inside prepare).
        if (!from.is_ref() || !request.is_atom()) return;
        auto migration = kernel().modules().migration(from.get<Ref>());
        // Unknown or finished (we came too late), or not for the version we run.
        if (!migration || migration->from.get() != module_) return;
        if (request.is_atom(prepare_atom)) prepare(*migration);
        else if (request.is_atom(migrate_atom)) migrate(*migration);
        // A commit or abort outside prepare() is stale: nothing to do.
    }

    Term status() {
        Term state;
        try {
            state = callbacks_->format_status(state_);
        } catch (const ProcessExit&) {
            throw;
        } catch (...) {
            state = Term::tuple({Atom("format_status_failed"), current_exception_reason()});
        }
        return Term::map({{Atom("pid"), me_.pid()},
                          {Atom("module"), module_->name},
                          {Atom("version"), Term::binary(module_->version)},
                          {Atom("state"), std::move(state)}});
    }

    // The new version's state, built beside the old one (which is only read).
    struct Converted {
        void* state = nullptr;
        const char* failed_in = nullptr;
        Term reason;
    };
    Converted convert(const code::Migration& m) {
        auto* to = static_cast<const Callbacks*>(m.to->callbacks);
        const char* phase = m.downgrade ? "downgrade" : "state_to_term";
        try {
            me_.set_callback(phase);
            Term term = m.downgrade ? callbacks_->downgrade(m.to_vsn, state_, m.extra)
                                    : callbacks_->state_to_term(state_);
            phase = "code_change";
            me_.set_callback(phase);
            Outcome out;
            void* state = to->code_change(m.old_vsn, term, m.extra, out);
            me_.set_callback(nullptr);
            if (out.kind == Outcome::ok && state) return {state, nullptr, Term()};
            if (state) to->destroy(state);
            return {nullptr, phase, out.kind == Outcome::stop ? out.value : Term(bad_return)};
        } catch (const ProcessExit&) {
            throw;
        } catch (...) {
            me_.set_callback(nullptr);
            return {nullptr, phase, current_exception_reason()};
        }
    }

    // The new version's state, held while a migration decides. The new
    // version stays loaded while our caller holds `m`; leaving by any way,
    // including a kill while we wait, drops the new state before that.
    struct PendingState {
        Server& server;
        Converted converted;
        PendingState(Server& s, code::Migration& m) : server(s), converted(s.convert(m)) {
            server.pending_state_ = converted.state;
            if (converted.state) server.pending_module_ = m.to.get();
        }
        ~PendingState() { server.discard_pending(); }
    };

    // The conversion runs the plugin's code deeper on this stack than the
    // loop went since the server started: those lines are cold, and each
    // miss used to stall the conversion in turn. Asked for all at once (for
    // writing), they arrive together. A prefetch never faults, so running
    // past the end of a small stack is harmless. (Measured with 100k
    // servers on one scheduler: CPU of the upgrade 211 -> 179 ms.)
    [[gnu::always_inline]] static inline void warm_stack_below() noexcept {
        constexpr int kLines = 32;  // 2 KiB
        const char* sp = static_cast<const char*>(__builtin_frame_address(0));
        for (int i = 1; i <= kLines; ++i) __builtin_prefetch(sp - 64 * i, 1);
    }

    // Atomic mode: prepare, tell, wait suspended for the decision.
    void prepare(code::Migration& m) {
        warm_stack_below();
        auto started = std::chrono::steady_clock::now();
        PendingState pending(*this, m);
        const Converted& c = pending.converted;
        // Messages from now on wait behind the decision.
        runtime::Signal* mark = me_.mailbox_mark();
        bool wait = false;
        std::optional<Term> notify;
        {
            code::Migration::Shard& shard = m.shard_here();
            std::lock_guard lock(shard.lock);
            if (c.failed_in) {
                m.record_failure(shard, {me_.pid(), c.failed_in, c.reason});
                if (m.phase == code::Migration::Phase::open) notify = Term(failed_atom);
            } else if (m.phase == code::Migration::Phase::open) {
                shard.prepared.push_back(me_.pid());
                wait = true;
            }
        }
        if (notify) send(m.coordinator, Term::tuple({m.id, *notify}));
        if (!wait) return discard_pending();
        const Ref id = m.id;
        auto decision = me_.receive(
            [&](const Term& msg) {
                return msg.is_tuple(3) && msg[0].is_atom(gen_system) && msg[1].is_ref() &&
                       msg[1].get<Ref>() == id && (msg[2].is_atom(commit_atom) || msg[2].is_atom(abort_atom));
            },
            runtime::deadline_after(infinity), mark);
        if ((*decision)[2].is_atom(commit_atom)) switch_to(m, started);
        else discard_pending();
    }

    // Rolling mode: convert and switch at once, then answer.
    void migrate(code::Migration& m) {
        warm_stack_below();
        auto started = std::chrono::steady_clock::now();
        PendingState pending(*this, m);
        const Converted& c = pending.converted;
        bool commit = false;
        {
            code::Migration::Shard& shard = m.shard_here();
            std::lock_guard lock(shard.lock);
            if (c.failed_in) m.record_failure(shard, {me_.pid(), c.failed_in, c.reason});
            else commit = m.phase == code::Migration::Phase::open;
        }
        if (commit) switch_to(m, started);
        else discard_pending();
        send(m.coordinator, Term::tuple({m.id, done_atom, me_.pid()}));
    }

    // From now on this process runs the new version. The old state goes with
    // the old code, while our pin still keeps that code mapped; then the pin moves.
    void switch_to(code::Migration& m, std::chrono::steady_clock::time_point started) {
        void* old_state = state_;
        const Callbacks* old_callbacks = callbacks_;
        module_ = pending_module_;
        callbacks_ = static_cast<const Callbacks*>(module_->callbacks);
        state_ = pending_state_;
        pending_state_ = nullptr;
        pending_module_ = nullptr;
        old_callbacks->destroy(old_state);
        me_.set_code(m.pin_here());
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
        code::Migration::Shard& shard = m.shard_here();
        std::lock_guard lock(shard.lock);
        shard.migrated.push_back(me_.pid());
        shard.suspended_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX)));
    }

    void discard_pending() noexcept {
        if (pending_state_) static_cast<const Callbacks*>(pending_module_->callbacks)->destroy(pending_state_);
        pending_state_ = nullptr;
        pending_module_ = nullptr;
    }

    template <class F>
    void run(const char* callback, Outcome&, F&& f) {
        me_.set_callback(callback);
        try {
            f();
        } catch (const ProcessExit&) {
            throw;  // killed, or exit/1 called: not a callback failure
        } catch (...) {
            Term reason = current_exception_reason();
            me_.set_callback(nullptr);
            crash(reason, callback);
        }
        me_.set_callback(nullptr);
    }

    // terminate(Reason, State), then exit(Reason). Like OTP, a normal,
    // shutdown or {shutdown, _} stop is no crash; anything else is reported.
    [[noreturn]] void stop(const Term& reason) {
        if (auto failed = run_terminate(reason)) {
            report_crash(*failed, "terminate", last_message_);
            release_state();
            exit(*failed);
        }
        if (!is_normal_exit(reason)) report_crash(reason, nullptr, last_message_);
        release_state();
        exit(reason);
    }

    // A callback threw: terminate (whose own failure changes nothing: the
    // first reason stands), report, exit.
    [[noreturn]] void crash(const Term& reason, const char* callback) {
        run_terminate(reason);
        report_crash(reason, callback, last_message_);
        release_state();
        exit(reason);
    }

    // Calls terminate; the reason it failed with, if it threw.
    std::optional<Term> run_terminate(const Term& reason) {
        try {
            me_.set_callback("terminate");
            callbacks_->terminate(reason, state_);
            return std::nullopt;
        } catch (const ProcessExit&) {
            throw;
        } catch (...) {
            return current_exception_reason();
        }
    }

    void release_state() noexcept {
        me_.set_callback(nullptr);
        if (state_) callbacks_->destroy(state_);
        state_ = nullptr;
        discard_pending();
    }

    void report_crash(const Term& reason, const char* callback, const Term& last) {
        behaviours::CrashReport report;
        report.pid = me_.pid();
        report.name = me_.info().registered_name;
        report.module = module_->label();
        report.callback = callback ? callback : "";
        report.reason = reason;
        report.last_message = last;
        behaviours::log_crash(report);
    }

    static bool is_normal_exit(const Term& reason) {
        return reason.is_atom(atoms::normal) || reason.is_atom(atoms::shutdown) ||
               (reason.is_tuple(2) && reason[0].is_atom(atoms::shutdown));
    }

    static Term current_exception_reason() {
        try {
            throw;
        } catch (const std::exception& e) {
            int status = 0;
            char* name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
            std::string text = (status == 0 && name) ? name : typeid(e).name();
            std::free(name);
            return Term::tuple({atoms::exception, Term::binary(text + ": " + e.what())});
        } catch (...) {
            const std::type_info* t = abi::__cxa_current_exception_type();
            return Term::tuple({atoms::exception, Term::binary(t ? t->name() : "unknown exception")});
        }
    }

    const code::ModuleVersion* module_;  // the version we run (the process's pin holds it)
    const Callbacks* callbacks_;
    std::optional<Pid> parent_;  // the starter, when linked to it
    runtime::Process& me_;
    void* state_ = nullptr;
    // During a migration: the new version's state, not yet ours.
    void* pending_state_ = nullptr;
    const code::ModuleVersion* pending_module_ = nullptr;  // held by the Migration our caller holds
    Timeout timeout_ = infinity;
    Term last_message_;
};

StartResult start_version(std::shared_ptr<const code::ModuleVersion> module, Term args,
                          const StartOptions& options) {
    if (!module) throw BadArg("gen_server:start: no such module");
    if (module->kind != BehaviourKind::gen_server || !module->callbacks)
        throw BadArg("gen_server:start: " + module->label() + " is not a gen_server module");
    runtime::Process& me = runtime::require_process();
    Pid starter = me.pid();
    Ref tag = make_ref();
    // The server lives in the body object, not on the stack, so that the body
    // can be entered again after the process hibernated.
    auto body = [module, args = std::move(args), options, starter, tag,
                 server = std::shared_ptr<Server>()]() mutable {
        if (!server) {
            server = std::make_shared<Server>(std::move(module), options.link ? std::optional<Pid>(starter) : std::nullopt);
            if (!server->init(args, options, starter, tag)) return;
            args = Term();  // the server holds its version: an upgrade may change it
        }
        server->loop(options.hibernate_after);
    };
    runtime::Signal* mark = me.mailbox_mark();
    me.activate_alias(tag);
    Pid pid = options.link ? spawn_link(body, SpawnOptions{.label = nullptr})
                           : spawn(body, SpawnOptions{.label = nullptr});
    auto ack = me.receive(
        [&](const Term& m) { return m.is_tuple(2) && m[0].is_ref() && m[0].get<Ref>() == tag; },
        deadline_after(options.timeout), mark);
    me.deactivate_alias(tag);
    if (!ack) {
        // OTP: {error, timeout}, and the half-started server is killed.
        if (options.link) unlink(pid);
        exit(pid, atoms::kill);
        return StartResult(Term::tuple({atoms::error, atoms::timeout}));
    }
    return StartResult((*ack)[1]);
}

// A call is {'$gen_call', {Me, Tag}, Request}; a system request is the same
// with '$system' (only the engine answers it, never handle_call).
CallOutcome do_call(const ServerRef& server, Term request, Timeout timeout, Atom kind = gen_call) {
    runtime::Process& me = runtime::require_process();
    std::optional<Pid> pid;
    runtime::Signal* mark = me.mailbox_mark();
    Ref tag;
    if (is_remote(server)) {
        // {Name, Node}: monitor the name there (noproc at once if it is free,
        // noconnection if the node cannot be reached), send to the name.
        auto& n = std::get<NameOnNode>(server);
        runtime::Remote* remote = kernel().remote();
        if (!remote) return {false, Term::tuple({Atom("nodedown"), n.node})};
        pid = remote->name_stand_in(n.node);
        tag = me.monitor_name(n.name, *pid);
        send(n.name, n.node, Term::tuple({kind, Term::tuple({me.pid(), tag}), std::move(request)}));
    } else {
        pid = resolve(server);
        if (!pid) return {false, atoms::noproc};
        tag = me.monitor(*pid);
        me.activate_alias(tag);
        send(*pid, Term::tuple({kind, Term::tuple({me.pid(), tag}), std::move(request)}));
    }
    auto deadline = deadline_after(timeout);
    Pid replier;
    auto answer = me.receive(
        [&](const Term& m) {
            if (m.is_tuple(2)) return m[0].is_ref() && m[0].get<Ref>() == tag;
            return m.is_tuple(5) && m[0].is_atom(atoms::DOWN) && m[1].is_ref() && m[1].get<Ref>() == tag;
        },
        deadline, mark, &replier);
    me.deactivate_alias(tag);
    if (!answer) {
        me.demonitor(tag, true);
        return {false, atoms::timeout};
    }
    if (answer->size() == 5) return {false, (*answer)[4]};  // the server died
    // The server replied itself: it has dropped its side of the monitor.
    // (Someone else answered for it: the server still holds it; tell it.)
    // (A server on another node keeps its side: gen:reply does not demonitor.)
    if (replier == *pid && pid->node == 0) me.forget_monitor(tag, mark);
    else me.demonitor(tag, true);
    return {true, (*answer)[1]};
}

}  // namespace

// ---------------------------------------------------------------- public API

bool StartResult::ok() const noexcept { return outcome_.is_tuple(2) && outcome_[0].is_atom(atoms::ok); }
bool StartResult::ignored() const noexcept { return outcome_.is_atom(atoms::ignore); }
Pid StartResult::pid() const {
    if (!ok()) throw BadArg("gen_server start failed: " + outcome_.to_string());
    return outcome_[1].get<Pid>();
}

StartResult start(Atom module, Term args, const StartOptions& options) {
    auto version = kernel().modules().current(module);
    if (!version) return StartResult(Term::tuple({atoms::error, Term::tuple({Atom("no_module"), module})}));
    return start_version(std::move(version), std::move(args), options);
}

StartResult start(const ModuleDescriptor& module, Term args, const StartOptions& options) {
    return start_version(kernel().modules().static_version(module), std::move(args), options);
}

void register_builtin(const ModuleDescriptor& module) {
    auto& modules = kernel().modules();
    modules.make_current(modules.static_version(module));
}

CallOutcome try_call(ServerRef server, Term request, Timeout timeout) {
    return do_call(server, std::move(request), timeout);
}

Term call(ServerRef server, Term request, Timeout timeout) {
    Term req = request;
    CallOutcome r = do_call(server, std::move(request), timeout);
    if (r.ok) return std::move(r.value);
    // OTP: exit({Reason, {gen_server, call, [Server, Request, Timeout]}})
    Term where = Term::tuple({gen_server_atom, atoms::call, Term::list({server_term(server), req})});
    throw ProcessExit(Term::tuple({r.value, where}));
}

std::optional<Term> get_status(ServerRef server, Timeout timeout) {
    CallOutcome r = do_call(server, get_status_atom, timeout, gen_system);
    if (!r.ok) return std::nullopt;
    return std::move(r.value);
}

void cast(ServerRef server, Term message) {
    if (is_remote(server)) {
        auto& n = std::get<NameOnNode>(server);
        send(n.name, n.node, Term::tuple({gen_cast, std::move(message)}));
        return;
    }
    auto pid = resolve(server);
    if (!pid) return;
    send(*pid, Term::tuple({gen_cast, std::move(message)}));
}

void reply(const From& to, Term value) { send_reply(to, std::move(value)); }

void stop_server(ServerRef server, Term reason, Timeout timeout) {
    auto pid = resolve(server);
    if (!pid) throw ProcessExit(atoms::noproc);
    runtime::Process& me = runtime::require_process();
    runtime::Signal* mark = me.mailbox_mark();
    Ref ref = me.monitor(*pid);
    send(*pid, Term::tuple({gen_stop, std::move(reason)}));
    auto deadline = deadline_after(timeout);
    auto down = me.receive(
        [&](const Term& m) {
            return m.is_tuple(5) && m[0].is_atom(atoms::DOWN) && m[1].is_ref() && m[1].get<Ref>() == ref;
        },
        deadline, mark);
    if (!down) {
        me.demonitor(ref, true);
        throw ProcessExit(atoms::timeout);
    }
    if ((*down)[4].is_atom(atoms::noproc)) throw ProcessExit(atoms::noproc);
}

namespace detail {
void log_unexpected_info(const Term& message) { behaviours::log_unexpected_message(message); }
}  // namespace detail

}  // namespace otpp::gen_server
