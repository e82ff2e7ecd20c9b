#!/usr/bin/env bash
# walk-forward: folds over the data, each fold's in-sample search and its
# out-of-sample run equal `backtest` over that window's candles, outputs
# the same whatever --jobs, bad fold settings refused before any work.
set -u
. "$(dirname "$0")/lib.bash"
DATA="$PT_SHARED_DATA/freqtrade_ADA-BTC_5m.csv" # 2018-01-10 .. 2018-01-30, 5m
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
W=(--strategy sma_cross --grid fast=5,10,20 --grid slow=30,50 --train 5d --test 2d --quiet)
run_pt walk-forward "${W[@]}" --jobs 2 --out "$T/a" "$DATA"
expect_exit 0 "walk-forward --train 5d --test 2d"
expect_out "Deflated Sharpe Ratio" "prints the Deflated Sharpe Ratio"
for f in folds.csv oos_trades.csv oos_portfolio.csv walkforward.json session.json; do
  [ -s "$T/a/$f" ] && ok "$f written" || bad "$f missing"
done
folds=$(($(wc -l <"$T/a/folds.csv") - 1))
[ "$folds" -eq 7 ] && ok "20 days, 5d + 2d windows moving 2d: 7 folds" || bad "folds: $folds"
run_pt walk-forward "${W[@]}" --jobs 1 --out "$T/b" "$DATA"
for f in folds.csv oos_trades.csv oos_portfolio.csv walkforward.json; do
  cmp -s "$T/a/$f" "$T/b/$f" && ok "$f identical for --jobs 1 and 2" || bad "$f differs across --jobs"
done

# fold 2 against backtest over the window's rows (epoch-ms timestamps)
slice() { awk -F, -v a="$2" -v b="$3" 'NR==1 || ($1 >= a && $1 < b)' "$1"; }
ms() { date -u -d "$1" +%s%3N; }
IFS=, read -r _ tr0 tr1 te0 te1 fast slow _ <<<"$(sed -n 4p "$T/a/folds.csv")"
slice "$DATA" "$(ms "$tr0")" "$(ms "$tr1")" >"$T/train.csv"
slice "$DATA" "$(ms "$te0")" "$(ms "$te1")" >"$T/test.csv"
cash=$(sed -n 3p "$T/a/folds.csv" | awk -F, '{print $(NF-1)}')
field() { node -e 'const r=require(process.argv[1]);console.log(r[process.argv[2]])' "$1" "$2"; }
col() { # FILE ROW NAME
  awk -F, -v r="$2" -v n="$3" 'NR==1{for(i=1;i<=NF;i++)if($i==n)c=i} NR==r+1{print $c}' "$1"; }
run_pt backtest --strategy sma_cross --param fast="$fast" --param slow="$slow" --symbol freqtrade_ADA-BTC_5m \
  --quiet --out "$T/bt_train" "$T/train.csv"
best_row=$(awk -F, -v f="$fast" -v s="$slow" 'NR>1 && $1==f && $2==s {print NR-1}' "$T/a/folds/2_train.csv")
[ "$(field "$T/bt_train/report.json" sharpe)" = "$(node -e "console.log(Number('$(col "$T/a/folds/2_train.csv" "$best_row" sharpe)'))")" ] &&
  ok "fold 2 in-sample row (fast=$fast slow=$slow) equals backtest on the training rows" ||
  bad "fold 2 in-sample differs from backtest"
run_pt backtest --strategy sma_cross --param fast="$fast" --param slow="$slow" --symbol freqtrade_ADA-BTC_5m \
  --cash "$cash" --close-at-end --quiet --out "$T/bt_test" "$T/test.csv"
want=$(field "$T/bt_test/report.json" total_return)
got=$(node -e "console.log(Number('$(col "$T/a/folds.csv" 3 oos_total_return)'))")
[ "$want" = "$got" ] && ok "fold 2 out-of-sample equals backtest on the test rows with the carried cash ($got)" ||
  bad "fold 2 out-of-sample: backtest $want, walk-forward $got"
n_bt=$(($(wc -l <"$T/bt_test/trades.csv") - 1))
n_wf=$(awk -F, '$1==2' "$T/a/oos_trades.csv" | wc -l)
[ "$n_bt" -eq "$n_wf" ] && ok "fold 2 has the backtest's $n_bt fills in oos_trades.csv" || bad "fills: $n_bt vs $n_wf"

run_pt walk-forward "${W[@]}" --anchored --out "$T/c" "$DATA"
starts=$(tail -n +2 "$T/c/folds.csv" | cut -d, -f2 | sort -u | wc -l)
[ "$RC" -eq 0 ] && [ "$starts" -eq 1 ] && ok "--anchored: every training window starts at the first candle" ||
  bad "--anchored ($RC, $starts starts)"
run_pt walk-forward --strategy sma_cross --grid fast=5,10 --train 30d --test 7d --out "$T/d" "$DATA"
expect_exit 2 "a fold longer than the data is refused"
expect_err "longer than the data" "the message says so"
run_pt walk-forward --strategy sma_cross --grid fast=5,10 --train 5d --test 2d --step 1d --out "$T/e" "$DATA"
expect_exit 2 "--step shorter than --test is refused"
run_pt walk-forward --strategy sma_cross --grid fast=5,10 --train 5d --out "$T/f" "$DATA"
expect_exit 2 "--test is required"
run_pt walk-forward --strategy sma_cross --grid fast=5,10 --train 5x --test 2d --out "$T/g" "$DATA"
expect_exit 2 "a bad duration is refused"
[ ! -e "$T/d" ] && [ ! -e "$T/e" ] && ok "no output folder for refused runs" || bad "refused runs left folders"

# kill -9 mid-run, then --resume: the same outputs as an uninterrupted run
BIG="$PT_SHARED_DATA/backtrader_index-future_2006_1m.csv" # 2006-01-02 .. 2006-02-27, 1m
K=(--strategy sma_cross --grid fast=3:30:3 --grid slow=35:60:5 --train 14d --test 7d --quiet --jobs 2)
run_pt walk-forward "${K[@]}" --out "$T/full" "$BIG"
expect_exit 0 "uninterrupted reference run"
"$PT_BIN" walk-forward "${K[@]}" --out "$T/killed" "$BIG" >/dev/null 2>&1 &
pid=$!
scale=$([ -n "${PT_SANITIZE:-}" ] && echo 5 || echo 1)
for _ in $(seq 1 $((600 * scale))); do
  [ -e "$T/killed/folds/.2_train.journal" ] && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ ! -e "$T/killed/folds.csv" ] && [ -e "$T/killed/folds/1_train.csv" ] && ok "killed with -9 in fold 2" ||
  bad "kill -9 did not land mid-run ($(ls "$T/killed" "$T/killed/folds" 2>&1 | tr '\n' ' '))"
run_pt walk-forward --resume "$T/killed" --jobs 1
expect_exit 0 "walk-forward --resume after kill -9"
for f in folds.csv oos_trades.csv oos_portfolio.csv walkforward.json; do
  cmp -s "$T/full/$f" "$T/killed/$f" && ok "resumed $f byte-identical" || bad "resumed $f differs"
done
finish
