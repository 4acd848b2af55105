#!/usr/bin/env bash
# Runs every benchmark with the sizes the issues compare against the BEAM and CAF.
# Usage: tools/bench/run_all.sh path/to/otpp-bench
set -euo pipefail
bench=${1:?path to otpp-bench}
"$bench" spawn 1000000 2
"$bench" pingpong 1000000
"$bench" ring 1000 10000000
"$bench" ring 100000 10000000
"$bench" call_seq 1000000
"$bench" call_conc 1000 100 1000
"$bench" sup 10000 1000
"$bench" genserver_mem 1000000
"$bench" preempt_overhead 200000000 100
"$bench" preempt_overhead 200000000 100 --schedulers 1
"$bench" load 200
# Distribution over loopback: host-host, host-beam, beam-host, beam-beam in one run
# (starts a second otpp-bench and two erl nodes, kills them at the end).
"$bench" dist 10000 300000 3
for n in 10000 100000; do
    for mode in atomic rolling; do
        "$bench" hotswap "$n" "$mode" idle
        "$bench" hotswap "$n" "$mode" load
    done
    "$bench" hotswap "$n" none load
done
