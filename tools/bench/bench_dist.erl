%% The BEAM side of otpp-bench's distribution workloads (bench_dist.cpp).
%% Started as: erl -sname X -setcookie C -noshell -pa DIR -s bench_dist main
%% Prints "READY <node>" once its processes are registered, then serves until
%% it is killed (otpp-bench kills every erl it started).
%%
%% Registered processes, the same on an otpp node (bench_dist.cpp):
%%   bench_echo  {From, whoami} -> From ! {echo_pid, self()};
%%               {From, Msg}    -> From ! Msg
%%   bench_sink  {start, ReportTo, N}, then {seq, I}...: when I =:= N arrives,
%%               ReportTo ! {sink_done, node(), Count, Ns} (Ns: from start to
%%               the last message, measured here, the receiver)
%%   bench_ctl   commands from the otpp-bench driver (BEAM as the active side):
%%     {connect, From, Node}               -> From ! {connected, Bool}
%%     {rtt, From, EchoPid, Warmup, N}     -> From ! {rtt_done, [Ns]}
%%     {send, From, SinkNode, N, ReportTo} -> From ! {sent, Ns}
-module(bench_dist).
-export([main/0]).

main() ->
    register(bench_echo, spawn(fun echo/0)),
    register(bench_sink, spawn(fun sink/0)),
    register(bench_ctl, spawn(fun ctl/0)),
    io:format("READY ~s~n", [node()]).

now_ns() -> erlang:monotonic_time(nanosecond).

echo() ->
    receive
        {From, whoami} -> From ! {echo_pid, self()};
        {From, Msg} -> From ! Msg;
        _ -> ok
    end,
    echo().

sink() ->
    receive
        {start, ReportTo, N} -> count(ReportTo, N, 0, now_ns());
        _ -> sink()
    end.

count(ReportTo, N, C, T0) ->
    receive
        {seq, N} ->
            ReportTo ! {sink_done, node(), C + 1, now_ns() - T0},
            sink();
        {seq, _} ->
            count(ReportTo, N, C + 1, T0)
    end.

ctl() ->
    receive
        {connect, From, Node} ->
            From ! {connected, net_kernel:connect_node(Node)};
        {rtt, From, Echo, Warmup, N} ->
            _ = pings(Echo, Warmup, []),
            From ! {rtt_done, pings(Echo, N, [])};
        {send, From, SinkNode, N, ReportTo} ->
            T0 = now_ns(),
            {bench_sink, SinkNode} ! {start, ReportTo, N},
            send_seq({bench_sink, SinkNode}, 1, N),
            From ! {sent, now_ns() - T0};
        _ ->
            ok
    end,
    ctl().

%% One round trip per iteration, timed alone.
pings(_, 0, Acc) -> Acc;
pings(Echo, I, Acc) ->
    T0 = now_ns(),
    Echo ! {self(), I},
    receive I -> ok end,
    pings(Echo, I - 1, [now_ns() - T0 | Acc]).

send_seq(_, I, N) when I > N -> ok;
send_seq(To, I, N) ->
    To ! {seq, I},
    send_seq(To, I + 1, N).
