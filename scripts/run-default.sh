#!/usr/bin/env bash
# `make run`: the most complete job that exists, on the shipped sample:
# a data-quality report, then a backtest of the default strategy.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
SAMPLE=data/freqtrade_UNITTEST-BTC_1m.csv
"$BUILD/papertrader" check "$SAMPLE"
OUT="logs/$(date -u +%Y%m%dT%H%M%SZ)-backtest"
"$BUILD/papertrader" backtest --out "$OUT" "$SAMPLE"
echo "outputs in $OUT"
