# papertrader fetch against the exchange simulator: without --until it stops
# at the exchange's last closed candle (the simulator's clock is in the past,
# so "now" would never come); it says when it stops short of --until; a
# refused request shows the exchange's own text; an exchange that cannot be
# reached is given up within --connect-timeout (plus one request's slack).
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
sp=
trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
SCALE=1; [ "${PT_SANITIZE:-0}" = 1 ] && SCALE=3
"$PT_BIN" exchange-sim --port 0 --speed 600 --start 2024-01-01 --duration $((120 * SCALE)) >"$T/sim.out" 2>"$T/sim.err" &
sp=$!
port=
for _ in $(seq $((100 * SCALE))); do
  port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$T/sim.out"); [ -n "$port" ] && break; sleep 0.1
done
[ -n "$port" ] && ok "exchange-sim on port $port" || { bad "no exchange-sim port" "$(cat "$T/sim.err")"; finish; exit; }
sleep 1 # a few simulated minutes of bars
URL="http://127.0.0.1:$port"

timeout $((60 * SCALE)) "$PT_BIN" fetch --symbol BTCUSDT --interval 1m --since 2024-01-01 -o "$T/a.csv" \
  --rest-url "$URL" >"$T/a.out" 2>"$T/a.err"
rc=$?
[ "$rc" -eq 0 ] && ok "fetch without --until ends (exit 0)" || bad "fetch without --until: exit $rc" "$(cat "$T/a.err")"
grep -q "stopping at its last closed candle" "$T/a.err" && ok "and says where it stopped" || bad "no stop line" "$(cat "$T/a.err")"
rows=$(($(wc -l <"$T/a.csv") - 1))
[ "$rows" -ge 3 ] && ok "$rows closed candles written" || bad "only $rows candles"
# every row is a closed bar: a second fetch a little later has the same rows first
sleep 0.5
"$PT_BIN" fetch --symbol BTCUSDT --interval 1m --since 2024-01-01 -o "$T/b.csv" --rest-url "$URL" 2>/dev/null
if [ "$(head -n $((rows + 1)) "$T/b.csv")" = "$(cat "$T/a.csv")" ]; then ok "no bar in progress was written"
else bad "a row changed later: a bar in progress was written" "$(diff "$T/a.csv" <(head -n $((rows + 1)) "$T/b.csv"))"; fi

"$PT_BIN" fetch --symbol BTCUSDT --interval 1m --since 2024-01-01 --until 2024-02-01 -o "$T/c.csv" \
  --rest-url "$URL" >/dev/null 2>"$T/c.err"
grep -q "short of --until 2024-02-01T00:00:00.000Z" "$T/c.err" && ok "says it stopped short of --until" ||
  bad "no short-of-until line" "$(tail -3 "$T/c.err")"

"$PT_BIN" fetch --symbol NOPE --interval 1m --since 2024-01-01 -o "$T/d.csv" --rest-url "$URL" >/dev/null 2>"$T/d.err"
rc=$?
[ "$rc" -eq 1 ] && ok "unknown symbol exits 1" || bad "unknown symbol: exit $rc"
grep -q "the exchange refused the request: Invalid symbol." "$T/d.err" && ok "shows the exchange's own text" ||
  bad "no exchange text" "$(cat "$T/d.err")"
grep -q "invalid argument" "$T/d.err" && bad "still says 'invalid argument'" || ok "not 'invalid argument'"

closed=$(free_port)
t0=$SECONDS
"$PT_BIN" fetch --symbol BTCUSDT --interval 1m --since 2024-01-01 -o "$T/e.csv" --rest-url "http://127.0.0.1:$closed" \
  --connect-timeout 2 >/dev/null 2>"$T/e.err"
rc=$? took=$((SECONDS - t0))
[ "$rc" -eq 1 ] && ok "refused connection exits 1" || bad "refused connection: exit $rc"
[ "$took" -le $((2 + 10 * SCALE)) ] && ok "gave up within the budget (${took} s, --connect-timeout 2)" ||
  bad "took ${took} s with --connect-timeout 2"
grep -q "giving up within the 2 s budget" "$T/e.err" && ok "says why it gave up" || bad "no give-up line" "$(cat "$T/e.err")"
finish
