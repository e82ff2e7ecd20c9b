# papertrader exchanges lists every venue from the adapter table (text and
# --json); Coinbase: fetch against exchange-sim --protocol coinbase, an unknown
# product quoted, run refusing what its socket cannot stream; Kraken through fetch against exchange-sim --protocol kraken: the
# venue's own symbol spelling, an unknown pair quoted in the venue's words,
# an interval Kraken does not offer, an unknown venue naming the known ones.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
sp=; cp=
trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; [ -n "$cp" ] && kill "$cp" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
SCALE=1; [ "${PT_SANITIZE:-0}" = 1 ] && SCALE=3

# the venues issue 17 names that are built so far; the list must hold each
VENUES="binance bitvavo bybit okx kraken coinbase bybit-linear kucoin binance-futures"
run_pt exchanges
expect_exit 0 "exchanges exits 0"
for v in $VENUES; do expect_out "^$v\$" "exchanges lists $v"; done
expect_out "720 bars" "kraken's REST depth is shown"
run_pt exchanges --json
expect_exit 0 "exchanges --json exits 0"
names=$(node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(j.exchanges.map(x=>x.name).join(", "))' <<<"$OUT")
for v in $VENUES; do
  n=$(node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));const k=j.exchanges.find(x=>x.name===process.argv[1]);console.log(k?[k.spot||k.perp,k.intervals.length>0,k.rest_page>0,typeof k.finality].join(","):"none")' "$v" <<<"$OUT")
  [ "$n" = "true,true,true,string" ] && ok "--json: $v with market, intervals, REST page, finality" || bad "--json $v: got '$n'"
done
n=$(node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));const k=j.exchanges.find(x=>x.name==="kraken");console.log(k&&k.intervals.join(","), k&&k.history_bars)' <<<"$OUT")
[ "$n" = "1m,5m,15m,30m,1h,4h,1d,1w,15d 720" ] && ok "--json: kraken's intervals and depth" || bad "--json: got '$n'"

"$PT_BIN" exchange-sim --protocol kraken --port 0 --speed 600 --symbols XRP-ETH --start 2024-01-01 \
  --duration $((120 * SCALE)) >"$T/sim.out" 2>"$T/sim.err" &
sp=$!
port=
for _ in $(seq $((100 * SCALE))); do
  port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$T/sim.out"); [ -n "$port" ] && break; sleep 0.1
done
[ -n "$port" ] && ok "exchange-sim --protocol kraken on port $port" || { bad "no port" "$(cat "$T/sim.err")"; finish; exit; }
sleep 1
URL="http://127.0.0.1:$port"
run_pt fetch --exchange kraken --symbol XRP/ETH --interval 1m --since 2024-01-01 -o "$T/a.csv" --rest-url "$URL"
expect_exit 0 "fetch --exchange kraken with the venue's spelling XRP/ETH"
rows=$(($(wc -l <"$T/a.csv") - 1))
[ "$rows" -ge 3 ] && ok "$rows closed candles" || bad "only $rows candles"
run_pt fetch --exchange kraken --symbol XBT/ETH --interval 1m --since 2024-01-01 -o "$T/b.csv" --rest-url "$URL"
expect_exit 1 "an unknown pair fails"
expect_err "EQuery:Unknown asset pair" "and quotes Kraken's text"
run_pt fetch --exchange kraken --symbol XRP/ETH --interval 1s --since 2024-01-01 -o "$T/c.csv" --rest-url "$URL"
[ "$RC" -ne 0 ] && ok "1s is refused for kraken" || bad "1s accepted"
expect_err "kraken has no interval" "naming the venue"
"$PT_BIN" exchange-sim --protocol coinbase --port 0 --speed 3000 --interval 5m --symbols XRP-ETH --start 2024-01-01 \
  --duration $((120 * SCALE)) >"$T/cb.out" 2>"$T/cb.err" &
cp=$!
cport=
for _ in $(seq $((100 * SCALE))); do
  cport=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$T/cb.out"); [ -n "$cport" ] && break; sleep 0.1
done
[ -n "$cport" ] && ok "exchange-sim --protocol coinbase on port $cport" || bad "no coinbase port" "$(cat "$T/cb.err")"
sleep 1
run_pt fetch --exchange coinbase --symbol xrp-eth --interval 5m --since 2024-01-01 -o "$T/e.csv" --rest-url "http://127.0.0.1:$cport"
expect_exit 0 "fetch --exchange coinbase (lowercase product id raised)"
rows=$(($(wc -l <"$T/e.csv") - 1))
[ "$rows" -ge 3 ] && ok "$rows closed coinbase candles" || bad "only $rows coinbase candles"
run_pt fetch --exchange coinbase --symbol BTC-EUR --interval 5m --since 2024-01-01 -o "$T/f.csv" --rest-url "http://127.0.0.1:$cport"
expect_exit 1 "an unknown coinbase product fails"
expect_err "ProductID is invalid" "and quotes the venue's message"
kill "$cp" 2>/dev/null; wait "$cp" 2>/dev/null
run_pt run --exchange coinbase --symbols BTC-USD --interval 1m --ws-url ws://127.0.0.1:9 --rest-url http://127.0.0.1:9 \
  --out "$T/run1" --port 0 --warmup 0
[ "$RC" -ne 0 ] && ok "run --exchange coinbase --interval 1m refused" || bad "1m coinbase run accepted"
expect_err "coinbase streams only 5m candles" "saying the socket has 5m buckets only"
run_pt fetch --exchange nosuch --symbol X --interval 1m --since 2024-01-01 -o "$T/d.csv"
[ "$RC" -ne 0 ] && ok "unknown venue refused" || bad "unknown venue accepted"
expect_err "($names)" "and every venue of the table listed"
run_pt exchange-sim --protocol nosuch --port 0
[ "$RC" -eq 2 ] && ok "exchange-sim: unknown protocol refused" || bad "exchange-sim: rc $RC"
expect_err "($names)" "naming every venue of the table"
run_pt config keys
expect_out "${names//, /|}" "[feed] exchange takes every venue"
finish
