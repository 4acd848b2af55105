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
//   anything else                         -> handle_info
#include "../code/module_version.hpp"
#include "../runtime/current.hpp"
#include "../runtime/deadline.hpp"
#include "../runtime/kernel.hpp"
#include "../runtime/process.hpp"
#include "crash_report.hpp"

#include <otpp/error.hpp>
#include <otpp/gen_server.hpp>
#include <otpp/runtime.hpp>

#include <cxxabi.h>

namespace otpp::gen_server {

namespace {

const Atom gen_call("$gen_call");
const Atom gen_cast("$gen_cast");
const Atom gen_stop("$gen_stop");
const Atom gen_server_atom("gen_server");
const Atom already_started("already_started");

using runtime::deadline_after;
runtime::Kernel& kernel() { return runtime::current_kernel(); }

std::optional<Pid> resolve(const ServerRef& server) {
    if (auto* pid = std::get_if<Pid>(&server)) return *pid;
    return whereis(std::get<Atom>(server));
}

Term server_term(const ServerRef& server) {
    if (auto* pid = std::get_if<Pid>(&server)) return *pid;
    return std::get<Atom>(server);
}

// Sends `value` to the alias `tag` of `to`: delivered only while `to` waits.
void send_reply(Pid to, Ref tag, Term value) {
    runtime::Process* me = runtime::current_process();
    kernel().send_signal(to, new runtime::Signal(runtime::SignalKind::Reply, me ? me->pid() : Pid{},
                                                 std::move(value), tag));
}

// ---------------------------------------------------------------- the server

class Server {
public:
    Server(std::shared_ptr<const code::ModuleVersion> module, std::optional<Pid> parent)
        : module_(std::move(module)),
          callbacks_(static_cast<const Callbacks*>(module_->callbacks)),
          parent_(parent),
          me_(runtime::require_process()) {}

    ~Server() {
        if (state_) callbacks_->destroy(state_);
    }

    // Runs init and acknowledges the starter; false if the server must not go on.
    bool init(const Term& args, const StartOptions& options, Pid starter, Ref tag) {
        me_.set_code(module_);
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
        if (m.is_tuple(3) && m[0].is_atom(gen_call) && m[1].is_tuple(2)) {
            From from{m[1][0].get<Pid>(), m[1][1].get<Ref>()};
            run("handle_call", out, [&] { callbacks_->handle_call(m[2], from, state_, out); });
            switch (out.kind) {
                case Outcome::reply:
                    send_reply(from.pid, from.tag, std::move(out.value));
                    timeout_ = out.timeout;
                    return;
                case Outcome::stop:
                    if (out.stop_reply) send_reply(from.pid, from.tag, *out.stop_reply);
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

    std::shared_ptr<const code::ModuleVersion> module_;
    const Callbacks* callbacks_;
    std::optional<Pid> parent_;  // the starter, when linked to it
    runtime::Process& me_;
    void* state_ = nullptr;
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
            server = std::make_shared<Server>(module, options.link ? std::optional<Pid>(starter) : std::nullopt);
            if (!server->init(args, options, starter, tag)) return;
            args = Term();
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

CallOutcome do_call(const ServerRef& server, Term request, Timeout timeout) {
    runtime::Process& me = runtime::require_process();
    auto pid = resolve(server);
    if (!pid) return {false, atoms::noproc};
    runtime::Signal* mark = me.mailbox_mark();
    Ref tag = me.monitor(*pid);
    me.activate_alias(tag);
    send(*pid, Term::tuple({gen_call, Term::tuple({me.pid(), tag}), std::move(request)}));
    auto deadline = deadline_after(timeout);
    auto answer = me.receive(
        [&](const Term& m) {
            if (m.is_tuple(2)) return m[0].is_ref() && m[0].get<Ref>() == tag;
            return m.is_tuple(5) && m[0].is_atom(atoms::DOWN) && m[1].is_ref() && m[1].get<Ref>() == tag;
        },
        deadline, mark);
    me.deactivate_alias(tag);
    if (!answer) {
        me.demonitor(tag, true);
        return {false, atoms::timeout};
    }
    if (answer->size() == 5) return {false, (*answer)[4]};  // the server died
    me.demonitor(tag, true);
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

void cast(ServerRef server, Term message) {
    auto pid = resolve(server);
    if (!pid) return;
    send(*pid, Term::tuple({gen_cast, std::move(message)}));
}

void reply(const From& to, Term value) { send_reply(to.pid, to.tag, std::move(value)); }

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
