#!/usr/bin/env bash
# End-to-end throughput of two `mailsim serve` instances acting as MTAs:
# smtp-source hands messages to A (alpha.test, relaying for 127.0.0.0/8),
# A queues each durably, finds beta.test's MX in its static resolver file and
# relays to B, B queues it and delivers it into bob's Maildir. Measured from
# the first message sent to the last one in B's Maildir, printed beside the
# disk's own fsync rate (every message is fsynced at least three times on
# the way: A's queue, B's queue, B's Maildir; group commit shares them).
# Not part of ctest: run it on its own.
#
#   tests/bench/mta_bench.sh [path/to/mailsim]     (MAILSIM_BENCH_COUNT=2000 default)
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
[[ -x /usr/sbin/smtp-source ]] || { echo "/usr/sbin/smtp-source is missing (apt-get install postfix)" >&2; exit 1; }
export MAILSIM MAILSIM_BENCH_COUNT=${MAILSIM_BENCH_COUNT:-2000}
exec /usr/bin/python3 - "$repo/tests/interop" <<'PY'
import json, os, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import harness
harness.WAIT = 600.0
count = int(os.environ["MAILSIM_BENCH_COUNT"])

def fsync_rate(folder, seconds=1.0):
    path = os.path.join(folder, "fsync-probe")
    n, end = 0, time.monotonic() + seconds
    with open(path, "wb") as f:
        while time.monotonic() < end:
            f.write(b"x" * 512); f.flush(); os.fsync(f.fileno()); n += 1
    os.unlink(path)
    return n / seconds

quiet = {"limits": {"connections": 500}}
b = harness.Server(dict(quiet, hostname="mx.beta.test", local_domains=["beta.test"],
                        users=[{"name": "bob", "password": "bob-password"}]))
b.start()
resolver = os.path.join(b.dir, "dns.json")
with open(resolver, "w") as f:
    json.dump({"mx": {"beta.test": [[10, "mx.beta.test"]]},
               "hosts": {"mx.beta.test": {"address": "127.0.0.1", "port": b.port("smtp")}}}, f)
a = harness.Server(dict(quiet, hostname="mx.alpha.test", local_domains=["alpha.test"],
                        mta={"trusted_networks": ["127.0.0.0/8"], "resolver_file": resolver}))
a.start()
try:
    start = time.monotonic()
    subprocess.run(["/usr/sbin/smtp-source", "-s", "20", "-m", str(count), "-l", "1024", "-d",
                    "-f", "alice@alpha.test", "-t", "bob@beta.test", "127.0.0.1:%d" % a.port("smtp")],
                   check=True, timeout=600)
    accepted = time.monotonic() - start
    deadline = time.monotonic() + 600
    while len(os.listdir(os.path.join(b.maildir("bob"), "new"))) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    total = time.monotonic() - start
    got = len(os.listdir(os.path.join(b.maildir("bob"), "new")))
    print("messages: %d sent, %d in B's Maildir" % (count, got))
    print("A accepted (250 after its queue fsync): %8.0f msg/s" % (count / accepted))
    print("end to end (A queue -> B queue -> Maildir): %8.0f msg/s" % (got / total))
    print("disk fsync rate in the data folder:       %8.0f fsync/s" % fsync_rate(b.data))
finally:
    a.stop(); b.stop()
PY
