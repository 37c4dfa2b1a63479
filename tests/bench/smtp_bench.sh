#!/usr/bin/env bash
# SMTP throughput of `mailsim serve` next to Postfix's smtp-sink, measured by
# Postfix's smtp-source on the same machine in the same run (both servers on
# 127.0.0.1, free ports). Not part of ctest: run it on its own.
#
#   tests/bench/smtp_bench.sh [path/to/mailsim]
#   MAILSIM_BENCH_COUNT=2000 tests/bench/smtp_bench.sh     # a quick run
#
# For each of 1 and 20 parallel sessions, with connection reuse (smtp-source
# -d: many messages per connection) and without (one connection per message),
# it sends MAILSIM_BENCH_COUNT (default 20000) messages of 1 KB to each
# server and prints messages/s and the ratio mailsim / smtp-sink; then the
# one-connection ratio again as the median of MAILSIM_BENCH_PAIRS (default
# 5) alternating pairs of runs of half that many, with a minimal durable
# responder (durable_responder.cpp: the ceiling, measured) run between the
# two of each pair, as it is and with a Maildir delivery after each 250
# (mailsim's own MaildirDrop); then the time each
# command of one connection takes against either server (the figure that
# stays meaningful when the machine is busy; see below).
#
# smtp-sink throws every message away; mailsim makes each durable in its
# queue (an fdatasync'ed journal) before answering 250 and then delivers it
# into a Maildir, fsync'ed. So the disk's own fsync rate, measured in the
# same run in the data directory's filesystem, is printed too: a server that
# fsyncs each message on its own cannot beat it; group commit can. So is the
# number of cache flushes the disk itself completed per mailsim message
# (its Maildir deliveries included, as far as they were done by the end of
# the run), and the share of the run's messages already in the Maildir when
# its last 250 came (the rate includes the delivery work only if it kept up).
#
# Every loop is bounded in count and time; only processes started here are
# stopped, by PID.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
MAILSIM=${1:-${MAILSIM:-}}
if [[ -z "$MAILSIM" ]]; then
  # ./build (what scripts/setup.sh makes) first, then any other build*/ folder.
  for candidate in "$repo"/build/ui/mailsim "$repo"/build*/ui/mailsim; do
    [[ -x "$candidate" ]] && MAILSIM=$candidate && break
  done
fi
[[ -x "${MAILSIM:-}" ]] || { echo "usage: $0 path/to/mailsim (or set MAILSIM)" >&2; exit 2; }
COUNT=${MAILSIM_BENCH_COUNT:-20000}
SOURCE=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink
for tool in "$SOURCE" "$SINK"; do
  [[ -x "$tool" ]] || { echo "$tool is missing (apt-get install postfix)" >&2; exit 1; }
done
RUN_LIMIT=${MAILSIM_BENCH_RUN_LIMIT:-900}   # seconds per smtp-source run
# The one-connection ceiling, measured (tests/bench/durable_responder.cpp,
# built with mailsim: scripts/bench.sh builds it).
RESPONDER=${MAILSIM_RESPONDER:-$(dirname "$MAILSIM")/../tests/durable_responder}
[[ -x "$RESPONDER" ]] || { echo "$RESPONDER is missing (cmake --build build --target durable_responder)" >&2; exit 1; }

work=$(mktemp -d "${MAILSIM_BENCH_DIR:-${TMPDIR:-/tmp}}/mailsim-bench.XXXXXX")
serve_pid=""
sink_pid=""
responder_pid=""
cleanup() {
  for pid in $serve_pid $sink_pid $responder_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  [[ -n "${MAILSIM_BENCH_KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- the disk's own fsync rate, where the Maildir lives ----
fsync_rates=$(/usr/bin/python3 - "$work" <<'EOF'
import os, sys, time
d = os.path.join(sys.argv[1], "fsync-probe")
os.makedirs(d)
def rate(with_dir):
    n, t0 = 0, time.monotonic()
    while n < 5000 and time.monotonic() - t0 < 3.0:
        p = os.path.join(d, "%d.%d" % (with_dir, n))
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"x" * 1024)
        os.fsync(fd)
        os.close(fd)
        if with_dir:  # what one durable Maildir delivery needs: the file and its directory
            dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
            os.fsync(dfd)
            os.close(dfd)
        n += 1
    return n / (time.monotonic() - t0)
print("%.0f %.0f" % (rate(False), rate(True)))
EOF
)
read -r fsync_rate delivery_rate <<<"$fsync_rates"

# ---- smtp-sink ----
sink_port=$(free_port)
sink_user=()
[[ $(id -u) == 0 ]] && sink_user=(-u nobody)  # smtp-sink refuses to keep running as root
"$SINK" "${sink_user[@]}" 127.0.0.1:"$sink_port" 1024 >"$work/sink.log" 2>&1 &
sink_pid=$!

# ---- the minimal durable responder (the one-connection pairs below) ----
# Twice: as it is, and with mailsim's MaildirDrop storing each message into
# a Maildir after its 250 (the ceiling for a server that must also deliver).
# start_responder <dir> [maildir]: sets responder_port
start_responder() {
  mkdir -p "$1"
  "$RESPONDER" 0 "$@" >"$1/responder.log" 2>&1 &
  local pid=$!
  responder_pid="$responder_pid $pid"
  for _ in $(seq 1 300); do
    grep -q listening "$1/responder.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$1/responder.log" >&2; exit 1; }
    sleep 0.1
  done
  responder_port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$1/responder.log")
  [[ -n "$responder_port" ]] || { echo "the durable responder did not start" >&2; cat "$1/responder.log" >&2; exit 1; }
}
start_responder "$work/responder-maildir" "$work/responder-maildir/Maildir"
maildir_responder_port=$responder_port
start_responder "$work/responder"

# ---- mailsim serve ----
cat >"$work/serve.json" <<EOF
{
  "ports": {"smtp": 0, "submission": null, "pop3": null, "imap": null, "pop3s": null, "imaps": null},
  "local_domains": ["mailsim.test"],
  "users": [{"name": "bob", "password": "bob-password"}],
  "data_dir": "data",
  "limits": {"connections": 1000, "idle_timeout": 120}
}
EOF
"$MAILSIM" serve --quiet --config "$work/serve.json" >"$work/serve.log" 2>&1 &
serve_pid=$!
listening="$work/data/run/listening.json"
for _ in $(seq 1 300); do
  [[ -s "$listening" ]] && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
[[ -s "$listening" ]] || { echo "mailsim serve did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
serve_port=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"]["smtp"])' "$listening")
for _ in $(seq 1 100); do  # smtp-sink listens almost at once; wait for it all the same
  /usr/bin/python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1).close()' \
    "$sink_port" 2>/dev/null && break
  sleep 0.1
done
kill -0 "$sink_pid" 2>/dev/null || { echo "smtp-sink did not start:" >&2; cat "$work/sink.log" >&2; exit 1; }
inbox="$work/data/maildir/bob/Maildir/new"

# Disk flushes (cache flushes the block device completed: field 16 of its
# stat file), to count what each message costs the disk; "" if unknown.
disk_dev=$(basename "$(df -P "$work" | awk 'NR==2 {print $1}')")
flushes() {
  local f="/sys/class/block/$disk_dev/stat"
  [[ -r "$f" ]] && awk 'NF >= 17 {print $16}' "$f"
}

# run_source <port> <sessions> <reuse yes|no>: prints messages/s
run_source() {
  local port=$1 sessions=$2 reuse=$3 flags=()
  [[ "$reuse" == yes ]] && flags+=(-d)
  local t0 t1
  t0=$(date +%s.%N)
  timeout "$RUN_LIMIT" "$SOURCE" "${flags[@]}" -s "$sessions" -m "$COUNT" -l 1024 -C 5 \
    -M bench.example -f sender@bench.example -t bob@mailsim.test 127.0.0.1:"$port" \
    >>"$work/source.log" 2>&1 || { echo "smtp-source failed on port $port:" >&2; tail -n 5 "$work/source.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  /usr/bin/python3 -c "import sys; print('%.0f' % ($COUNT / ($t1 - $t0)))"
}

echo "mailsim SMTP benchmark: $COUNT messages of 1 KB per run, smtp-source on 127.0.0.1"
echo "  mailsim:   $MAILSIM (port $serve_port, Maildir in $work/data)"
echo "  smtp-sink: port $sink_port (accepts and discards)"
echo "  disk ($(df -P "$work" | awk 'NR==2 {print $1}')): ${fsync_rate} fsync/s of a 1 KB file;" \
     "${delivery_rate}/s file + directory fsync (one durable Maildir delivery at a time)"
echo
printf "%-34s %12s %12s %8s %14s %16s %12s\n" "run" "smtp-sink/s" "mailsim/s" "ratio" "vs fsync rate" \
  "flushes/message" "in Maildir"
expected=0
for sessions in 1 20; do
  for reuse in yes no; do
    sink_rate=$(run_source "$sink_port" "$sessions" "$reuse") || exit 1
    f0=$(flushes)
    serve_rate=$(run_source "$serve_port" "$sessions" "$reuse") || exit 1
    f1=$(flushes)
    # How much of the run was in the Maildir when its last 250 came: the
    # rate above includes the deliveries only if they kept up.
    in_maildir=$(( $(find "$inbox" -type f | wc -l) - expected ))
    per_message="?"
    [[ -n "$f0" && -n "$f1" ]] && per_message=$(/usr/bin/python3 -c "print('%.2f' % (($f1 - $f0) / $COUNT))")
    expected=$((expected + COUNT))
    [[ "$sessions" == 1 && "$reuse" == yes ]] && { sink_one=$sink_rate; serve_one=$serve_rate; }
    label="$sessions connection(s), reuse $reuse"
    [[ "$sessions" == 1 ]] && label="1 connection, reuse $reuse"
    [[ "$sessions" == 20 ]] && label="20 connections, reuse $reuse"
    /usr/bin/python3 -c "import sys; s,m,f,d,n=map(float,sys.argv[1:6]); print('%-34s %12.0f %12.0f %8.2f %13.2fx %16s %11.0f%%' % (sys.argv[6], s, m, m/s, m/f, sys.argv[7], 100*d/n))" \
      "$sink_rate" "$serve_rate" "$fsync_rate" "$in_maildir" "$COUNT" "$label" "$per_message"
  done
done

# With the MTA on, 250 means "safe in the queue" and delivery into the
# Maildir follows a moment later: wait for it (bounded).
delivered=0
wait_delivered() {
  for _ in $(seq 1 600); do
    delivered=$(find "$inbox" -type f | wc -l)
    [[ "$delivered" -ge "$expected" ]] && break
    sleep 0.2
  done
}
wait_delivered

# ---- the one-connection ratio again, in alternating pairs ----
# A single run per server depends on its minute: on a shared machine the
# disk's flush time, and with it mailsim's rate, swings by 15% or more. So
# the one-connection, reuse case runs again as PAIRS pairs of COUNT/2
# messages each, smtp-sink then mailsim, and the median ratio is printed.
# Between the two, the same run against the minimal durable responder
# (durable_responder.cpp: protocol and one flush per message, nothing else):
# the ceiling for a durable server, measured in the same minute; and against
# a second one that also hands each message to mailsim's MaildirDrop after
# its 250 (the ceiling for a durable server that delivers into a Maildir on
# the same disk, as the issue asks of mailsim).
PAIRS=${MAILSIM_BENCH_PAIRS:-5}
pair_count=$((COUNT / 2))
pair_rates=()
for _ in $(seq 1 "$PAIRS"); do
  s=$(COUNT=$pair_count run_source "$sink_port" 1 yes) || exit 1
  r=$(COUNT=$pair_count run_source "$responder_port" 1 yes) || exit 1
  d=$(COUNT=$pair_count run_source "$maildir_responder_port" 1 yes) || exit 1
  m=$(COUNT=$pair_count run_source "$serve_port" 1 yes) || exit 1
  expected=$((expected + pair_count))
  pair_rates+=("$s,$r,$d,$m")
done
echo
/usr/bin/python3 - "$pair_count" "${pair_rates[@]}" <<'EOF'
import statistics, sys
n = sys.argv[1]
runs = [tuple(float(x) for x in t.split(",")) for t in sys.argv[2:]]
mailsim = [m / s for s, r, d, m in runs]
ceiling = [r / s for s, r, d, m in runs]
with_maildir = [d / s for s, r, d, m in runs]
share = [m / r for s, r, d, m in runs]
share_maildir = [m / d for s, r, d, m in runs]
fmt = lambda xs: " ".join("%.2f" % x for x in xs)
print("1 connection, reuse yes, %d alternating pairs of %s messages: mailsim / smtp-sink = %s; median %.2f"
      % (len(runs), n, fmt(mailsim), statistics.median(mailsim)))
print("  in the same pairs, the minimal durable responder / smtp-sink = %s; median %.2f (the ceiling, measured)"
      % (fmt(ceiling), statistics.median(ceiling)))
print("  the same responder also storing each message into a Maildir (mailsim's MaildirDrop) / smtp-sink = %s; median %.2f"
      % (fmt(with_maildir), statistics.median(with_maildir)))
print("  mailsim / minimal durable responder = %s; median %.2f" % (fmt(share), statistics.median(share)))
print("  mailsim / the responder with the Maildir = %s; median %.2f" % (fmt(share_maildir), statistics.median(share_maildir)))
EOF
wait_delivered

# (After the deliveries of the runs above: they would compete for the CPU.)
# ---- per-command round trips of one connection ----
# Throughput on a shared machine swings with the load; the time the server
# takes per command, next to smtp-sink's in the same minute, says more. One
# client, one connection, no pipelining (as smtp-source): MAIL, RCPT, DATA
# and the end of data each wait for their reply. Medians and 90th percentiles.
LATENCY_COUNT=${MAILSIM_BENCH_LATENCY_COUNT:-500}
latency() {
  timeout "$RUN_LIMIT" /usr/bin/python3 - "$1" "$LATENCY_COUNT" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), 10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
def reply():
    global buf
    while True:
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            if line[3:4] != b"-":
                return line
        data = s.recv(65536)
        if not data:
            sys.exit("connection closed")
        buf += data
def ask(command):
    t0 = time.perf_counter_ns()
    s.sendall(command)
    line = reply()
    return (time.perf_counter_ns() - t0) / 1000, line
reply()
ask(b"EHLO latency.example\r\n")
body = b"Subject: latency\r\n\r\n" + (b"x" * 70 + b"\r\n") * 13 + b".\r\n"
steps = [("MAIL", b"MAIL FROM:<sender@bench.example>\r\n"), ("RCPT", b"RCPT TO:<bob@mailsim.test>\r\n"),
         ("DATA", b"DATA\r\n"), ("end-of-data", body)]
times = {name: [] for name, _ in steps}
times["message"] = []
for _ in range(n):
    t0 = time.perf_counter_ns()
    for name, command in steps:
        us, line = ask(command)
        if line[:1] not in (b"2", b"3"):
            sys.exit("%s: %r" % (name, line))
        times[name].append(us)
    times["message"].append((time.perf_counter_ns() - t0) / 1000)
ask(b"QUIT\r\n")
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]
print("  ".join("%s %.0f/%.0f" % (k, pct(v, 0.5), pct(v, 0.9)) for k, v in times.items()))
PY
}
echo
echo "one connection, per command, µs (median/90th percentile), $LATENCY_COUNT messages," \
     "load $(cut -d' ' -f1-3 /proc/loadavg):"
sink_latency=$(latency "$sink_port") || { echo "latency run against smtp-sink failed" >&2; exit 1; }
serve_latency=$(latency "$serve_port") || { echo "latency run against mailsim failed" >&2; exit 1; }
echo "  smtp-sink: $sink_latency"
echo "  mailsim:   $serve_latency"
expected=$((expected + LATENCY_COUNT))

wait_delivered

# ---- the ceiling for one connection ----
# With one connection and no pipelining, each message waits for its own
# flush: a durable server needs at least smtp-sink's time per message plus
# one disk flush. What the journal does, measured here: rewrite 1.7 KB of a
# preallocated, zero-filled file and fdatasync it (no block allocation, no
# metadata). Median of up to 2000, at most 3 s, once the deliveries are done.
flush_us=$(/usr/bin/python3 - "$work" <<'EOF'
import os, sys, time
path = os.path.join(sys.argv[1], "flush-probe")
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, bytes(8 << 20))
os.fsync(fd)
record, times, t_end = b"x" * 1700, [], time.monotonic() + 3.0
while len(times) < 2000 and time.monotonic() < t_end:
    t0 = time.perf_counter_ns()
    os.pwrite(fd, record, len(times) * len(record))
    os.fdatasync(fd)
    times.append((time.perf_counter_ns() - t0) / 1000)
os.close(fd)
os.unlink(path)
times.sort()
print("%.0f" % times[len(times) // 2])
EOF
)
echo
/usr/bin/python3 - "$sink_one" "$serve_one" "$flush_us" <<'EOF'
import sys
sink, serve, flush = map(float, sys.argv[1:4])
t_sink = 1e6 / sink
ceiling = t_sink / (t_sink + flush)
print("one connection, the durable ceiling on this disk: smtp-sink takes %.0f µs per message, one journal"
      " flush %.0f µs (median),\n  so no server that flushes before its 250 can pass %.2f of smtp-sink's rate"
      " here; mailsim reached %.2f, %.0f%% of that ceiling" % (t_sink, flush, ceiling, serve / sink,
                                                              100 * serve / sink / ceiling))
EOF
echo
echo "delivered into the Maildir: $delivered of $expected messages (each durable in the queue before 250," \
     "made durable in the Maildir (fsync, or syncfs for a batch) before it leaves the queue)"
kill -TERM "$serve_pid"
wait "$serve_pid" || true
tail -n 1 "$work/serve.log"
[[ "$delivered" == "$expected" ]] || { echo "MISSING MESSAGES" >&2; exit 1; }
