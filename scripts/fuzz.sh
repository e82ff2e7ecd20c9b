#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz/fuzz_*.c) for FUZZ_SECONDS each,
# one after the other (the machine has 2 cores), and prints executions/s,
# coverage and findings per target. Exit 1 if any target found a crash, a
# leak, a sanitizer report or an input slower than 1 s.
#
# Environment:
#   FUZZ_SECONDS  time per target (default 60)
#   FUZZ_BUILD    build folder (default build-fuzz; configured here with clang)
#   FUZZ_TARGETS  space-separated subset ("fuzz_csv fuzz_config"); default all
#   FUZZ_ARGS     extra libFuzzer flags
#   FUZZ_NO_BUILD 1 = run the binaries already in $FUZZ_BUILD/fuzz
# Corpora grow in $FUZZ_BUILD/corpus/<target> (seeded from
# tests/fuzz/corpus/<target>); crash inputs land in
# $FUZZ_BUILD/artifacts/<target>/. Copy a crash input to
# tests/fuzz/regress/<target>/ so `make test` replays it from then on
# (docs/hardening.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
SECS=${FUZZ_SECONDS:-60}
BUILD=${FUZZ_BUILD:-build-fuzz}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

command -v clang >/dev/null || { echo "fuzz: clang not found (PT_WITH_FUZZ=1 scripts/install-deps.sh)" >&2; exit 2; }
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  CC=clang cmake -S . -B "$BUILD" -DPT_FUZZ=ON -DPT_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
elif [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$BUILD" >/dev/null # a new tests/fuzz/fuzz_*.c becomes a target only at configure time
fi
targets=${FUZZ_TARGETS:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')}

dict_for() {
  case "$1" in
    fuzz_csv|fuzz_core_parse) echo tests/fuzz/csv.dict ;;
    fuzz_adapter_msg|fuzz_rest_klines|fuzz_rules_meta) echo tests/fuzz/json.dict ;;
    fuzz_config) echo tests/fuzz/config.dict ;;
    fuzz_wss_http) echo tests/fuzz/http.dict ;;
    fuzz_wss_inbound|fuzz_feed_socket|fuzz_xsim_socket) echo tests/fuzz/json.dict ;;
    fuzz_journal) echo tests/fuzz/csv.dict ;;
  esac
}

failed=()
summary=()
for t in $targets; do
  # one target at a time: a half-written module elsewhere fails only the
  # targets that link it, and the others still run
  if [ "${FUZZ_NO_BUILD:-0}" != 1 ] && ! cmake --build "$BUILD" -j "$JOBS" --target "$t" >"$BUILD/build-$t.log" 2>&1; then
    summary+=("$(printf '%-18s BUILD FAILED (see %s)' "$t" "$BUILD/build-$t.log")")
    failed+=("$t"); continue
  fi
  corpus="$BUILD/corpus/$t"; art="$BUILD/artifacts/$t"; log="$BUILD/logs/$t.log"
  mkdir -p "$corpus" "$art" "$(dirname "$log")"
  seeds=()
  for d in "tests/fuzz/corpus/$t" "tests/fuzz/regress/$t"; do [ -d "$d" ] && seeds+=("$d"); done
  dict=$(dict_for "$t"); dargs=()
  [ -n "$dict" ] && dargs=(-dict="$dict")
  echo "fuzz: $t for ${SECS}s" >&2
  rc=0
  # -timeout=1: no input may take a second (5 s for the targets that talk over a
  # loopback socket: a loaded 2-core machine can stall a process for a second);
  # -error_exitcode/-timeout_exitcode make every kind of finding a nonzero exit.
  # Leaks are on (ASan default).
  tmo=1
  case "$t" in fuzz_*_socket) tmo=5 ;; esac
  # shellcheck disable=SC2086
  "$BUILD/fuzz/$t" -max_total_time="$SECS" -timeout="$tmo" -rss_limit_mb=2048 -max_len=8192 \
      -print_final_stats=1 -artifact_prefix="$art/" "${dargs[@]}" ${FUZZ_ARGS:-} \
      "$corpus" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  eps=$(echo "$last" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  status=ok
  if [ "$rc" -ne 0 ]; then
    status="FAILED rc=$rc ($(grep -m1 -E 'ERROR|property failed|SUMMARY' "$log" || echo see log)); log $log"
    failed+=("$t")
  fi
  summary+=("$(printf '%-18s execs=%-9s exec/s=%-7s cov=%-5s ft=%-6s %s' "$t" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$status")")
done
printf '%s\n' "fuzz: results (${SECS}s per target)" "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]} (inputs under $BUILD/artifacts/)" >&2
  exit 1
fi
