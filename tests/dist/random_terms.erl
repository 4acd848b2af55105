%% Random terms for the echo property tests against the host (beam_peer.erl,
%% beam_tls_peer.erl): every kind the host's term type holds, nested up to
%% Depth, binaries up to MaxBytes long. Compared with =:= after the trip.
-module(random_terms).
-export([term/2]).

term(0, _) -> rand:uniform(1000);
term(D, MaxBytes) ->
    Sub = fun() -> term(D - 1, MaxBytes) end,
    case rand:uniform(12) of
        1 -> rand:uniform(1 bsl 60) - (1 bsl 59);
        2 -> rand:uniform() * 1.0e10;
        3 -> list_to_atom("a" ++ integer_to_list(rand:uniform(50)));
        4 -> list_to_binary([rand:uniform(255) || _ <- lists:seq(1, rand:uniform(MaxBytes))]);
        5 -> list_to_tuple([Sub() || _ <- lists:seq(1, rand:uniform(4))]);
        6 -> [Sub() || _ <- lists:seq(1, rand:uniform(4))];
        7 -> maps:from_list([{term(0, MaxBytes), Sub()} || _ <- lists:seq(1, rand:uniform(3))]);
        8 -> make_ref();
        9 -> self();
        10 -> [];
        11 -> "a string";
        12 -> [Sub() | term(0, MaxBytes)]
    end.
