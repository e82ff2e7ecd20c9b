#!/usr/bin/env bash
# `make run`: the most complete job that exists, on the shipped sample.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
exec "$BUILD/papertrader" check data/freqtrade_UNITTEST-BTC_1m.csv
