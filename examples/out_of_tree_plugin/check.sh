#!/usr/bin/env bash
# Builds the greeter plugin against an installed SDK and runs it in otpp-host.
# Usage: check.sh INSTALL_PREFIX WORK_DIR
set -euo pipefail
prefix=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work/plugins"
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/build" >/dev/null
cp "$work/build/greeter.so" "$work/plugins/"
cat > "$work/host.toml" <<TOML
[node]
name = "greeter@localhost"
[code]
plugin_dirs = ["plugins"]
[log]
sink = "file:host.log"
[[application]]
name = "greetings"
  [application.supervisor]
  [[application.supervisor.children]]
  id = "greeter"
  module = "greeter"
TOML
"$prefix/bin/otpp-host" --config "$work/host.toml" & pid=$!
for _ in $(seq 1 300); do grep -q "application greetings started" "$work/host.log" 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid
wait $pid
grep -q "loaded greeter@1.0.0" "$work/host.log"
grep -q "application greetings stopped" "$work/host.log"
echo "out-of-tree plugin: built against $prefix, loaded and run by otpp-host: ok"
