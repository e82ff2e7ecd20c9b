#!/usr/bin/env bash
# check and backtest read each input once (issue 11 item 3; the interval is
# detected from the reader's own look-ahead, feed/feed_csv.c): a named FIFO
# and a bash process substitution give the same output as the same file read
# normally, and never hang. A 5m file, so the detected interval shows.
set -u
. "$(dirname "$0")/lib.bash"

DATA="${PT_SHARED_DATA:?PT_SHARED_DATA not set}"
# a writer left blocked on a FIFO nobody opened (a failing run) must not outlive the test
tmp=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
cp "$DATA/freqtrade_ADA-BTC_5m.csv" ADABTC.csv
mkdir fifo && mkfifo fifo/ADABTC.csv
feed_fifo() { cat ADABTC.csv >fifo/ADABTC.csv & }
T=60 # a hang fails the test instead of blocking it

# ---------------------------------------------------------------- check
timeout $T "$PT_BIN" check ADABTC.csv >plain.txt 2>&1; e0=$?
grep -q "interval 5m (detected)" plain.txt && ok "check on the file detects 5m" || bad "check on the file detects 5m" "$(cat plain.txt)"
for json in "" "--json"; do
  timeout $T "$PT_BIN" check $json ADABTC.csv >plain.txt 2>&1
  feed_fifo
  (cd fifo && timeout $T "$PT_BIN" check $json ADABTC.csv) >fifo.txt 2>&1; e1=$?
  if [ "$e1" -eq "$e0" ] && cmp -s plain.txt fifo.txt; then ok "check $json on a named FIFO = on the file"
  else bad "check $json on a named FIFO = on the file (exit $e1)" "$(diff plain.txt fifo.txt)"; fi
  timeout $T "$PT_BIN" check $json --symbol ADABTC ADABTC.csv >plain.txt 2>&1
  timeout $T "$PT_BIN" check $json --symbol ADABTC <(cat ADABTC.csv) >sub.txt 2>&1; e2=$?
  sed -i -E 's#/dev/fd/[0-9]+#ADABTC.csv#g' sub.txt
  if [ "$e2" -eq "$e0" ] && cmp -s plain.txt sub.txt; then ok "check $json on a process substitution = on the file"
  else bad "check $json on a process substitution = on the file (exit $e2)" "$(diff plain.txt sub.txt)"; fi
done
# fewer than two rows through a pipe: interval unknown, no hang, no bogus header error
timeout $T "$PT_BIN" check --symbol X <(head -2 ADABTC.csv) >one.txt 2>&1
grep -q "no header" one.txt && bad "one row through a pipe: no bogus header error" "$(cat one.txt)" || ok "one row through a pipe: no bogus header error"

# ---------------------------------------------------------------- backtest
same_run() { # DIR NAME: outputs equal to those of the plain run in p/
  local f diffs=""
  for f in trades.csv portfolio.csv report.json; do cmp -s "p/$f" "$1/$f" || diffs="$diffs $f"; done
  grep -v '^output ' "p.out" >a.out; grep -v '^output ' "$1.out" >b.out
  cmp -s a.out b.out || diffs="$diffs stdout"
  if [ -z "$diffs" ]; then ok "$2"; else bad "$2 (differ:$diffs)" "$(diff a.out b.out | head)"; fi
}
bt=(backtest --quiet --strategy sma_cross --param fast=3 --param slow=9)
timeout $T "$PT_BIN" "${bt[@]}" --out p ADABTC.csv >p.out 2>&1
grep -q "bar interval (ms) *300000" p.out && ok "backtest on the file: 5m bars" || bad "backtest on the file: 5m bars" "$(cat p.out)"
feed_fifo
timeout $T "$PT_BIN" "${bt[@]}" --out f fifo/ADABTC.csv >f.out 2>&1; RC=$?
expect_exit 0 "backtest on a named FIFO exits 0"
same_run f "backtest on a named FIFO = on the file"
timeout $T "$PT_BIN" "${bt[@]}" --symbol ADABTC --out s <(cat ADABTC.csv) >s.out 2>&1; RC=$?
expect_exit 0 "backtest on a process substitution exits 0"
same_run s "backtest on a process substitution = on the file"
kill $(jobs -p) 2>/dev/null # none left when every run read its FIFO
finish
