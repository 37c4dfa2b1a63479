#!/usr/bin/env bash
# Coverage-guided fuzzing of mailsim's sans-io protocol cores (libFuzzer +
# ASan + UBSan). Kept out of the normal build and of ctest; see
# tests/fuzz/README.md.
#
#   scripts/fuzz.sh                  every target, 60 s each
#   scripts/fuzz.sh smtp_server 300  one target, 300 s
#   scripts/fuzz.sh all 120          every target, 120 s each
#   scripts/fuzz.sh --replay         run every target once over its seeds, its
#                                    corpus and the reproducers saved under
#                                    tests/fuzz/crashes/ (a quick regression check;
#                                    fails while a recorded bug is still open)
#
# Environment: BUILD_DIR (default build-fuzz), JOBS (build parallelism, 2),
# RSS_LIMIT_MB (2048), MAX_LEN (8192), FUZZ_WORKERS (1: parallel fuzzing jobs
# per target). The growing corpus lives in $BUILD_DIR/corpus/<target>, new
# crashes in $BUILD_DIR/crashes/<target>/; logs in $BUILD_DIR/logs/.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build-fuzz}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
JOBS="${JOBS:-2}"
RSS_LIMIT_MB="${RSS_LIMIT_MB:-2048}"
MAX_LEN="${MAX_LEN:-8192}"
FUZZ_WORKERS="${FUZZ_WORKERS:-1}"

TARGETS=(smtp_server smtp_client smtp_reply smtp_command pop3_server imap_server imap_command mime message_headers)
dict_of() {
  case "$1" in
    smtp_*) echo smtp ;;
    pop3_*) echo pop3 ;;
    imap_*) echo imap ;;
    *) echo mail ;;
  esac
}

replay=0
target="all"
seconds=60
if [[ "${1:-}" == "--replay" ]]; then replay=1; shift; fi
if [[ $# -ge 1 ]]; then target="$1"; fi
if [[ $# -ge 2 ]]; then seconds="$2"; fi
if [[ "$target" == "all" ]]; then
  selected=("${TARGETS[@]}")
else
  ok=0
  for t in "${TARGETS[@]}"; do [[ "$t" == "$target" ]] && ok=1; done
  if [[ $ok == 0 ]]; then
    echo "fuzz.sh: unknown target '$target' (one of: all ${TARGETS[*]})" >&2
    exit 2
  fi
  selected=("$target")
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
  echo "fuzz.sh: seconds must be a positive number, not '$seconds'" >&2
  exit 2
fi

# ---- toolchain -------------------------------------------------------------
fuzzer_runtime() {
  ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null | head -1
}
if ! command -v clang++-14 >/dev/null || [[ -z "$(fuzzer_runtime)" ]]; then
  echo "== installing clang-14 and libFuzzer (apt)"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y clang-14 libfuzzer-14-dev
fi

# ---- build -----------------------------------------------------------------
echo "== building fuzz targets in $BUILD_DIR"
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  CXX=clang++-14 cmake -S "$ROOT/tests/fuzz" -B "$BUILD_DIR" -G Ninja >/dev/null
fi
build_targets=()
for t in "${selected[@]}"; do build_targets+=("fuzz_$t"); done
if ! cmake --build "$BUILD_DIR" -j"$JOBS" --target "${build_targets[@]}" >"$BUILD_DIR/build.log" 2>&1; then
  grep -E "error|FAILED" "$BUILD_DIR/build.log" | head -20 >&2
  echo "fuzz.sh: build failed (full log: $BUILD_DIR/build.log)" >&2
  exit 1
fi

# ---- seeds -----------------------------------------------------------------
/usr/bin/python3 "$ROOT/tests/fuzz/make_seeds.py" "$BUILD_DIR/seeds" >/dev/null
mkdir -p "$BUILD_DIR/logs"

# ---- replay: the corpus and every saved reproducer, once --------------------
if [[ $replay == 1 ]]; then
  status=0
  for t in "${selected[@]}"; do
    dirs=("$BUILD_DIR/seeds/$t")
    [[ -d "$BUILD_DIR/corpus/$t" ]] && dirs+=("$BUILD_DIR/corpus/$t")
    [[ -d "$ROOT/tests/fuzz/crashes/$t" ]] && dirs+=("$ROOT/tests/fuzz/crashes/$t")
    if "$BUILD_DIR/fuzz_$t" -runs=0 -rss_limit_mb="$RSS_LIMIT_MB" "${dirs[@]}" >"$BUILD_DIR/logs/$t.replay.log" 2>&1; then
      printf '  %-16s ok    %s\n' "$t" "$(grep -Eo 'Done [0-9]+ runs' "$BUILD_DIR/logs/$t.replay.log" | tail -1)"
    else
      printf '  %-16s FAIL  see %s\n' "$t" "$BUILD_DIR/logs/$t.replay.log"
      status=1
    fi
  done
  exit $status
fi

# ---- fuzz ------------------------------------------------------------------
# Known open bugs (tests/fuzz/README.md) do not stop the search for new ones;
# --replay above runs without this, so their reproducers still fail there.
export MAILSIM_FUZZ_TOLERATE_KNOWN=1
summary=()
status=0
for t in "${selected[@]}"; do
  corpus="$BUILD_DIR/corpus/$t"
  crashes="$BUILD_DIR/crashes/$t"
  log="$BUILD_DIR/logs/$t.log"
  mkdir -p "$corpus" "$crashes"
  before=$(ls "$crashes" | wc -l)
  echo "== fuzz_$t for ${seconds}s (log: $log)"
  args=(-max_total_time="$seconds" -rss_limit_mb="$RSS_LIMIT_MB" -max_len="$MAX_LEN" -timeout=10
        -dict="$ROOT/tests/fuzz/dict/$(dict_of "$t").dict" -artifact_prefix="$crashes/" -print_final_stats=1)
  if [[ "$FUZZ_WORKERS" -gt 1 ]]; then
    args+=(-fork="$FUZZ_WORKERS" -ignore_crashes=1)
  fi
  set +e
  "$BUILD_DIR/fuzz_$t" "${args[@]}" "$corpus" "$BUILD_DIR/seeds/$t" >"$log" 2>&1
  rc=$?
  set -e
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
  eps=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
  cov=$(grep -Eo 'cov: [0-9]+' <<<"$last" | grep -Eo '[0-9]+' || echo "?")
  ft=$(grep -Eo 'ft: [0-9]+' <<<"$last" | grep -Eo '[0-9]+' || echo "?")
  corp=$(grep -Eo 'corp: [0-9]+' <<<"$last" | grep -Eo '[0-9]+' || echo "?")
  found=$(( $(ls "$crashes" | wc -l) - before ))  # new in this run
  verdict="ok"
  if [[ $rc -ne 0 ]]; then
    verdict="CRASH"
    status=1
  fi
  summary+=("$(printf '%-16s %6ss %10s %8s %7s %7s %6s %6s  %s' "$t" "$seconds" "$execs" "$eps" "$cov" "$ft" "$corp" "$found" "$verdict")")
  if [[ $rc -ne 0 ]]; then
    grep -E 'invariant failed|ERROR: |SUMMARY: |    at |^    #[0-9] ' "$log" | head -12 | sed 's/^/    /'
  fi
done

echo
echo "== summary (coverage as libFuzzer counts it: cov = edges, ft = features)"
printf '%-16s %7s %10s %8s %7s %7s %6s %6s  %s\n' target time execs exec/s cov ft corpus new-crash result
for line in "${summary[@]}"; do echo "$line"; done
[[ $status -eq 0 ]] || echo "Reproduce one with: $BUILD_DIR/fuzz_<target> <crash file>"
exit $status
