%% The BEAM side of the distribution interop tests (test_beam_interop.cpp).
%% Started as: erl -sname X -setcookie C -noshell -pa DIR -s beam_peer main Host Scenario
%% Every result is printed as "RESULT <key> <term>" on its own line, then
%% "DONE"; the C++ test reads and checks them.
-module(beam_peer).
-behaviour(gen_server).
-export([main/1, init/1, handle_call/3, handle_cast/2, handle_info/2]).

main([Host, Scenario]) ->
    try run(Scenario, Host)
    catch C:R:S -> result(crashed, {C, R, S})
    end,
    io:format("DONE~n"),
    timer:sleep(100),
    halt().

result(Key, Term) -> io:format("RESULT ~p ~s~n", [Key, io_lib:print(Term, 1, 1000000, -1)]).

%% The host serves: echo (a process: {From, Msg} -> From ! {echo, Msg};
%% {From, whoami} -> From ! {pid, Self}; {From, {die, R}} -> exit(R)),
%% and a gen_server registered as calc ({add, A, B} -> A + B; X -> X).
run(host_serves, Host) ->
    result(ping, net_adm:ping(Host)),
    result(visible, lists:member(Host, nodes())),
    result(hidden, lists:member(Host, nodes(hidden))),
    result(global_sync, begin Self = self(), spawn(fun() -> Self ! {synced, global:sync()} end),
                              receive {synced, S} -> S after 10000 -> hangs end end),
    {echo, Host} ! {self(), hello},
    result(echo, receive {echo, M} -> M after 5000 -> timeout end),
    {echo, Host} ! {self(), whoami},
    Echo = receive {pid, P} -> P after 5000 -> timeout end,
    result(echo_node, node(Echo)),
    Echo ! {self(), [1, 2, 3]},
    result(echo_by_pid, receive {echo, M2} -> M2 after 5000 -> timeout end),
    result(call, gen_server:call({calc, Host}, {add, 40, 2})),
    Big = {lists:seq(1, 300), <<"bin">>, 3.5, #{a => 1}, make_ref(), self()},
    result(call_roundtrip, gen_server:call({calc, Host}, Big) =:= Big),
    CalcPid = gen_server:call({calc, Host}, self_pid),
    result(call_by_pid, gen_server:call(CalcPid, {add, 1, 1})),
    gen_server:cast({calc, Host}, {store, casted}),
    result(cast, gen_server:call({calc, Host}, stored)),
    result(call_missing, catch gen_server:call({nobody, Host}, x, 2000)),
    Mref = erlang:monitor(process, Echo),
    process_flag(trap_exit, true),
    link(Echo),
    Echo ! {self(), {die, boom}},
    result(down, receive {'DOWN', Mref, process, Echo, R1} -> R1 after 5000 -> timeout end),
    result(exit, receive {'EXIT', Echo, R2} -> R2 after 5000 -> timeout end),
    result(monitor_dead, begin M3 = erlang:monitor(process, Echo),
                               receive {'DOWN', M3, process, _, R3} -> R3 after 5000 -> timeout end end),
    result(rpc_sum, rpc:call(Host, interop_calc, sum, [[1, 2, 3]], 5000)),
    result(rpc_fail, rpc:call(Host, interop_calc, fail, [], 5000)),
    result(rpc_undef, rpc:call(Host, interop_calc, nope, [], 5000)),
    result(rpc_no_module, rpc:call(Host, no_such_module, f, [1], 5000)),
    ok;

run(ping_only, Host) ->
    result(ping, net_adm:ping(Host));

%% Watches the host: connects, monitors nodes and the host's net_kernel,
%% prints WATCHING; after the host is killed prints its nodedown and the
%% monitor's reason, then pings until the host's next incarnation answers.
run(watch_host, Host) ->
    %% otpp nodes are hidden to the BEAM: monitor all node types.
    ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
    pong = net_adm:ping(Host),
    Mref = erlang:monitor(process, {net_kernel, Host}),
    io:format("WATCHING~n"),
    receive {nodedown, N, _Info} -> result(nodedown, N) after 30000 -> result(nodedown, timeout) end,
    result(monitor, receive {'DOWN', Mref, process, _, R} -> R after 5000 -> timeout end),
    result(ping_again, ping_until(Host, 150));

%% The BEAM serves: a gen_server registered as beam_server; the host calls.
%% Prints READY, then waits for {halt} or 60 s.
run(beam_serves, _Host) ->
    {ok, _} = gen_server:start({local, beam_server}, ?MODULE, [], []),
    register(beam_main, self()),
    io:format("READY~n"),
    receive
        {halt, From} -> From ! halting, ok
    after 60000 -> ok
    end;

%% Sends random terms to the host's echo and checks they come back =:=.
run(echo_property, Host) ->
    rand:seed(exsss, {1, 2, 3}),
    Terms = [random_terms:term(4, 20) || _ <- lists:seq(1, 300)],
    Bad = [T || T <- Terms,
                begin {echo, Host} ! {self(), T},
                      receive {echo, Back} -> Back =/= T after 5000 -> true end end],
    result(echo_checked, length(Terms)),
    result(echo_mismatches, Bad);

%% Large messages: a 64 MiB binary to the host's echo (and back) while small
%% messages go to and from another host process (echo_small); result: how
%% many small round trips completed while the big one was in flight.
run(large_message, Host) ->
    {echo_small, Host} ! {self(), warmup},
    receive {echo, warmup} -> ok end,
    Big = binary:copy(<<"0123456789abcdef">>, 4 * 1024 * 1024),
    Self = self(),
    spawn(fun() -> {echo, Host} ! {Self, {big, Big}} end),
    {Count, Size} = small_loop(Host, 0),
    result(big_back, Size),
    result(small_during_big, Count);

%% A sink for a flood from the host: tells the host's flood_test process
%% where it is, then takes {flood, Sender, Seq, Bin} until every sender's
%% {flood_end, Sender, N} (the host says how many senders first); results:
%% how many messages and bytes arrived, and how many were out of their
%% sender's order.
run(flood_sink, Host) ->
    {flood_test, Host} ! {sink, self()},
    Senders = receive {flood_expect, K} -> K after 30000 -> 0 end,
    {Count, Bytes, Disorder} = flood_loop(Senders, #{}, 0, 0, 0),
    result(flood_messages, Count),
    result(flood_bytes, Bytes),
    result(flood_disorder, Disorder).

flood_loop(0, _Next, Count, Bytes, Disorder) -> {Count, Bytes, Disorder};
flood_loop(Open, Next, Count, Bytes, Disorder) ->
    receive
        {flood, S, Seq, Bin} ->
            Expected = maps:get(S, Next, 1),
            Bad = if Seq =:= Expected -> 0; true -> 1 end,
            flood_loop(Open, Next#{S => Seq + 1}, Count + 1, Bytes + byte_size(Bin), Disorder + Bad);
        {flood_end, S, N} ->
            Bad = case maps:get(S, Next, 1) =:= N + 1 of true -> 0; false -> 1 end,
            flood_loop(Open - 1, Next, Count, Bytes, Disorder + Bad)
    after 60000 -> {Count, Bytes, {timeout, Disorder}}
    end.

ping_until(_, 0) -> pang;
ping_until(Host, N) ->
    case net_adm:ping(Host) of
        pong -> pong;
        pang -> timer:sleep(200), ping_until(Host, N - 1)
    end.

small_loop(Host, N) ->
    receive {echo, {big, B}} -> {N, byte_size(B)}
    after 0 ->
        {echo_small, Host} ! {self(), {small, N}},
        receive {echo, {small, N}} -> small_loop(Host, N + 1)
        after 30000 -> {N, timeout}
        end
    end.

%% beam_server
init([]) -> {ok, #{}}.
handle_call({add, A, B}, _From, S) -> {reply, A + B, S};
handle_call(whoami, _From, S) -> {reply, self(), S};
handle_call(spawn_sleeper, _From, S) -> {reply, spawn(fun() -> receive after infinity -> ok end end), S};
handle_call({echo, X}, _From, S) -> {reply, X, S};
handle_call({exit_with, R}, _From, S) -> {stop, R, ok, S};
handle_call(X, _From, S) -> {reply, {unknown, X}, S}.
handle_cast({send_to, Pid, Msg}, S) -> Pid ! Msg, {noreply, S};
handle_cast(_, S) -> {noreply, S}.
handle_info(_, S) -> {noreply, S}.
