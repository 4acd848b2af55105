#!/usr/bin/env bash
# Seed 002's cluster examples, each on three otpp-host nodes on loopback:
#
#   examples/cluster/run.sh chat|election|price_cache [BUILD_DIR]   (default: build)
#
#   chat          users register globally; messages find them on any node; a
#                 user's name is freed when its node is killed, and moves
#   election      one leader (a global name); kill it and a survivor takes
#                 over, twice; the first node comes back and follows
#   price_cache   a cache replicated on every node; a node killed and
#                 restarted empty catches up; concurrent updates converge
#
# Each node is `otpp-host --sname NAME --setcookie COOKIE` with a config that
# enables [distribution] and starts two applications: `cluster` (connects to
# the other two nodes, and keeps trying) and the example's. The script talks
# to the nodes with otppctl only, asserts every step, and exits 0 only if all
# held (1 otherwise, with the nodes' logs; 2 for a usage or build problem).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scenario=${1:-}
case "$scenario" in
    chat|election|price_cache) ;;
    *) echo "usage: $0 chat|election|price_cache [BUILD_DIR]" >&2; exit 2 ;;
esac
build=$(cd "${2:-$root/build}" && pwd)
host_bin=$build/host/app/otpp-host
ctl_bin=$build/tools/otppctl/otppctl
plugins=$build/examples/cluster/plugins
for f in "$host_bin" "$ctl_bin" "$plugins/cluster.so" "$plugins/$scenario.so"; do
    [ -e "$f" ] || { echo "missing $f: build first (cmake --build $build)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/otpp-cluster.XXXXXX)
cookie="otpp-example-$$-$RANDOM"
declare -A pid node alive
cleanup() {
    local n
    for n in "${!pid[@]}"; do kill -TERM "${pid[$n]}" 2>/dev/null || true; done
    for n in "${!pid[@]}"; do
        for _ in $(seq 50); do kill -0 "${pid[$n]}" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "${pid[$n]}" 2>/dev/null || true
        wait "${pid[$n]}" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ok() { printf '   \033[32mok\033[0m  %s\n' "$*"; }
fail() {
    printf '   \033[31mFAILED\033[0m  %s\n' "$*"
    local f
    for f in "$work"/*.log; do
        [ -e "$f" ] || continue
        echo "---- $(basename "$f") (last 30 lines) ----"; tail -30 "$f"
    done
    exit 1
}
# ctl N ARGS...: otppctl against node N (a, b or c).
ctl() { local n=$1; shift; "$ctl_bin" --socket "$work/run/${node[$n]}.sock" "$@"; }
# quoted ARGS...: the arguments as one would type them in a shell.
quoted() {
    local a out=()
    for a in "$@"; do [[ "$a" =~ ^[A-Za-z0-9_.@-]+$ ]] && out+=("$a") || out+=("'$a'"); done
    echo "${out[*]}"
}
# show N ARGS...: the same, printed as an operator would type it.
show() {
    local n=$1 out
    shift
    out=$(ctl "$n" "$@" 2>&1) || { echo "   [$n] \$ otppctl $(quoted "$@") -> $out"; return 1; }
    printf '   [%s] $ otppctl %s\n         %s\n' "$n" "$(quoted "$@")" "$out" >&2
    printf '%s' "$out"
}
# expect N WANT ARGS...: otppctl's answer must be WANT.
expect() {
    local n=$1 want=$2 got
    shift 2
    got=$(show "$n" "$@") || fail "otppctl $* on $n failed: $got"
    [ "$got" = "$want" ] || fail "on $n, otppctl $* answered $got, expected $want"
}
# eventually N WANT ARGS...: asks every 100 ms until the answer is WANT (10 s at most).
eventually() {
    local n=$1 want=$2 got=
    shift 2
    for _ in $(seq 100); do
        got=$(ctl "$n" "$@" 2>&1) && [ "$got" = "$want" ] && { printf '   [%s] $ otppctl %s\n         %s\n' "$n" "$(quoted "$@")" "$got"; return 0; }
        sleep 0.1
    done
    fail "on $n, otppctl $* still answers '$got' after 10 s, expected $want"
}

seeds() { printf '<<\\"%s\\">>, <<\\"%s\\">>, <<\\"%s\\">>' "${alive[a]}" "${alive[b]}" "${alive[c]}"; }

# start N: a node (again, if it ran before) with the cluster and example applications.
start() {
    local n=$1
    cat > "$work/$n.toml" <<EOF
[node]
name = "replaced@bythecommandline"   # otpp-host --sname sets the name
schedulers = 2

[code]
plugin_dirs = ["$plugins"]
private_dir = "private-$n"

[control]
runtime_dir = "run"

[distribution]
enabled = true
net_ticktime_s = 10

[log]
level = "info"
sink = "file:$n.log"

[[application]]
name = "cluster_formation"
  [application.supervisor]
  strategy = "one_for_one"
  [[application.supervisor.children]]
  id = "cluster"
  module = "cluster"
  name = "cluster"
  args = "[$(seeds)]"

[[application]]
name = "${scenario}_app"
  [application.supervisor]
  strategy = "one_for_one"
  intensity = 5
  [[application.supervisor.children]]
  id = "$scenario"
  module = "$scenario"
  name = "$scenario"
EOF
    rm -f "$work/run/${alive[$n]}"@*.sock
    "$host_bin" --config "$work/$n.toml" --sname "${alive[$n]}" --setcookie "$cookie" 2>>"$work/$n.stderr.log" &
    pid[$n]=$!
    local sock=
    for _ in $(seq 100); do
        sock=$(ls "$work/run/${alive[$n]}"@*.sock 2>/dev/null | head -1) && [ -S "$sock" ] && break
        sleep 0.1
    done
    [ -n "$sock" ] && [ -S "$sock" ] || fail "node $n did not start: $(cat "$work/$n.stderr.log")"
    node[$n]=$(basename "$sock" .sock)
    ok "node $n: ${node[$n]} (otpp-host pid ${pid[$n]})"
}

# kill9 N: SIGKILL, as a crash would.
kill9() {
    local n=$1
    kill -KILL "${pid[$n]}"
    wait "${pid[$n]}" 2>/dev/null || true
    unset "pid[$n]"
    ok "node $n (${node[$n]}) killed with SIGKILL"
}

list() { local IFS=,; echo "[$*]"; }
others() { local n=$1 m out=(); for m in a b c; do [ "$m" != "$n" ] && out+=("${node[$m]}"); done; printf '%s\n' "${out[@]}" | sort | paste -sd, | sed 's/^/[/; s/$/]/'; }

for n in a b c; do alive[$n]="${scenario}_${n}_$$"; done
cd "$work"

say "three nodes on loopback, cookie $cookie"
for n in a b c; do start "$n"; done
for n in a b c; do eventually "$n" "$(others "$n")" call cluster nodes; done
ok "the cluster formed by itself (each node's cluster app connects to the others)"

case "$scenario" in
# ---------------------------------------------------------------------------
chat)
    say "users join on different nodes: each registers a global name"
    expect a ok call chat '{join, <<"alice">>}'
    expect b ok call chat '{join, <<"bob">>}'
    expect c ok call chat '{join, <<"carol">>}'
    expect a '{error,taken}' call chat '{join, <<"bob">>}'
    ok "a name is unique cluster-wide: bob cannot join twice"
    for n in a b c; do expect "$n" '[<<"alice">>,<<"bob">>,<<"carol">>]' call chat who; done

    say "a message finds its user on whichever node the user joined"
    expect a ok call chat '{say, <<"alice">>, <<"bob">>, <<"hi bob">>}'
    expect c ok call chat '{say, <<"carol">>, <<"alice">>, <<"hi alice">>}'
    eventually b '[{<<"alice">>,<<"hi bob">>}]' call chat '{inbox, <<"bob">>}'
    eventually b '[{<<"carol">>,<<"hi alice">>}]' call chat '{inbox, <<"alice">>}'
    expect a '{error,no_such_user}' call chat '{say, <<"alice">>, <<"dave">>, <<"anyone?">>}'

    say "a broadcast reaches every user of the cluster"
    got=$(show c call chat '{broadcast, <<"carol">>, <<"hello all">>}') || fail "broadcast failed"
    [[ "$got" == "{ok,["* ]] || fail "broadcast answered $got"
    eventually a '[{<<"carol">>,<<"hi alice">>},{<<"carol">>,<<"hello all">>}]' call chat '{inbox, <<"alice">>}'
    eventually a '[{<<"alice">>,<<"hi bob">>},{<<"carol">>,<<"hello all">>}]' call chat '{inbox, <<"bob">>}'
    eventually a '[{<<"carol">>,<<"hello all">>}]' call chat '{inbox, <<"carol">>}'

    say "bob's node is killed: bob's name is freed everywhere, and bob can join again elsewhere"
    kill9 b
    eventually a "$(list "${node[c]}")" call cluster nodes
    eventually a '[<<"alice">>,<<"carol">>]' call chat who
    eventually c '[<<"alice">>,<<"carol">>]' call chat who
    expect c '{error,no_such_user}' call chat '{say, <<"carol">>, <<"bob">>, <<"still there?">>}'
    expect a ok call chat '{join, <<"bob">>}'
    expect c ok call chat '{say, <<"carol">>, <<"bob">>, <<"welcome back">>}'
    eventually c '[{<<"carol">>,<<"welcome back">>}]' call chat '{inbox, <<"bob">>}'
    ok "the global name bob moved from ${node[b]} to ${node[a]}"

    say "alice leaves: her name is freed"
    expect a ok call chat '{leave, <<"alice">>}'
    expect c '[<<"bob">>,<<"carol">>]' call chat who
    ;;
# ---------------------------------------------------------------------------
election)
    # From `call election status`: #{leader => Node, leading => Bool, node => Node, won => N}.
    leader_of() { { ctl "$1" call election status || true; } | sed -nE 's/.*leader => ([^,}]+).*/\1/p'; }
    leading() { { ctl "$1" call election status || true; } | sed -nE 's/.*leading => (true|false).*/\1/p'; }
    letter_of() { local m; for m in a b c; do [ "${node[$m]}" = "$1" ] && echo "$m"; done; return 0; }

    say "one leader among three"
    for _ in $(seq 100); do l=$(leader_of a); [ -n "$l" ] && [ "$l" != undefined ] && break; sleep 0.1; done
    for n in a b c; do
        for _ in $(seq 100); do [ "$(leader_of "$n")" = "$l" ] && break; sleep 0.1; done
        [ "$(leader_of "$n")" = "$l" ] || fail "node $n sees leader $(leader_of "$n"), node a sees $l"
    done
    first=$(letter_of "$l")
    [ -n "$first" ] || fail "the leader $l is none of our nodes"
    count=0; for n in a b c; do [ "$(leading "$n")" = true ] && count=$((count + 1)); done
    [ "$count" = 1 ] || fail "$count nodes say they lead"
    for n in a b c; do show "$n" call election status >/dev/null; done
    ok "every node agrees: the leader is node $first ($l), and only it leads"
    ok "(each node elected itself while it was alone at start -- won => 1 everywhere; when they met, the"
    ok " registry's conflict rule kept the oldest registration of 'leader' and the others follow it)"

    say "the leader's node dies: a survivor takes over"
    kill9 "$first"
    rest=(); for n in a b c; do [ "$n" != "$first" ] && rest+=("$n"); done
    for _ in $(seq 150); do
        l2=$(leader_of "${rest[0]}")
        [ -n "$l2" ] && [ "$l2" != undefined ] && [ "$l2" != "$l" ] && [ "$(leader_of "${rest[1]}")" = "$l2" ] && break
        sleep 0.1
    done
    [ -n "$l2" ] && [ "$l2" != undefined ] && [ "$l2" != "$l" ] || fail "no new leader 15 s after the leader's node died (sees '$l2')"
    [ "$(leader_of "${rest[1]}")" = "$l2" ] || fail "the survivors disagree: $l2 vs $(leader_of "${rest[1]}")"
    second=$(letter_of "$l2")
    [ "$(leading "$second")" = true ] || fail "node $second is named leader but does not say it leads"
    show "$second" call election status >/dev/null
    ok "node $second ($l2) took over"

    say "again: the new leader's node dies, the last node leads"
    kill9 "$second"
    last=${rest[0]}; [ "$last" = "$second" ] && last=${rest[1]}
    for _ in $(seq 150); do [ "$(leader_of "$last")" = "${node[$last]}" ] && break; sleep 0.1; done
    [ "$(leader_of "$last")" = "${node[$last]}" ] || fail "node $last does not lead: $(leader_of "$last")"
    ok "node $last leads"

    say "the first node comes back: it joins and follows"
    start "$first"
    eventually "$first" "$(list "${node[$last]}")" call cluster nodes
    for _ in $(seq 100); do [ "$(leader_of "$first")" = "${node[$last]}" ] && break; sleep 0.1; done
    [ "$(leader_of "$first")" = "${node[$last]}" ] || fail "the restarted node sees leader $(leader_of "$first")"
    [ "$(leading "$first")" = false ] || fail "the restarted node claims to lead"
    [ "$(leading "$last")" = true ] || fail "node $last stopped leading"
    show "$first" call election status >/dev/null
    ok "node $first follows ${node[$last]}"
    ;;
# ---------------------------------------------------------------------------
price_cache)
    say "an update on one node is replicated to every node"
    expect a ok call price_cache '{update, <<"BTCUSD">>, 67543.21}'
    expect b ok call price_cache '{update, <<"ETHUSD">>, 3500.5}'
    for n in a b c; do
        eventually "$n" '#{<<"BTCUSD">> => 67543.21,<<"ETHUSD">> => 3500.5}' call price_cache all
    done
    expect c '{ok,67543.21}' call price_cache '{get, <<"BTCUSD">>}'

    say "node c is killed; the others go on updating; c restarts empty and catches up (nodeup sync)"
    kill9 c
    eventually a "$(list "${node[b]}")" call cluster nodes
    expect a ok call price_cache '{update, <<"BTCUSD">>, 68000.0}'
    expect b ok call price_cache '{update, <<"SOLUSD">>, 150.25}'
    start c
    eventually c '#{<<"BTCUSD">> => 68000.0,<<"ETHUSD">> => 3500.5,<<"SOLUSD">> => 150.25}' call price_cache all
    ok "the new incarnation of c has every price, including those set while it was down"

    say "two nodes update one symbol at the same moment: every replica ends with the same price"
    ctl a call price_cache '{update, <<"ETHUSD">>, 3600.0}' >/dev/null & u1=$!
    ctl b call price_cache '{update, <<"ETHUSD">>, 3601.0}' >/dev/null & u2=$!
    wait "$u1" && wait "$u2" || fail "an update failed"
    for _ in $(seq 100); do
        ea=$(ctl a call price_cache '{entry, <<"ETHUSD">>}'); eb=$(ctl b call price_cache '{entry, <<"ETHUSD">>}')
        ec=$(ctl c call price_cache '{entry, <<"ETHUSD">>}')
        [ "$ea" = "$eb" ] && [ "$eb" = "$ec" ] && [[ "$ea" == "{3600.0,"* || "$ea" == "{3601.0,"* ]] && break
        sleep 0.1
    done
    [ "$ea" = "$eb" ] && [ "$eb" = "$ec" ] || fail "the replicas disagree on ETHUSD: $ea / $eb / $ec"
    [[ "$ea" == "{3600.0,"* || "$ea" == "{3601.0,"* ]] || fail "ETHUSD is $ea, neither update"
    ok "every replica has {Price, Version, Node} = $ea"
    ;;
esac

say "all assertions held"
