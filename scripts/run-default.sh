#!/usr/bin/env bash
# `make run`: the built-in demo. The exchange simulator replays the shipped
# sample data/freqtrade_UNITTEST-BTC_1m.csv (13,681 one-minute candles) at
# 7200x through the live path (WebSocket + REST backfill) into a paper
# session with the dashboard; it ends by itself after about two minutes
# (Ctrl-C stops it earlier, cleanly). stdout gets the dashboard URL, the output
# folder and the exchange address first; log lines go to stderr.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
OUT="logs/$(date -u +%Y%m%dT%H%M%SZ)-demo"
PORT=${PT_PORT:-8765}
exec "$BUILD/papertrader" demo --port "$PORT" --out "$OUT" --heartbeat 10
