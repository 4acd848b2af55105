// Supervisor: OTP's supervisor behaviour (supervisor.erl).
//
// A supervisor starts its children in order, watches them (it traps exits),
// restarts them by its strategy, and stops them in reverse order. Children are
// GenServer modules named by atom (loaded plugins, or modules compiled into
// the host and registered with gen_server::register_builtin), or supervisors.
//
// Strategies: one_for_one (restart the one that died), one_for_all (restart
// all), rest_for_one (restart it and those started after it),
// simple_one_for_one (one template, children added with start_child(Sup,
// ExtraArgs); the template's args list is extended by ExtraArgs, as in OTP).
//
// Restart types: permanent (always), transient (unless it exited normal,
// shutdown or {shutdown, _}), temporary (never; removed when it exits).
// Intensity: more than `intensity` restarts within `period` and the
// supervisor terminates all children and exits with `shutdown` — its own
// supervisor then applies its strategy (escalation). OTP's default: 1 in 5 s.
// Shutdown: brutal_kill (exit(Child, kill)), a timeout (exit(Child,
// shutdown), then kill after the timeout; default 5000 ms for workers) or
// infinity (default for supervisors). A worker runs terminate on shutdown
// only if it traps exits, as in OTP.
//
// Specs are terms, OTP-style maps, so they can come from a config file:
//   #{strategy => one_for_one, intensity => 1, period => 5000,
//     children => [#{id => counter, start => {counter, Args},
//                    restart => permanent, shutdown => 5000, type => worker,
//                    name => counter}]}      % optional: registered name
// A child of type supervisor has start => {supervisor, ChildSupervisorSpec}.
//
// All functions below are calls into the supervisor process: in a process,
// blocking the caller until the supervisor answers.
#pragma once

#include <otpp/export.hpp>
#include <otpp/gen_server.hpp>
#include <otpp/term.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace otpp::supervisor {

// Starts a supervisor linked to the caller. `spec` as described above. The
// result is OTP's: {ok, Pid} | ignore | {error, Reason}; a child that fails to
// start makes it {error, {shutdown, {failed_to_start_child, Id, Reason}}}.
OTPP_API gen_server::StartResult start_link(Term spec, std::optional<Atom> name = std::nullopt);

// {ok, Pid} | {error, Reason}. A child spec map, or for simple_one_for_one the
// extra args (a list).
OTPP_API Term start_child(gen_server::ServerRef sup, Term spec_or_args);
// ok | {error, not_found}. By id, or by pid for simple_one_for_one children.
OTPP_API Term terminate_child(gen_server::ServerRef sup, Term id_or_pid);
// {ok, Pid} | {error, running | not_found}
OTPP_API Term restart_child(gen_server::ServerRef sup, Atom id);
// ok | {error, running | not_found}
OTPP_API Term delete_child(gen_server::ServerRef sup, Atom id);
// [{Id, Pid | undefined, worker | supervisor, [Module]}] in start order.
OTPP_API Term which_children(gen_server::ServerRef sup);
// #{specs => N, active => N, supervisors => N, workers => N}
OTPP_API Term count_children(gen_server::ServerRef sup);

}  // namespace otpp::supervisor
