# Live resume repair, deterministically (docs/durability.md "Live sessions",
# steps 2 and 4; session/session_resume.c). Random kills only sometimes land
# between a recording row and its .order line or in the middle of a write;
# here the recording is damaged by hand after a clean `run --duration 3`
# against `papertrader exchange-sim`:
#   - complete rows appended to candles/<SYM>.csv past what .order names
#     (recorded, never processed)     -> candles/<SYM>.csv.unprocessed
#   - a torn half row after them      -> candles/<SYM>.csv.torn
#   - a torn name at the end of .order -> candles/.order.torn
#   - (second round) .order lines naming rows that never reached the disk
#                                     -> candles/.order.unprocessed
# Each `run --resume DIR --duration 1` must exit 0, replay exactly the
# processed candles, log each repair, keep the moved bytes, and leave a
# recording that `backtest --order` turns into the same trades.csv.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
XS=""
cleanup() {
  [ -n "$XS" ] && kill "$XS" 2>/dev/null && wait "$XS" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

SYM=XRPETH
SRC="${PT_SHARED_DATA:-/work/shared/data}/freqtrade_UNITTEST-BTC_1m.csv"
# 10 one-minute candles a second; --duration bounds the simulator if we die
timeout 60 "$PT_BIN" exchange-sim --port 0 --speed 600 --symbols "$SYM" --duration 50 "$SRC" \
  >"$T/xs.out" 2>"$T/xs.err" &
XS=$!
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/^listening port=\([0-9]*\)$/\1/p' "$T/xs.out")
  [ -n "$PORT" ] && break
  sleep 0.1
done
if [ -z "$PORT" ]; then bad "exchange-sim did not start" "$(cat "$T/xs.err")"; finish; exit 1; fi

ENGINE=(--strategy sma_cross --param fast=1 --param slow=2 --fee-bps 7 --sizing percent:50 --min-quality 0)
FEED=(--ws-url "ws://127.0.0.1:$PORT" --rest-url "http://127.0.0.1:$PORT" --symbols "$SYM" --interval 1m)
QUIET=(--no-dashboard --heartbeat 0)
D="$T/s"
REC="$D/candles/$SYM.csv"
ORD="$D/candles/.order"
rows() { [ -f "$1" ] && echo $(($(wc -l <"$1") - 1)) || echo 0; }

run_pt run --out "$D" "${FEED[@]}" "${ENGINE[@]}" "${QUIET[@]}" --duration 3
expect_exit 0 "first run: exit 0"
N=$(rows "$REC")
F=$(rows "$D/trades.csv")
if [ "$N" -ge 5 ] && [ "$(wc -l <"$ORD")" -eq "$N" ]; then ok "first run recorded $N candles, .order names each"
else bad "first run recorded $N candles, .order has $(wc -l <"$ORD" 2>/dev/null) lines" "$ERR"; fi
if [ "$F" -ge 1 ]; then ok "first run traded ($F fills)"; else bad "first run made no fill" "$ERR"; fi

# ---- round 1: unprocessed rows + torn row + torn .order line
LAST=$(tail -n 1 "$REC" | cut -d, -f1)
# the next two source bars, as if recorded just before a kill
awk -F, -v t="$LAST" 'NR > 1 && $1 + 0 > t + 0 && n < 2 { print; n++ }' "$SRC" >"$T/extra"
TORN="$(awk -F, -v t="$LAST" 'NR > 1 && $1 + 0 > t + 0 { k++ } k == 3 { print $1 ",0.0016"; exit }' "$SRC")"
if [ "$(wc -l <"$T/extra")" -eq 2 ] && [ -n "$TORN" ]; then ok "damage prepared (2 rows past $LAST)"
else bad "cannot build the extra rows after $LAST"; fi
cp "$REC" "$T/rec.before"
cp "$D/trades.csv" "$T/trades.before"
cat "$T/extra" >>"$REC"
printf '%s' "$TORN" >>"$REC"
printf 'XRP' >>"$ORD"

run_pt run --resume "$D" "${QUIET[@]}" --duration 1
expect_exit 0 "resume after the damage: exit 0"
expect_out "^resumed: $N candles replayed, $F fills verified$" "resume replayed exactly the $N processed candles and verified $F fills"
expect_err "$SYM.csv: dropped a torn last line (${#TORN} bytes, kept in .*$SYM.csv.torn)" "log: torn recording row, with its byte count"
expect_err "\.order: dropped a torn last line (3 bytes, kept in .*\.order\.torn)" "log: torn .order line"
expect_err "$SYM.csv: $(wc -c <"$T/extra") bytes from line $((N + 2)) were recorded but never processed; moved to .*$SYM.csv.unprocessed" \
  "log: unprocessed rows, with bytes and line"
if [ "$(printf '%s' "$TORN")" = "$(cat "$REC.torn" 2>/dev/null)" ] && [ "$(wc -c <"$REC.torn")" -eq "${#TORN}" ]; then
  ok "the torn bytes are in $SYM.csv.torn"
else bad "$SYM.csv.torn does not hold the torn bytes" "$(cat "$REC.torn" 2>&1)"; fi
if cmp -s "$T/extra" "$REC.unprocessed"; then ok "the unprocessed rows are in $SYM.csv.unprocessed"
else bad "$SYM.csv.unprocessed differs from the appended rows" "$(diff "$T/extra" "$REC.unprocessed" 2>&1)"; fi
if [ "$(cat "$ORD.torn" 2>/dev/null)" = "XRP" ]; then ok "the torn name is in .order.torn"; else bad ".order.torn lacks 'XRP'"; fi
if cmp -s -n "$(wc -c <"$T/rec.before")" "$T/rec.before" "$REC"; then ok "the processed recording kept its bytes"
else bad "the recording's processed prefix changed"; fi
if cmp -s -n "$(wc -c <"$T/trades.before")" "$T/trades.before" "$D/trades.csv"; then ok "trades.csv kept its bytes"
else bad "trades.csv's prefix changed"; fi

# the recording went on: strictly increasing times, one .order line per row, whole lines
N2=$(rows "$REC")
if [ "$N2" -gt "$N" ] && awk -F, 'NR > 2 && $1 + 0 <= p + 0 { bad = 1 } { p = $1 } END { exit bad }' "$REC"; then
  ok "the resumed session recorded on ($N -> $N2 candles, times increasing)"
else bad "recording after resume: $N2 rows (was $N) or times not increasing"; fi
if [ "$(wc -l <"$ORD")" -eq "$N2" ] && [ "$(grep -cvx "$SYM" "$ORD")" -eq 0 ] && [ "$(tail -c 1 "$ORD" | od -An -c | tr -d ' ')" = '\n' ]; then
  ok ".order: one whole line per recorded candle"
else bad ".order has $(wc -l <"$ORD") lines for $N2 rows"; fi

parity() { # $1: label
  rm -rf "$T/bt"
  run_pt backtest --quiet --out "$T/bt" "${ENGINE[@]}" --order "$ORD" "$REC"
  if [ "$RC" -eq 0 ] && cmp -s "$T/bt/trades.csv" "$D/trades.csv"; then
    ok "$1: backtest --order on the recording gives the same trades.csv ($(rows "$D/trades.csv") fills)"
  else bad "$1: backtest parity (exit $RC)" "$ERR$(diff "$T/bt/trades.csv" "$D/trades.csv" 2>&1 | head -5)"; fi
}
parity "round 1"

# ---- round 2: .order names candles whose rows never reached the disk (a
# power cut between the two writes): the order's tail moves aside
N=$(rows "$REC")
F=$(rows "$D/trades.csv")
printf '%s\n%s\n' "$SYM" "$SYM" >>"$ORD"
run_pt run --resume "$D" "${QUIET[@]}" --duration 1
expect_exit 0 "round 2: resume exit 0"
expect_out "^resumed: $N candles replayed, $F fills verified$" "round 2: replayed the $N recorded candles, verified $F fills"
expect_err "\.order:$((N + 1)): $SYM has no recorded candle left" "round 2: log names .order:$((N + 1))"
if [ "$(cat "$ORD.unprocessed" 2>/dev/null)" = "$(printf '%s\n%s' "$SYM" "$SYM")" ]; then
  ok "round 2: the surplus .order lines are in .order.unprocessed"
else bad "round 2: .order.unprocessed" "$(cat "$ORD.unprocessed" 2>&1)"; fi
if [ "$(rows "$REC")" -ge "$N" ] && [ "$(wc -l <"$ORD")" -eq "$(rows "$REC")" ]; then
  ok "round 2: .order matches the recording again ($(rows "$REC") candles)"
else bad "round 2: .order $(wc -l <"$ORD") lines, recording $(rows "$REC") rows"; fi
parity "round 2"

kill "$XS" 2>/dev/null
wait "$XS" 2>/dev/null
XS=""
finish
