#!/usr/bin/env bash
# Runs the benchmarks (not part of the tests: they print figures and never
# fail on timing). Installs their peers first (Postfix's smtp-source and
# smtp-sink, Dovecot; no daemon is started) and builds.
#
#   bash scripts/bench.sh              every benchmark, one after the other
#   bash scripts/bench.sh smtp         one of: smtp mailbox mta sim ui
#   MAILSIM_BENCH_COUNT=2000 bash scripts/bench.sh smtp    a quick run
#
# Run them on an idle machine: each compares mailsim with its peer in the
# same run, but a busy machine makes both sides noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
MAILSIM_BENCH_PEERS=1 scripts/setup.sh
cmake --build build --target sim_bench ui_frame_bench durable_responder >/dev/null
export MAILSIM="$PWD/build/ui/mailsim"

which=("$@")
if ((${#which[@]} == 0)); then which=(smtp mailbox mta sim ui); fi
for b in "${which[@]}"; do
  echo "=== $b ($(uptime | sed 's/.*load average/load average/'))"
  case "$b" in
    smtp) bash tests/bench/smtp_bench.sh "$MAILSIM" ;;
    mailbox) /usr/bin/python3 tests/bench/mailbox_bench.py "$MAILSIM" ;;
    mta) bash tests/bench/mta_bench.sh "$MAILSIM" ;;
    sim) bash tests/bench/sim_bench.sh build/tests/unit/roles/sim_bench ;;
    ui) xvfb-run -a -s "-screen 0 1280x800x24" build/tests/ui/ui_frame_bench ;;
    *) echo "unknown benchmark '$b' (smtp mailbox mta sim ui)" >&2; exit 2 ;;
  esac
done
