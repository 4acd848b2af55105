// rpc (otpp/rpc.hpp): the rex server other nodes call, and rpc::call.
//
// rex speaks Erlang's rpc protocol (lib/kernel/src/rpc.erl, the fallback a
// BEAM uses towards nodes without remote spawn):
//   {'$gen_call', From, {call, M, F, A, GroupLeader}} -> the value, or
//                                                       {badrpc, {'EXIT', Reason}}
//   {'$gen_cast', {cast, M, F, A, GroupLeader}}       -> run, no answer
// Each call runs in a process of its own, pinned to M's current version while
// it runs (a purge of that version kills it, as Erlang kills processes in old
// code), so a slow function never holds up rex. (OTP 23+ nodes call through
// remote spawn instead — erpc; dist::Connection serves that with apply().)
#include "../code/module_table.hpp"
#include "../code/module_version.hpp"
#include "../runtime/current.hpp"
#include "../runtime/kernel.hpp"
#include "../runtime/process.hpp"

#include <otpp/gen_server.hpp>
#include <otpp/node.hpp>
#include <otpp/process.hpp>
#include <otpp/rpc.hpp>

#include <spdlog/spdlog.h>

#include <cxxabi.h>
#include <typeinfo>

namespace otpp::rpc {

namespace {

const Atom rex("rex"), call_atom("call"), cast_atom("cast"), badrpc("badrpc"), undef("undef");
const Atom gen_call("$gen_call"), gen_cast("$gen_cast"), nodedown("nodedown");
const Atom io_request("io_request"), io_reply("io_reply"), put_chars("put_chars");

Term exit_reason(Term reason) { return Term::tuple({badrpc, Term::tuple({atoms::EXIT, std::move(reason)})}); }

Term undef_reason(Atom m, Atom f, const Term& a) {
    return Term::tuple({undef, Term::list({Term::tuple({m, f, a, Term::list({})})})});
}

// rex's answer for an apply's outcome.
Term answer(const detail::Applied& r, Atom m, Atom f, const Term& args) {
    switch (r.kind) {
        case detail::Applied::value: return r.term;
        case detail::Applied::undef: return exit_reason(undef_reason(m, f, args));
        case detail::Applied::failed: break;
    }
    return exit_reason(r.term);
}

bool is_mfa(const Term& r, Atom kind) {
    return r.is_tuple(5) && r[0].is_atom(kind) && r[1].is_atom() && r[2].is_atom() && r[3].is_list();
}

void serve() {
    for (;;) {
        Term m = receive();
        if (m.is_tuple(3) && m[0].is_atom(gen_call) && m[1].is_tuple(2) && m[1][0].is_pid() && is_mfa(m[2], call_atom)) {
            Pid caller = m[1][0].get<Pid>();
            Term tag = m[1][1], request = m[2];
            spawn([caller, tag, request] {
                Atom module = request[1].get<Atom>(), f = request[2].get<Atom>();
                Term value = answer(detail::apply(module, f, request[3]), module, f, request[3]);
                // gen:reply/2: {Tag, Reply}, the tag as the caller sent it.
                send(caller, Term::tuple({tag, std::move(value)}));
            }, SpawnOptions{.label = "rpc call"});
        } else if (m.is_tuple(2) && m[0].is_atom(gen_cast) && is_mfa(m[1], cast_atom)) {
            Term request = m[1];
            spawn([request] { detail::apply(request[1].get<Atom>(), request[2].get<Atom>(), request[3]); },
                  SpawnOptions{.label = "rpc cast"});
        } else {
            spdlog::debug("rex: ignored {}", m.to_string(200));
        }
    }
}

// The group leader our calls give a BEAM node's rex: what the called
// function prints arrives here as io requests; we log the text and answer
// ok, as a group leader must (else the printing process waits forever).
void io_server() {
    for (;;) {
        Term m = receive();
        if (!(m.is_tuple(4) && m[0].is_atom(io_request) && m[1].is_pid())) continue;
        const Term& req = m[3];
        Term answer = Term::tuple({atoms::error, Atom("enotsup")});
        if (req.is_tuple() && req.size() >= 2 && req[0].is_atom(put_chars)) {
            const Term& chars = req[req.size() - 1];
            spdlog::info("rpc output from {}: {}", to_string(m[1].get<Pid>()),
                         chars.is_binary() ? chars.get<std::string>() : chars.to_string(1000));
            answer = atoms::ok;
        }
        send(m[1].get<Pid>(), Term::tuple({io_reply, m[2], answer}));
    }
}

}  // namespace

Term call(Atom node, Atom module, Atom function, Term args, Timeout timeout) {
    static const Atom io_name("otpp_rpc_io");
    // rpc.erl's own rule: a group leader for the remote side's output.
    auto leader = whereis(io_name);
    if (!leader) {
        Pid p = spawn(io_server, SpawnOptions{.label = "rpc io"});
        try {
            register_name(io_name, p);
            leader = p;
        } catch (const BadArg&) {  // another caller was first
            exit(p, atoms::kill);
            leader = whereis(io_name);
        }
    }
    auto r = gen_server::try_call(gen_server::NameOnNode{rex, node},
                                  Term::tuple({call_atom, module, function, std::move(args), leader.value_or(Pid{})}),
                                  timeout);
    if (r.ok) return std::move(r.value);
    if (r.value.is_atom(atoms::timeout)) return Term::tuple({badrpc, atoms::timeout});
    if (r.value.is_atom(atoms::noconnection) || r.value.is_atom(atoms::noproc) ||
        (r.value.is_tuple(2) && r.value[0].is_atom(nodedown)))
        return Term::tuple({badrpc, nodedown});
    return exit_reason(std::move(r.value));
}

namespace detail {

Applied apply(Atom m, Atom f, const Term& args) {
    auto& kernel = runtime::current_kernel();
    auto version = kernel.modules().current(m);
    if (!version || version->kind != BehaviourKind::gen_server) return {Applied::undef, Term()};
    auto* callbacks = static_cast<const gen_server::Callbacks*>(version->callbacks);
    if (!callbacks->rpc) return {Applied::undef, Term()};
    // Pinned while it runs: the code stays mapped, and the code server knows.
    runtime::require_process().set_code(version, runtime::Process::PinKind::inherited);
    try {
        return {Applied::value, callbacks->rpc(f, args)};
    } catch (const gen_server::Undef&) {
        return {Applied::undef, Term()};
    } catch (const ProcessExit&) {
        throw;
    } catch (const std::exception& e) {
        int status = 0;
        char* name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
        std::string type = status == 0 && name ? name : typeid(e).name();
        std::free(name);
        return {Applied::failed, Term::tuple({atoms::exception, Term::binary(type + ": " + e.what())})};
    } catch (...) {
        return {Applied::failed, Term::tuple({atoms::exception, Term::binary("unknown exception")})};
    }
}

Pid start_server() {
    Pid p = spawn(serve, SpawnOptions{.label = "rex"});
    register_name(rex, p);
    return p;
}
}  // namespace detail

}  // namespace otpp::rpc
