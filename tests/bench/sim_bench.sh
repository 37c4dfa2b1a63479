#!/usr/bin/env bash
# The simulator's delivery rate (tests/bench/sim_bench.cpp: 1,000 mail hosts,
# a full SMTP dialogue per message between real/mta instances, 10% of the MX
# servers down for a while), first with the letters spread over a simulated
# day (the headline), then all posted within 2 simulated seconds (a stress
# run: thousands of dialogues at once), printed beside real loopback SMTP in
# the same run: Postfix's smtp-source sending to smtp-sink on 127.0.0.1, with the same
# body size, first over ONE session (the simulator is single-threaded, so
# that is the headline comparison), then over 20 parallel sessions. Then,
# because a run on a shared machine swings by 25% from one minute to the
# next, MAILSIM_BENCH_PAIRS (default 3) more day runs, each right before a
# one-session loopback run, and the median of their ratios.
# Not part of ctest.
#
#   tests/bench/sim_bench.sh [path/to/sim_bench] [sim_bench options...]
#   e.g. tests/bench/sim_bench.sh build-simperf/tests/unit/roles/sim_bench --messages 100000
#
# Every loop is bounded in count and time; only processes started here are
# stopped, by PID.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BENCH=${1:-}
if [[ -z "$BENCH" || ! -x "$BENCH" ]]; then
  # ./build (what scripts/setup.sh makes) first, then any other build*/ folder.
  for candidate in "$repo"/build/tests/unit/roles/sim_bench "$repo"/build*/tests/unit/roles/sim_bench; do
    [[ -x "$candidate" ]] && BENCH=$candidate && break
  done
else
  shift
fi
[[ -x "${BENCH:-}" ]] || { echo "usage: $0 path/to/sim_bench [options]" >&2; exit 2; }
COUNT=${MAILSIM_BENCH_COUNT:-10000}   # loopback messages per measurement
BODY=512                              # bytes of body, as sim_bench's default --body
for ((i = 1; i <= $#; i++)); do [[ "${!i}" == --body ]] && { j=$((i + 1)); BODY=${!j}; }; done
SOURCE=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink

echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Three processes, so each run starts from a fresh heap: the delivery run
# over a day, the held letters (memory), the stress run.
echo "== simulator: the letters spread over a simulated day"
sim_out=$(timeout 3600 "$BENCH" "$@" --held 0) || echo "(not every message was delivered, or the run was stopped)"
echo "$sim_out" | grep -v '^RESULT'
echo "== simulator: memory per held letter (a world of its own)"
held_out=$(timeout 3600 "$BENCH" "$@" --held-only) || echo "(the held-letter phase failed)"
echo "$held_out" | grep -v '^RESULT'
echo "== simulator: the same letters posted within 2 simulated seconds (stress run)"
burst_out=$(timeout 3600 "$BENCH" "$@" --held 0 --burst 2) || echo "(not every message was delivered, or the run was stopped)"
echo "$burst_out" | grep -v '^RESULT\|memory per queued'
burst_rate=$(echo "$burst_out" | sed -n 's/^RESULT msgs_per_s=\([0-9.]*\).*/\1/p')
sim_rate=$(echo "$sim_out" | sed -n 's/^RESULT msgs_per_s=\([0-9.]*\).*/\1/p')
sim_cpu_rate=$(echo "$sim_out" | sed -n 's/^RESULT .*msgs_per_cpu_s=\([0-9.]*\).*/\1/p')
sim_bytes=$(echo "$held_out" | sed -n 's/^RESULT .* bytes_per_queued=\([0-9.]*\).*/\1/p')
sim_rss_bytes=$(echo "$held_out" | sed -n 's/^RESULT .*rss_per_queued=\([0-9.]*\).*/\1/p')
sim_marginal=$(echo "$held_out" | sed -n 's/^RESULT .*marginal_per_queued=\([0-9.]*\).*/\1/p')

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

# One loopback measurement: messages/s over `sessions` parallel sessions,
# a new connection (full dialogue: connect, EHLO, MAIL, RCPT, DATA, QUIT) per message.
loopback() {
  local sessions=$1 start end
  start=$(date +%s.%N)
  timeout 600 "$SOURCE" -s "$sessions" -m "$COUNT" -l "$BODY" -f bench@alpha.example -t sink@beta.example \
    127.0.0.1:"$port" >/dev/null
  end=$(date +%s.%N)
  /usr/bin/python3 -c "print(f'{$COUNT/($end-$start):.1f}')"
}
echo "== real loopback SMTP: smtp-source -> smtp-sink on 127.0.0.1:$port, $COUNT messages, body $BODY B"
one=$(loopback 1)
echo "  1 session:   $one messages/s"
twenty=$(loopback 20)
echo "  20 sessions: $twenty messages/s"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== comparison (the simulator is single-threaded: the headline is against ONE session)"
/usr/bin/python3 - "$sim_rate" "$sim_cpu_rate" "$one" "$twenty" "$sim_bytes" "$sim_rss_bytes" "$sim_marginal" "$burst_rate" <<'EOF'
import sys
sim, sim_cpu, one, twenty, per_queued, rss_per_queued, marginal, burst = (float(x or 0) for x in sys.argv[1:])
print(f"  simulator {sim:.0f} msg/s wall ({sim_cpu:.0f} per CPU second), letters over a simulated day")
print(f"  vs 1 session:   {sim / one if one else 0:.2f}x   (target >= 10x)")
print(f"  stress run (all letters within 2 s): {burst:.0f} msg/s, {burst / one if one else 0:.2f}x 1 session")
print(f"  vs 20 sessions: {sim / twenty if twenty else 0:.2f}x")
print(f"  vs 1 session, per CPU second: {sim_cpu / one if one else 0:.2f}x")
print(f"  memory per queued (held) message: {per_queued:.0f} B heap, {rss_per_queued:.0f} B RSS,"
      f" one more: {marginal:.0f} B   (target < 2048 B)")
EOF

# ---- the headline ratio again, in back-to-back pairs ----
# The day run and the loopback run above are minutes apart, and this
# machine's speed swings between them. So the day run and one loopback
# session run PAIRS more times, each pair back to back, and the median of
# the pairs' ratios is printed: the figure to compare with the 10x target.
PAIRS=${MAILSIM_BENCH_PAIRS:-3}
pairs=()
for _ in $(seq 1 "$PAIRS"); do
  out=$(timeout 3600 "$BENCH" "$@" --held 0) || { echo "(a paired day run failed)"; continue; }
  rate=$(echo "$out" | sed -n 's/^RESULT msgs_per_s=\([0-9.]*\).*/\1/p')
  pairs+=("$rate,$(loopback 1)")
done
echo "== $PAIRS back-to-back pairs: simulator day run, then 1 loopback session"
/usr/bin/python3 - "${pairs[@]}" <<'EOF'
import statistics, sys
runs = [tuple(float(x or 0) for x in p.split(",")) for p in sys.argv[1:]]
ratios = [s / l for s, l in runs if l]
for s, l in runs:
    print(f"  simulator {s:.0f} msg/s, loopback {l:.0f} msg/s: {s / l if l else 0:.2f}x")
if ratios:
    print(f"  median {statistics.median(ratios):.2f}x   (target >= 10x)")
EOF
