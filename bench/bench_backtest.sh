#!/usr/bin/env bash
# `papertrader backtest` (sma_cross, default outputs) throughput and peak RSS
# on generated candle files.
# Usage: bench/bench_backtest.sh [BUILD_DIR] [ROWS...]   (default: build, 1000000 10000000)
# Runs each size 3 times and prints the medians. Aim: >= 2M candles/s on one
# core, peak RSS < 16 MB and flat in the file size.
# Not a test: figures depend on the machine and its load.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000 10000000)
BIN="$BUILD/papertrader"
GEN="$BUILD/bench/gen_candles"
[ -x "$GEN" ] || cmake --build "$BUILD" --target gen_candles >/dev/null
[ -x "$BIN" ] || { echo "bench_backtest: $BIN not built" >&2; exit 1; }

# peak RSS in KiB: GNU time if present, else poll VmHWM until the process exits
peak_rss_run() { # OUTFILE CMD...
  local out=$1; shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%M" -o "$out" "$@" >/dev/null 2>&1 || true
  else
    "$@" >/dev/null 2>&1 &
    local pid=$! hwm=0 v
    while kill -0 "$pid" 2>/dev/null; do
      v=$(awk '/^VmHWM:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
      sleep 0.01
    done
    wait "$pid" || true
    echo "$hwm" >"$out"
  fi
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

tmp=$(mktemp -d /tmp/pt-bench-backtest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf '%-10s %8s %14s %10s %8s\n' rows MB candles/s peakRSS_MB fills
for n in "${SIZES[@]}"; do
  f="$tmp/candles_$n.csv"
  "$GEN" --rows "$n" --seed 42 -o "$f"
  mb=$(( $(stat -c %s "$f") / 1048576 ))
  set +e; "$BIN" backtest --quiet --out "$tmp/out" "$f" >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 0 ] || { echo "bench_backtest: backtest exited $rc on $f" >&2; exit 1; }
  fills=$(( $(wc -l <"$tmp/out/trades.csv") - 1 ))
  times=() rsss=()
  for run in 1 2 3; do
    rm -rf "$tmp/out"
    t0=$(date +%s%N)
    peak_rss_run "$tmp/rss" "$BIN" backtest --quiet --out "$tmp/out" "$f"
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
    rsss+=("$(tail -1 "$tmp/rss")")
  done
  t=$(median3 "${times[@]}")
  rss=$(median3 "${rsss[@]}")
  printf '%-10s %8s %14s %10s %8s\n' "$n" "$mb" $(( n * 1000000 / (t > 0 ? t : 1) )) \
    "$(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1024}')" "$fills"
  rm -rf "$f" "$tmp/out"
done
