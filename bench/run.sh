#!/usr/bin/env bash
# `make bench`: run every bench/bench_*.sh against BUILD_DIR and print their
# figures. Usage: bench/run.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
rc=0
found=0
for b in bench/bench_*.sh; do
  [ -e "$b" ] || continue
  found=1
  echo "== $b"
  bash "$b" "$BUILD" || { echo "== $b failed (exit $?)"; rc=1; }
  echo
done
[ "$found" -eq 1 ] || echo "no bench/bench_*.sh found"
exit "$rc"
