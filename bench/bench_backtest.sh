#!/usr/bin/env bash
# `papertrader backtest` (sma_cross, default outputs) throughput and peak RSS
# on generated candle files.
# Usage: bench/bench_backtest.sh [BUILD_DIR] [ROWS...]   (default: build, 1000000 10000000)
# Runs each size 3 times and prints the medians. Aim: >= 2M candles/s on one
# core, peak RSS < 16 MB and flat in the file size.
# Not a test: figures depend on the machine and its load.
NAME=bench_backtest
. "$(dirname "$0")/lib.bash" "$@"
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
