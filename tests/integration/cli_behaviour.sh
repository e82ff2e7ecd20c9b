# One behaviour for the command line: usage errors exit 2 with a short
# message and a --help hint; missing inputs exit 3; --resume on a folder of
# the wrong kind exits 2 and says what it holds; a finished backtest resumes
# to "complete" at once; --out that holds a run is refused unless --force;
# one default folder name (logs/<UTC ISO 8601 basic>-<mode>).
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
F="$PT_SHARED_DATA/freqtrade_XRP-ETH_1m.csv"

for c in "check --bogus" "backtest --bogus" "strategies --bogus" "run --bogus" "demo --bogus" "fetch --bogus" \
         "fetch" "config" "config check" "report --bogus" "exchange-sim --bogus" "bogus" ""; do
  # shellcheck disable=SC2086
  run_pt $c
  lines=$(printf '%s\n' "$ERR" | wc -l)
  if [ "$RC" -eq 2 ] && [ "$lines" -le 3 ] && grep -q -- "--help lists the" <<<"$ERR" && [ -z "$OUT" ]; then
    ok "'papertrader $c': exit 2, $lines lines, a --help hint"
  else bad "'papertrader $c': exit $RC, $lines lines" "$ERR"; fi
done

run_pt backtest --quiet --out "$T/bt" "$F"
expect_exit 0 "a backtest"
run_pt run --quiet --duration 0.1 --no-dashboard --ws-url ws://127.0.0.1:9 --rest-url http://127.0.0.1:9 \
  --symbols BTCUSDT --out "$T/live"
expect_exit 1 "a (short, offline) live session ends with exit 1: no candle came"
expect_err "session ended with 0 candles" "and says why"

run_pt backtest --resume "$T/missing"
expect_exit 3 "backtest --resume of a missing folder exits 3"
expect_err "no such folder" "and says so"
run_pt run --resume "$T/missing"
expect_exit 3 "run --resume of a missing folder exits 3"
run_pt backtest --resume "$T/live"
expect_exit 2 "backtest --resume of a live-session folder exits 2"
expect_err "it holds a \`run\` session, not a backtest" "and says what it holds"
run_pt run --resume "$T/bt"
expect_exit 2 "run --resume of a backtest folder exits 2"
expect_err "it holds a \`backtest\` run" "and says what it holds"
mkdir -p "$T/empty"
run_pt run --resume "$T/empty"
expect_exit 2 "run --resume of a folder without a session exits 2"
before=$(stat -c %Y "$T/bt/trades.csv")
run_pt backtest --resume "$T/bt"
expect_exit 0 "resuming a finished backtest exits 0"
expect_err "this backtest is complete" "and says so"
[ "$(stat -c %Y "$T/bt/trades.csv")" = "$before" ] && ok "without touching its files" || bad "it rewrote trades.csv"

cp "$T/bt/trades.csv" "$T/trades.before"
run_pt backtest --quiet --strategy rsi --out "$T/bt" "$F"
expect_exit 2 "--out holding an earlier run is refused"
expect_err "holds an earlier run" "and says why"
cmp -s "$T/bt/trades.csv" "$T/trades.before" && ok "the earlier run is left alone" || bad "earlier run changed"
run_pt backtest --quiet --strategy rsi --force --out "$T/bt" "$F"
expect_exit 0 "--force overwrites it"
cmp -s "$T/bt/trades.csv" "$T/trades.before" && bad "--force did not write the new run" || ok "with the new run"
run_pt run --quiet --duration 0.1 --no-dashboard --ws-url ws://127.0.0.1:9 --symbols BTCUSDT --out "$T/live"
expect_exit 2 "run --out holding an earlier run is refused"
run_pt backtest --quiet --out "$T/live2" "$F"
mkdir -p "$T/other" && : >"$T/other/notes.txt"
run_pt backtest --quiet --out "$T/other" "$F"
expect_exit 0 "a folder without a run in it is fine"

mkdir -p "$T/cwd"
(cd "$T/cwd" && "$PT_BIN" backtest --quiet "$F" >/dev/null 2>&1)
d=$(ls "$T/cwd/logs" 2>/dev/null)
if [[ "$d" =~ ^[0-9]{8}T[0-9]{6}Z-backtest$ ]]; then ok "default backtest folder logs/$d"; else bad "default folder '$d'"; fi
(cd "$T/cwd" && "$PT_BIN" run --quiet --duration 0.1 --no-dashboard --ws-url ws://127.0.0.1:9 \
   --symbols BTCUSDT >/dev/null 2>&1)
d=$(ls "$T/cwd/logs" | grep -- -run)
if [[ "$d" =~ ^[0-9]{8}T[0-9]{6}Z-run$ ]]; then ok "default run folder logs/$d"; else bad "default run folder '$d'"; fi
(cd "$T/cwd" && "$PT_BIN" optimize --quiet --strategy sma_cross --grid fast=5,8 --grid slow=20 --jobs 1 "$F" \
   >/dev/null 2>&1)
d=$(ls "$T/cwd/logs" | grep -- -optimize)
if [[ "$d" =~ ^[0-9]{8}T[0-9]{6}Z-optimize$ ]]; then ok "default optimize folder logs/$d"; else bad "default optimize folder '$d'"; fi
grep -q 'date -u +%Y%m%dT%H%M%SZ' "$PT_SOURCE_DIR/scripts/run-default.sh" && ok "make run names its folder alike" ||
  bad "scripts/run-default.sh names its folder another way"
finish
