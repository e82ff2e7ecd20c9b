# Durability (docs/durability.md): kill -9 a backtest at 20 random points and
# resume each time; the final trades.csv, portfolio.csv and report.json are
# byte-identical to an uninterrupted run. Kill points: random SIGKILLs (mid
# run or mid verify-replay) and the --crash-after-fills hook at random fills.
# Seed: PT_SEED (printed, so a failure can be replayed).
set -u
. "$(dirname "$0")/lib.bash"
GEN="$PT_BUILD_DIR/bench/gen_candles"
[ -x "$GEN" ] || { bad "needs $GEN (build target gen_candles)"; finish; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SEED=${PT_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
echo "# seed $SEED"
"$GEN" --rows 200000 --seed 11 -o "$T/c.csv" 2>/dev/null
# many fills; no fsync: a kill -9 loses nothing written (the page cache
# survives the process), so this stays fast
OPTS=(--min-quality 0 --sizing percent:50 --fee-bps 5 --fsync none)

run_pt backtest --quiet "${OPTS[@]}" --out "$T/gold" "$T/c.csv"
expect_exit 0 "uninterrupted run"
TOTAL=$(($(wc -l <"$T/gold/trades.csv") - 1))
if [ "$TOTAL" -gt 1000 ]; then ok "golden run has $TOTAL fills"; else bad "golden run has only $TOTAL fills"; fi

S="$T/s"
kills=0 hooks=0 partial=0 norecover=0 started=0 t0=$SECONDS
for i in $(seq 1 20); do
  if [ "$started" -eq 0 ]; then args=(backtest "${OPTS[@]}" --out "$S" "$T/c.csv"); started=1
  else args=(backtest --resume "$S" --fsync none); fi
  have=0 killed=0 finished=0
  [ -f "$S/report.json" ] && finished=1 # a finished backtest: a resume says so and exits 0
  [ -f "$S/trades.csv" ] && have=$(($(wc -l <"$S/trades.csv") - 1))
  if [ $((i % 2)) -eq 1 ] && [ "$have" -lt "$TOTAL" ]; then
    # the hook: exit right after a random later fill is written
    n=$((have + 1 + RANDOM % ((TOTAL - have + 3) / 4 + 1)))
    "$PT_BIN" "${args[@]}" --crash-after-fills "$n" >/dev/null 2>"$T/err.$i"
    rc=$?
    [ "$rc" -eq 137 ] && hooks=$((hooks + 1))
    [ "$n" -gt "$TOTAL" ] && [ "$rc" -eq 0 ] && rc=137 # past the end: ran to completion
  else
    "$PT_BIN" "${args[@]}" >/dev/null 2>"$T/err.$i" &
    pid=$!
    sleep "0.$(printf '%03d' $((20 + RANDOM % 500)))"
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1)) killed=1
    wait "$pid"
    rc=$?
  fi
  case $rc in 0|137) ;; *) bad "attempt $i exited $rc" "$(cat "$T/err.$i")" ;; esac
  # a restart that got going must say what it recovered (a SIGKILL may land
  # before it gets that far; the first start has nothing to recover)
  want="recovered [0-9]* trades from journal, resumed at candle"
  [ "$finished" -eq 1 ] && want="this backtest is complete"
  if [ "$i" -gt 1 ] && [ "$killed" -eq 0 ] && ! grep -q "$want" "$T/err.$i"; then
    norecover=$((norecover + 1))
  fi
  # after a kill the tail may be torn; it must be repaired on the next start
  if [ -s "$S/trades.csv" ] && [ "$(tail -c1 "$S/trades.csv" | od -An -c | tr -d ' ')" != '\n' ]; then
    partial=$((partial + 1))
  fi
done
echo "# $kills SIGKILLs landed, $hooks hook exits, $partial torn tails seen, $((SECONDS - t0)) s"
if [ "$norecover" -eq 0 ]; then ok "every restart logs 'recovered N trades from journal, resumed at candle T' (or that it is complete)"; else
  bad "$norecover restarts did not log the recovery line" "$(cat "$T"/err.* | head -20)"; fi

run_pt backtest --resume "$S" --fsync none
expect_exit 0 "final resume completes"
for f in trades.csv portfolio.csv report.json; do
  if cmp -s "$T/gold/$f" "$S/$f"; then ok "$f byte-identical to the uninterrupted run"; else
    bad "$f differs from the uninterrupted run" "$(cmp "$T/gold/$f" "$S/$f" 2>&1)"; fi
done
if [ "$(tail -c1 "$S/trades.csv" | od -An -c | tr -d ' ')" = '\n' ] && [ "$(tail -c1 "$S/portfolio.csv" | od -An -c | tr -d ' ')" = '\n' ]; then
  ok "no partial line after the last resume"; else bad "partial line after the last resume"; fi
if awk -F, 'NR > 1 && $14 != NR - 1 { exit 1 }' "$S/trades.csv"; then ok "seq has no gaps or duplicates"; else bad "seq gaps or duplicates"; fi
if [ ! -e "$S/.replay" ]; then ok "no replay scratch left behind"; else bad "replay scratch left behind"; fi

# with fdatasync per fill: the hook fires after a synced fill
run_pt backtest --quiet "${OPTS[@]:0:6}" --fsync fill --out "$T/g2" --crash-after-fills 40 "$T/c.csv"
expect_exit 137 "fsync-per-fill policy: hook exits after fill 40"
n=$(($(wc -l <"$T/g2/trades.csv") - 1))
if [ "$n" -eq 40 ]; then ok "exactly 40 fills durable at the hook"; else bad "fills at the hook: $n"; fi

finish
