#!/usr/bin/env bash
# `papertrader optimize`: the 63-combination sma_cross grid (fast 5,8,10,13,
# 16,20,25,30 x slow 30,40,50,60,80,100,150,200 with fast < slow) over
# generated candles, candle-evaluations/s with --jobs 1 and --jobs 2 and peak
# RSS, next to a vectorised numpy sweep of the same grid (bench/
# numpy_sweep.py) in the same run. Installs nothing: without Debian's
# python3-numpy the comparison is skipped with a message.
# Usage: bench/bench_optimize.sh [BUILD_DIR] [ROWS]   (default: build, 1000000)
# Timing is wall clock of the whole command (read + check + sweep + outputs).
# Not a test: figures depend on the machine and its load.
NAME=bench_optimize
. "$(dirname "$0")/lib.bash" "$@"
rows=${SIZES[0]:-1000000}
[ "${#SIZES[@]}" -eq 2 ] && [ "$rows" = 1000000 ] && [ "${SIZES[1]}" = 10000000 ] && rows=1000000
f="$tmp/candles.csv"
"$GEN" --rows "$rows" --seed 42 -o "$f"
GRID=(--strategy sma_cross --grid fast=5,8,10,13,16,20,25,30 --grid slow=30,40,50,60,80,100,150,200)
echo "$rows candles, 63 combinations, $(nproc) cores"
printf '%-22s %8s %8s %16s %16s %11s\n' run wall_s cpu_s evals/s_wall evals/s_per_cpu peakRSS_MB
for j in 1 2; do
  rm -rf "$tmp/out$j"
  if [ -x /usr/bin/time ]; then # wall, CPU of the whole process tree, largest resident size
    /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$BIN" optimize "${GRID[@]}" --jobs "$j" --quiet \
      --out "$tmp/out$j" "$f" >/dev/null 2>&1 || true
    read -r wall user sys rss <"$tmp/t"
  else
    t0=$(date +%s%N)
    peak_rss_run "$tmp/rss" "$BIN" optimize "${GRID[@]}" --jobs "$j" --quiet --out "$tmp/out$j" "$f"
    t1=$(date +%s%N)
    wall=$(awk -v n=$((t1 - t0)) 'BEGIN{printf "%.2f", n/1e9}') user=$wall sys=0 rss=$(tail -1 "$tmp/rss")
  fi
  [ -s "$tmp/out$j/results.csv" ] || { echo "bench_optimize: optimize --jobs $j failed" >&2; exit 1; }
  awk -v j="$j" -v w="$wall" -v u="$user" -v s="$sys" -v k="$rss" -v e=$((63 * rows)) 'BEGIN{
    printf "%-22s %8.2f %8.2f %16.0f %16.0f %11.1f\n", "papertrader --jobs " j, w, u + s, e / w, e / (u + s), k / 1024}'
done
cmp -s "$tmp/out1/results.csv" "$tmp/out2/results.csv" && echo "results.csv identical for --jobs 1 and 2" ||
  { echo "bench_optimize: results.csv differs between --jobs 1 and 2" >&2; exit 1; }
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  /usr/bin/python3 bench/numpy_sweep.py "$f"
else
  echo "numpy comparison skipped: /usr/bin/python3 has no numpy (Debian: apt-get install python3-numpy)"
fi
