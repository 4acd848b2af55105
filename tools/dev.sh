#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (as root) and for CI.
#
#   tools/dev.sh demo     install what is missing, build, run the main demo
#                         (examples/calc_swap: the seed's calc swap, asserted)
#   tools/dev.sh runtime-demo   the runtime demo (examples/runtime_demo)
#   tools/dev.sh test     install what is missing, build and run every test:
#                         the suite in RelWithDebInfo, the installed SDK, the
#                         calc demo, then the suite again under ASan+UBSan
#   tools/dev.sh tsan     the suite under ThreadSanitizer
#   tools/dev.sh bench    build Release and run every benchmark
#   tools/dev.sh deps     only install the Debian packages
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

packages=(build-essential cmake ninja-build pkg-config
          libboost-context-dev libboost-fiber-dev libboost-filesystem-dev libboost-dev
          libspdlog-dev libfmt-dev libtomlplusplus-dev catch2 libedit-dev libssl-dev
          erlang-base erlang-crypto erlang-public-key erlang-asn1 erlang-ssl)

deps() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        echo "== installing: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

build() {  # build DIR [cmake args...]
    local dir=$1; shift
    cmake -S "$root" -B "$dir" -G Ninja "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

run_suite() {  # run_suite DIR
    (cd "$1" && ctest --output-on-failure -j "$jobs" --timeout 300)
}

case "${1:-}" in
deps)
    deps ;;
demo)
    deps
    build "$root/build"
    "$root/examples/calc_swap/run.sh" "$root/build" ;;
runtime-demo)
    deps
    build "$root/build"
    "$root/build/examples/runtime_demo/runtime_demo" ;;
test)
    deps
    echo "== RelWithDebInfo"
    build "$root/build"
    run_suite "$root/build"
    echo "== installed SDK, out-of-tree plugin"
    rm -rf "$root/build/install"
    cmake --install "$root/build" --prefix "$root/build/install" >/dev/null
    "$root/examples/out_of_tree_plugin/check.sh" "$root/build/install" "$root/build/out_of_tree"
    echo "== the calc demo (examples/calc_swap)"
    "$root/examples/calc_swap/run.sh" "$root/build"
    echo "== ASan+UBSan"
    build "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DOTPP_SANITIZE=address -DOTPP_BUILD_BENCH=OFF
    ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0 UBSAN_OPTIONS=print_stacktrace=1 \
        run_suite "$root/build-asan" ;;
tsan)
    deps
    build "$root/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTPP_SANITIZE=thread -DOTPP_BUILD_BENCH=OFF
    TSAN_OPTIONS=halt_on_error=1 run_suite "$root/build-tsan" ;;
bench)
    deps
    build "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DOTPP_BUILD_TESTS=OFF
    "$root/tools/bench/run_all.sh" "$root/build-release/tools/bench/otpp-bench" ;;
*)
    sed -n '2,13p' "${BASH_SOURCE[0]}"
    exit 2 ;;
esac
