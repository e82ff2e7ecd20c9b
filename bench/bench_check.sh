#!/usr/bin/env bash
# `papertrader check` throughput and peak memory on generated candle files.
# Usage: bench/bench_check.sh [BUILD_DIR] [ROWS...]   (default: build, 1000000 10000000)
# Generates each file into a temp dir under /tmp (deleted on exit), runs
# `check` 3 times per file, prints candles/s (median of 3) and peak RSS
# (median of 3) side by side. Aim: >= 3M candles/s, < 16 MB at any size.
# Not a test: figures depend on the machine and its load.
NAME=bench_check
. "$(dirname "$0")/lib.bash" "$@"
declare -A RATE RSS SIZE
for n in "${SIZES[@]}"; do
  f="$tmp/candles_$n.csv"
  "$GEN" --rows "$n" --seed 42 -o "$f"
  SIZE[$n]=$(( $(stat -c %s "$f") / 1048576 ))
  # the report must come from a real run: exit 0/4 are reports, others are failures
  set +e; "$BIN" check "$f" >/dev/null 2>&1; rc=$?; set -e
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then echo "bench_check: check exited $rc on $f" >&2; exit 1; fi
  times=() rsss=()
  for run in 1 2 3; do
    t0=$(date +%s%N)
    peak_rss_run "$tmp/rss" "$BIN" check "$f"
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))          # µs
    rsss+=("$(tail -1 "$tmp/rss")")
  done
  t=$(median3 "${times[@]}")
  RATE[$n]=$(( n * 1000000 / (t > 0 ? t : 1) ))
  RSS[$n]=$(median3 "${rsss[@]}")
  rm -f "$f"
done

printf '%-28s' "papertrader check"
for n in "${SIZES[@]}"; do printf '%16s' "$n rows"; done; echo
printf '%-28s' "  file size (MiB)"
for n in "${SIZES[@]}"; do printf '%16s' "${SIZE[$n]}"; done; echo
printf '%-28s' "  candles/s (median of 3)"
for n in "${SIZES[@]}"; do printf '%16s' "${RATE[$n]}"; done; echo
printf '%-28s' "  peak RSS KiB (median of 3)"
for n in "${SIZES[@]}"; do printf '%16s' "${RSS[$n]}"; done; echo
