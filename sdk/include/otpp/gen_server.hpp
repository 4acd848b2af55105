// GenServer: OTP's generic server behaviour (gen_server.erl) for C++.
//
// A GenServer module is a struct with static callbacks and a State type:
//
//   struct Counter {
//       struct State {
//           int64_t count = 0;
//           OTPP_TERM_FIELDS(count)            // state <-> term, for upgrades
//       };
//       static gen_server::Init<State> init(const Term& args) {
//           return State{args.get<int64_t>()};
//       }
//       static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State& s) {
//           if (request == Term(Atom("get"))) return gen_server::reply(s.count);
//           return gen_server::reply(Term::tuple({atoms::error, Atom("unknown_call")}));
//       }
//       static void handle_cast(const Term& msg, State& s) { s.count += msg.get<int64_t>(); }
//   };
//   OTPP_GEN_SERVER(Counter, "counter", "1.0.0")   // in a plugin: the module's export
//
// The contract, callback by callback (all but init and handle_call are optional):
//
//   init(Args) -> Init<State>
//       Runs in the new server process before start() returns to the caller.
//       Return a State (OTP's {ok, State}), gen_server::ok(State, Timeout),
//       gen_server::stop(Reason) (start fails with {error, Reason}) or
//       gen_server::ignore() (start returns ignore, the process ends normally).
//   handle_call(Request, From, State&) -> CallReply
//       gen_server::reply(Value[, Timeout]), gen_server::noreply([Timeout]) —
//       then reply later with gen_server::reply(From, Value) —, or
//       gen_server::stop(Reason[, Reply]).
//   handle_cast(Msg, State&) -> Result or void        (void means noreply)
//   handle_info(Info, State&) -> Result or void
//       Every other message: 'EXIT' (when trapping exits), 'DOWN', timer
//       messages, and the atom `timeout` when a Timeout given with a result
//       elapses with no message. Default: log and ignore, like OTP.
//   terminate(Reason, State&)
//       Called when the server stops: a stop result, a callback that throws
//       (Reason is {exception, <<"Type: what()">>}), or an exit signal from its
//       parent while trapping exits. Not called when killed.
//   code_change(OldVsn, StateTerm, Extra) -> State | gen_server::error(Reason)
//       During a hot upgrade, on the NEW version, in the server's process,
//       between two callbacks: build your State from the term the old
//       version's state was turned into (by its to_term). OldVsn is the old
//       version string as a binary, or {down, NewerVsn} in a downgrade. Extra
//       is what the operator passed to the upgrade. Default:
//       from_term<State>(StateTerm), which keeps defaults for fields the old
//       version did not have and ignores the ones it dropped. Throwing or
//       returning error(Reason) refuses the upgrade for this process: it
//       keeps its old state, untouched, on the old version.
//   downgrade(ToVsn, const State&, Extra) -> Term
//       During a downgrade, on the NEWER version being left: the state as
//       the older version ToVsn (a binary) expects it. OTP does this in
//       code_change({down, Vsn}, ...) of the newer module. Default: to_term(State).
//   format_status(const State&) -> Term
//       What the console shows as the state. Default: to_term(State).
//   rpc(Function, Args) -> Term                            (static, no State)
//       The module's functions for other nodes: rpc:call(Node, Module,
//       Function, Args) from an Erlang or otpp node runs rpc(Function, Args)
//       here (Args is the argument list) in a fresh process pinned to the
//       module's current version, and the caller gets the returned Term. A
//       throw gives the caller {badrpc, {'EXIT', Reason}}; throw
//       gen_server::Undef{} for a function the module does not export (the
//       caller gets {badrpc, {'EXIT', {undef, ...}}}, as in Erlang). Without
//       rpc, every function is undef.
//
// Threading: every callback runs in the server's own process, one at a time;
// State is never touched concurrently. Callbacks may call any SDK function,
// including gen_server::call on other servers (never on themselves: that
// deadlocks until the timeout, as in OTP).
//
// State and messages that cross a version boundary are Terms: the host never
// keeps an object whose code lives in a plugin beyond the process that owns it.
#pragma once

#include <otpp/export.hpp>
#include <otpp/module.hpp>
#include <otpp/process.hpp>
#include <otpp/term.hpp>
#include <otpp/term_codec.hpp>

#include <chrono>
#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace otpp::gen_server {

// Who called: a pid and the call's tag. gen_server::reply(from, v) answers.
// Keep the whole From to answer later: a caller on a BEAM node (OTP 24+)
// tags its call [alias | Tag] and expects its reply tagged the same way.
struct From {
    Pid pid;
    Ref tag;
    bool alias = false;  // the tag came as [alias | Tag]
    OTPP_TERM_FIELDS(pid, tag, alias)
};

// {Name, Node}: a server registered as Name on Node (this node or another;
// otpp/node.hpp).
struct NameOnNode {
    Atom name;
    Atom node;
};

// A server: its pid, its registered name, or {Name, Node}.
using ServerRef = std::variant<Pid, Atom, NameOnNode>;

inline constexpr Timeout default_call_timeout = std::chrono::milliseconds(5000);

// ---------------------------------------------------------------- results

struct Stop {
    Term reason;
    std::optional<Term> reply;
};
struct Ignore {};
struct NoReply {
    Timeout timeout = infinity;
};
struct Reply {
    Term value;
    Timeout timeout = infinity;
};

template <class State>
struct Ok {
    State state;
    Timeout timeout = infinity;
};

inline Stop stop(Term reason) { return Stop{std::move(reason), std::nullopt}; }
inline Stop stop(Term reason, Term reply) { return Stop{std::move(reason), std::move(reply)}; }
inline Ignore ignore() { return {}; }
inline NoReply noreply(Timeout timeout = infinity) { return NoReply{timeout}; }
inline Reply reply(Term value, Timeout timeout = infinity) { return Reply{std::move(value), timeout}; }
template <class State>
Ok<State> ok(State state, Timeout timeout = infinity) {
    return Ok<State>{std::move(state), timeout};
}

// code_change's refusal: OTP's {error, Reason}.
struct ChangeError {
    Term reason;
};
inline ChangeError error(Term reason) { return ChangeError{std::move(reason)}; }

template <class State>
class CodeChange {
public:
    CodeChange(State state) : v_(std::move(state)) {}  // NOLINT: the new state
    CodeChange(ChangeError e) : v_(std::move(e)) {}    // NOLINT
    std::variant<State, ChangeError>& get() { return v_; }

private:
    std::variant<State, ChangeError> v_;
};

template <class State>
class Init {
public:
    Init(State state) : v_(Ok<State>{std::move(state), infinity}) {}  // NOLINT: {ok, State}
    Init(Ok<State> ok) : v_(std::move(ok)) {}                         // NOLINT
    Init(Stop s) : v_(std::move(s)) {}                                // NOLINT
    Init(Ignore i) : v_(i) {}                                         // NOLINT
    std::variant<Ok<State>, Stop, Ignore>& get() { return v_; }

private:
    std::variant<Ok<State>, Stop, Ignore> v_;
};

class CallReply {
public:
    CallReply(Reply r) : v_(std::move(r)) {}    // NOLINT
    CallReply(NoReply n) : v_(n) {}             // NOLINT
    CallReply(Stop s) : v_(std::move(s)) {}     // NOLINT
    std::variant<Reply, NoReply, Stop>& get() { return v_; }

private:
    std::variant<Reply, NoReply, Stop> v_;
};

class Result {
public:
    Result(NoReply n) : v_(n) {}          // NOLINT
    Result(Stop s) : v_(std::move(s)) {}  // NOLINT
    std::variant<NoReply, Stop>& get() { return v_; }

private:
    std::variant<NoReply, Stop> v_;
};

// ---------------------------------------------------------------- the callback table

// What the engine in the host calls. Plain function pointers over an opaque
// state: nothing the host holds has a vtable or type_info in the plugin.
// Every entry may throw; the engine catches and ends the server.
struct Outcome {
    enum Kind : unsigned char { ok, reply, noreply, stop, ignore } kind = noreply;
    Term value;                 // the reply, or the stop reason
    std::optional<Term> stop_reply;  // stop with a reply
    Timeout timeout = infinity;
};

struct Callbacks {
    void* (*init)(const Term& args, Outcome& out);  // returns the state when out.kind == ok
    void (*handle_call)(const Term& request, const From& from, void* state, Outcome& out);
    void (*handle_cast)(const Term& message, void* state, Outcome& out);
    void (*handle_info)(const Term& message, void* state, Outcome& out);
    void (*terminate)(const Term& reason, void* state);
    void (*destroy)(void* state) noexcept;
    Term (*state_to_term)(const void* state);
    // Returns the new state with out.kind == ok, or nullptr with out.kind ==
    // stop and the reason in out.value.
    void* (*code_change)(const Term& old_vsn, const Term& state, const Term& extra, Outcome& out);
    Term (*format_status)(const void* state);
    Term (*downgrade)(const Term& to_vsn, const void* state, const Term& extra);
    Term (*rpc)(Atom function, const Term& args);  // nullptr: no exported functions
};

// Thrown by a module's rpc() for a function it does not export.
struct Undef {};

// ---------------------------------------------------------------- client API

struct StartOptions {
    std::optional<Atom> name;       // register the server under this name
    bool link = false;              // link it to the caller (start_link)
    Timeout timeout = std::chrono::milliseconds(5000);  // for init
    // OTP's hibernate_after: after this long without a message the server
    // gives its stack back (erlang:hibernate) and costs only its control block
    // and state while idle; the next message finds it a fresh stack (a few
    // microseconds). Not while a callback asked for an idle Timeout.
    std::optional<Timeout> hibernate_after;
};

// OTP's start result: {ok, Pid} | ignore | {error, Reason}.
class OTPP_API StartResult {
public:
    explicit StartResult(Term outcome) : outcome_(std::move(outcome)) {}
    bool ok() const noexcept;
    bool ignored() const noexcept;
    // The server's pid; throws BadArg (with the error) if the start failed.
    Pid pid() const;
    const Term& term() const noexcept { return outcome_; }

private:
    Term outcome_;
};

// Starts a server of the module currently loaded under `module` (see the code
// server). In a process; blocks the caller until init has run.
OTPP_API StartResult start(Atom module, Term args, const StartOptions& options = {});
// Starts a server of a module compiled into the caller (no plugin).
OTPP_API StartResult start(const ModuleDescriptor& module, Term args, const StartOptions& options = {});

// Makes a module compiled into the host (or a test) startable by name, as if
// it had been loaded from a plugin: start(Atom(name), ...) and supervisor
// child specs then find it. `module` must have static storage.
OTPP_API void register_builtin(const ModuleDescriptor& module);

// Synchronous request. Blocks the caller until the reply, the server's death
// or the timeout. Like OTP, a failure exits the caller — throws ProcessExit
// with {timeout | noproc | ServerReason, {gen_server, call, [Server, Request]}}
// — unless caught. A reply arriving after the timeout is dropped.
OTPP_API Term call(ServerRef server, Term request, Timeout timeout = default_call_timeout);

// The same without exiting: ok() and the reply, or the failure's reason
// (timeout, noproc, or the server's exit reason).
struct CallOutcome {
    bool ok = false;
    Term value;  // the reply, or the reason
};
OTPP_API CallOutcome try_call(ServerRef server, Term request, Timeout timeout = default_call_timeout);

// Asynchronous request; never blocks, never fails (like OTP: a dead server or
// unknown name is ignored).
OTPP_API void cast(ServerRef server, Term message);

// Answers a call that handle_call left with noreply. Any process.
OTPP_API void reply(const From& to, Term value);

// The server's status, for consoles (OTP's sys:get_status): a map with its
// pid, module, version and state as its format_status callback shows it.
// Asked between two callbacks, so it waits while a callback runs. nullopt if
// `server` is not a GenServer, is gone, or did not answer within `timeout`.
// In a process.
OTPP_API std::optional<Term> get_status(ServerRef server, Timeout timeout = default_call_timeout);

// Stops a server with `reason` and waits until it has terminated (OTP's
// gen_server:stop/3). Throws ProcessExit(noproc) if it is not running.
OTPP_API void stop_server(ServerRef server, Term reason = atoms::normal, Timeout timeout = infinity);

// ---------------------------------------------------------------- module adapter

namespace detail {

template <class M>
using StateOf = typename M::State;

template <class M>
concept HasHandleInfo = requires(const Term& t, StateOf<M>& s) { M::handle_info(t, s); };
template <class M>
concept HasHandleCast = requires(const Term& t, StateOf<M>& s) { M::handle_cast(t, s); };
template <class M>
concept HasTerminate = requires(const Term& t, StateOf<M>& s) { M::terminate(t, s); };
template <class M>
concept HasCodeChange = requires(const Term& t) {
    { M::code_change(t, t, t) } -> std::convertible_to<CodeChange<StateOf<M>>>;
};
template <class M>
concept HasDowngrade = requires(const Term& t, const StateOf<M>& s) {
    { M::downgrade(t, s, t) } -> std::convertible_to<Term>;
};
template <class M>
concept HasRpc = requires(Atom f, const Term& a) {
    { M::rpc(f, a) } -> std::convertible_to<Term>;
};
template <class M>
concept HasFormatStatus = requires(const StateOf<M>& s) {
    { M::format_status(s) } -> std::convertible_to<Term>;
};

inline void set_from(Outcome& out, NoReply n) {
    out.kind = Outcome::noreply;
    out.timeout = n.timeout;
}
inline void set_from(Outcome& out, Stop s) {
    out.kind = Outcome::stop;
    out.value = std::move(s.reason);
    out.stop_reply = std::move(s.reply);
}
inline void set_from(Outcome& out, Reply r) {
    out.kind = Outcome::reply;
    out.value = std::move(r.value);
    out.timeout = r.timeout;
}

template <class F>
void run_result(Outcome& out, F&& f) {
    using R = decltype(f());
    if constexpr (std::is_void_v<R>) {
        f();
        out.kind = Outcome::noreply;
    } else if constexpr (std::is_same_v<R, Result> || std::is_same_v<R, CallReply>) {
        std::visit([&](auto&& v) { set_from(out, std::move(v)); }, f().get());
    } else {
        set_from(out, f());  // NoReply / Reply / Stop returned directly
    }
}

OTPP_API void log_unexpected_info(const Term& message);

template <class M>
struct Adapter {
    using State = StateOf<M>;
    static State& st(void* p) { return *static_cast<State*>(p); }

    static void* init(const Term& args, Outcome& out) {
        Init<State> result = M::init(args);
        void* state = nullptr;
        std::visit(
            [&](auto&& v) {
                using V = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<V, Ok<State>>) {
                    state = new State(std::move(v.state));
                    out.kind = Outcome::ok;
                    out.timeout = v.timeout;
                } else if constexpr (std::is_same_v<V, Stop>) {
                    set_from(out, std::move(v));
                } else {
                    out.kind = Outcome::ignore;
                }
            },
            result.get());
        return state;
    }
    static void handle_call(const Term& request, const From& from, void* state, Outcome& out) {
        run_result(out, [&] { return M::handle_call(request, from, st(state)); });
    }
    static void handle_cast(const Term& message, void* state, Outcome& out) {
        if constexpr (HasHandleCast<M>) {
            run_result(out, [&] { return M::handle_cast(message, st(state)); });
        } else {
            log_unexpected_info(message);
            out.kind = Outcome::noreply;
        }
    }
    static void handle_info(const Term& message, void* state, Outcome& out) {
        if constexpr (HasHandleInfo<M>) {
            run_result(out, [&] { return M::handle_info(message, st(state)); });
        } else {
            log_unexpected_info(message);
            out.kind = Outcome::noreply;
        }
    }
    static void terminate(const Term& reason, void* state) {
        if constexpr (HasTerminate<M>) M::terminate(reason, st(state));
    }
    static void destroy(void* state) noexcept { delete static_cast<State*>(state); }
    static Term state_to_term(const void* state) { return to_term(*static_cast<const State*>(state)); }
    static void* code_change(const Term& old_vsn, const Term& state, const Term& extra, Outcome& out) {
        if constexpr (HasCodeChange<M>) {
            CodeChange<State> result = M::code_change(old_vsn, state, extra);
            if (auto* e = std::get_if<ChangeError>(&result.get())) {
                out.kind = Outcome::stop;
                out.value = std::move(e->reason);
                return nullptr;
            }
            out.kind = Outcome::ok;
            return new State(std::move(std::get<State>(result.get())));
        } else {
            out.kind = Outcome::ok;
            return new State(from_term<State>(state));
        }
    }
    static Term downgrade(const Term& to_vsn, const void* state, const Term& extra) {
        if constexpr (HasDowngrade<M>) return M::downgrade(to_vsn, *static_cast<const State*>(state), extra);
        else return to_term(*static_cast<const State*>(state));
    }
    static Term rpc(Atom function, const Term& args) {
        if constexpr (HasRpc<M>) return M::rpc(function, args);
        else throw Undef{};
    }
    static Term format_status(const void* state) {
        if constexpr (HasFormatStatus<M>) return M::format_status(*static_cast<const State*>(state));
        else return to_term(*static_cast<const State*>(state));
    }
};

template <class M>
inline constexpr Callbacks callbacks_v{
    &Adapter<M>::init,        &Adapter<M>::handle_call,   &Adapter<M>::handle_cast,
    &Adapter<M>::handle_info, &Adapter<M>::terminate,     &Adapter<M>::destroy,
    &Adapter<M>::state_to_term, &Adapter<M>::code_change, &Adapter<M>::format_status,
    &Adapter<M>::downgrade,
    HasRpc<M> ? &Adapter<M>::rpc : nullptr,
};

}  // namespace detail

// A descriptor for a module compiled into the caller (tests, built-ins):
//   static const ModuleDescriptor counter = gen_server::module<Counter>("counter", "1.0.0");
template <class M>
constexpr ModuleDescriptor module(const char* name, const char* version) {
    return ModuleDescriptor{module_magic,        sdk_abi_version, sizeof(ModuleDescriptor),
                            BehaviourKind::gen_server, name,        version,
                            &detail::callbacks_v<M>};
}

}  // namespace otpp::gen_server

// The export of a GenServer plugin: exactly one per shared library.
#define OTPP_GEN_SERVER(Module, name, version)                                                   \
    extern "C" __attribute__((visibility("default"))) const ::otpp::ModuleDescriptor*           \
    otpp_module_descriptor() {                                                                   \
        static constexpr ::otpp::ModuleDescriptor descriptor =                                   \
            ::otpp::gen_server::module<Module>(name, version);                                   \
        return &descriptor;                                                                      \
    }
