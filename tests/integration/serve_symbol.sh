#!/usr/bin/env bash
# backtest --serve uses backtest's rule for the symbol of a file (issue 11
# item 4): the symbol column when there is one, else the file's stem. A file
# whose name is not a symbol but whose symbol column is (it used to subscribe
# to SYM1 while the simulator served the column's symbol: 0 candles, no end)
# must replay to the end under that symbol, with the trades backtest makes.
set -u
. "$(dirname "$0")/lib.bash"

DATA="${PT_SHARED_DATA:?PT_SHARED_DATA not set}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
T=90
serve=(backtest --serve --speed 20000 --no-dashboard --quiet --heartbeat 0 --strategy sma_cross --param fast=2 --param slow=5)
src="$DATA/freqtrade_UNITTEST-BTC_1m.csv"
{ echo "symbol,$(head -1 "$src")"; sed -n '2,301p' "$src" | sed 's/^/ETHUSDT,/'; } >"$tmp/my data_2017.csv"

runt() { local o e; o=$(mktemp) e=$(mktemp); timeout $T "$PT_BIN" "$@" >"$o" 2>"$e"; RC=$?; OUT=$(cat "$o") ERR=$(cat "$e"); rm -f "$o" "$e"; }
runt "${serve[@]}" --out "$tmp/s1" "$tmp/my data_2017.csv"
expect_exit 0 "serve: a file with a symbol column ends (exit 0)"
expect_out "session ended (end of data): [1-9][0-9]* candles" "serve: the rows are replayed (not 0 candles)"
[ -s "$tmp/s1/candles/ETHUSDT.csv" ] && ok "serve: recorded under the column's symbol" || bad "serve: recorded under the column's symbol" "$(ls "$tmp/s1/candles")"
runt backtest --quiet --strategy sma_cross --param fast=2 --param slow=5 --out "$tmp/b1" "$tmp/my data_2017.csv"
tail -n +2 "$tmp/b1/trades.csv" | cut -d, -f3 | sort -u >"$tmp/bsyms"; tail -n +2 "$tmp/s1/trades.csv" | cut -d, -f3 | sort -u >"$tmp/ssyms"
cmp -s "$tmp/bsyms" "$tmp/ssyms" && grep -q ETHUSDT "$tmp/ssyms" && ok "serve and backtest name the same symbol in trades.csv" \
  || bad "serve and backtest name the same symbol in trades.csv" "$(cat "$tmp/bsyms" "$tmp/ssyms")"

# no symbol column: the file's stem, as backtest names it
sed -n '1,301p' "$src" >"$tmp/freqtrade_UNITTEST-BTC_1m.csv"
runt "${serve[@]}" --out "$tmp/s2" "$tmp/freqtrade_UNITTEST-BTC_1m.csv"
expect_exit 0 "serve: a file without a symbol column ends (exit 0)"
[ -s "$tmp/s2/candles/freqtrade_UNITTEST-BTC_1m.csv" ] && ok "serve: recorded under the file's stem" || bad "serve: recorded under the file's stem" "$(ls "$tmp/s2/candles")"

# --symbols names files without a column; against the column it is an error
runt "${serve[@]}" --out "$tmp/s3" --symbols BTCUSDT "$tmp/my data_2017.csv"
expect_exit 2 "serve: --symbols against the symbol column -> exit 2"
expect_err "symbol column says ETHUSDT; --symbols names it BTCUSDT" "serve: the contradiction is named"
finish
