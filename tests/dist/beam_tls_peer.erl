%% The BEAM side of the TLS distribution tests (test_tls_beam.cpp).
%% Started as: erl -proto_dist inet_tls -ssl_dist_optfile F -sname X
%%   -setcookie C -noshell -pa DIR -s beam_tls_peer main Host Scenario
%% (or without the first two for a plain node). Every result is printed as
%% "RESULT <key> <term>" on its own line, then "DONE".
-module(beam_tls_peer).
-export([main/1]).

main([Host, Scenario]) ->
    try run(Scenario, Host)
    catch C:R:S -> result(crashed, {C, R, S})
    end,
    io:format("DONE~n"),
    timer:sleep(100),
    halt().

result(Key, Term) -> io:format("RESULT ~p ~w~n", [Key, Term]).

%% The BEAM connects: ping, then messages both ways through the host's echo
%% process ({From, Msg} -> From ! {echo, Msg}), a big one too; and which
%% protocol carries the connection (tls).
run(ping_and_echo, Host) ->
    result(ping, net_adm:ping(Host)),
    result(visible, lists:member(Host, nodes(connected))),
    result(protocol, protocol(Host)),
    {echo, Host} ! {self(), hello},
    result(echo, receive {echo, M} -> M after 5000 -> timeout end),
    Big = binary:copy(<<"0123456789abcdef">>, 65536),
    {echo, Host} ! {self(), {big, Big}},
    result(echo_big, receive {echo, {big, B}} -> B =:= Big after 10000 -> timeout end);

run(ping_only, Host) ->
    result(ping, net_adm:ping(Host)),
    result(nodes, nodes(connected));

%% The host connects: registered as tls_peer, it answers {From, X} with
%% {echo, X} (and {From, nodes} with {nodes, Nodes, Protocols}) until
%% {halt, From}. Prints READY once registered.
run(serve, _Host) ->
    register(tls_peer, self()),
    io:format("READY~n"),
    serve();

%% Many messages both ways while the TLS session renegotiates (TLS 1.2,
%% renegotiate_at) or updates its keys (TLS 1.3, key_update_at) under them:
%% random terms and big binaries through the host's echo, each checked.
run(echo_stress, Host) ->
    rand:seed(exsss, {1, 2, 3}),
    pong = net_adm:ping(Host),
    result(protocol, protocol(Host)),
    Terms = [random_terms:term(4, 2000) || _ <- lists:seq(1, 400)]
            ++ [binary:copy(<<N>>, 200000 + N) || N <- lists:seq(1, 10)],
    Self = self(),
    %% Half sent from another process at the same time: both directions busy.
    Other = spawn_link(fun() -> Self ! {done, check(Host, lists:reverse(Terms))} end),
    Mine = check(Host, Terms),
    Theirs = receive {done, T} -> T after 60000 -> timeout end,
    _ = Other,
    result(echo_checked, 2 * length(Terms)),
    result(echo_mismatches, Mine ++ Theirs).

check(Host, Terms) ->
    [T || T <- Terms,
          begin {echo, Host} ! {self(), T},
                receive {echo, Back} -> Back =/= T after 10000 -> true end end].

serve() ->
    receive
        {halt, From} -> From ! halting, ok;
        {From, nodes} ->
            From ! {nodes, nodes(connected), [protocol(N) || N <- nodes(connected)]},
            serve();
        {From, X} ->
            From ! {echo, X},
            serve()
    after 60000 -> ok
    end.

%% The protocol of the distribution connection to Node: tls or tcp.
protocol(Node) ->
    case net_kernel:node_info(Node) of
        {ok, Info} ->
            case lists:keyfind(address, 1, Info) of
                {address, Address} -> element(4, Address);  % #net_address.protocol
                false -> unknown
            end;
        Error -> Error
    end.

