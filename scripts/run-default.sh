#!/usr/bin/env bash
# `make run`: the built-in demo. The exchange simulator replays the shipped
# sample data/freqtrade_UNITTEST-BTC_1m.csv (13,681 one-minute candles) at
# 7200x through the live path (WebSocket + REST backfill) into a paper
# session with the dashboard; it ends by itself after about two minutes
# (Ctrl-C stops it earlier, cleanly). The first screen is four lines and ends
# with the dashboard URL; log lines go to OUT/papertrader.log, not the screen.
# The folder name is the one every command uses (logs/<UTC ISO basic>-<mode>).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
OUT="logs/$(date -u +%Y%m%dT%H%M%SZ)-demo"
PORT=${PT_PORT:-8765}
# the demo prints "dashboard:", "output:", "exchange:" first: the URL goes last
"$BUILD/papertrader" demo --quiet --port "$PORT" --out "$OUT" --heartbeat 10 | {
  lines=()
  while [ ${#lines[@]} -lt 3 ] && IFS= read -r l; do lines+=("$l"); done
  for l in "${lines[@]}"; do case $l in dashboard:*) ;; *) printf '%s\n' "$l" ;; esac; done
  printf 'logs: %s/papertrader.log; it ends by itself in about two minutes, Ctrl-C stops it\n' "$OUT"
  for l in "${lines[@]}"; do case $l in dashboard:*) printf '%s\n' "$l" ;; esac; done
  cat
}
