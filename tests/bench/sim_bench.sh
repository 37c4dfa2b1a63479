#!/usr/bin/env bash
# The simulator's delivery rate (tests/bench/sim_bench.cpp: full SMTP dialogue
# per message between real/mta instances on a generated network, 10% of the
# servers down for an hour) printed beside real loopback SMTP: Postfix's
# smtp-source sending to smtp-sink on 127.0.0.1, in the same run.
# Not part of ctest.
#
#   tests/bench/sim_bench.sh [path/to/sim_bench] [sim_bench options...]
#   e.g. tests/bench/sim_bench.sh build-roles/tests/unit/roles/sim_bench --servers 1000 --messages 100000
#
# Only processes started here are stopped, by PID.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BENCH=${1:-}
if [[ -z "$BENCH" || ! -x "$BENCH" ]]; then
  for candidate in "$repo"/build*/tests/unit/roles/sim_bench; do
    [[ -x "$candidate" ]] && BENCH=$candidate && break
  done
else
  shift
fi
[[ -x "${BENCH:-}" ]] || { echo "usage: $0 path/to/sim_bench [options]" >&2; exit 2; }
COUNT=${MAILSIM_BENCH_COUNT:-10000}
SOURCE=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink

echo "== simulator"
"$BENCH" "$@" || echo "(not every message was delivered)"

echo "== real loopback SMTP: smtp-source -> smtp-sink, $COUNT messages of 1 KB, 20 sessions"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sink_user=()
[[ $(id -u) -eq 0 ]] && sink_user=(-u nobody)   # smtp-sink refuses to run as root without -u
"$SINK" "${sink_user[@]}" -c 127.0.0.1:"$port" 256 >/dev/null 2>&1 &
sink=$!
trap 'kill "$sink" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
  sleep 0.1
done
start=$(date +%s.%N)
timeout 600 "$SOURCE" -s 20 -m "$COUNT" -l 1024 -f bench@alpha.example -t sink@beta.example 127.0.0.1:"$port"
end=$(date +%s.%N)
/usr/bin/python3 -c "w=$end-$start; print(f'  wall {w:.2f} s: {$COUNT/w:.0f} messages/s (a new connection per message)')"
