# papertrader backtest end to end on real candle files: fills checked against
# an independent sma_cross (node, written from the rules in sim/README.md),
# determinism, multi-file runs, exit codes.
set -u
. "$(dirname "$0")/lib.bash"
D="$PT_SHARED_DATA"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
F="$D/freqtrade_UNITTEST-BTC_1m.csv"
BASE=(backtest --quiet --strategy sma_cross --param fast=10 --param slow=30 --sizing all-in
      --fee-bps 0 --slippage-bps 0 --min-quality 0 --cash 10000)

# --- independent implementation vs the engine
run_pt "${BASE[@]}" --out "$T/a" "$F"
expect_exit 0 "sma_cross backtest runs"
for f in trades.csv portfolio.csv report.json session.json; do
  if [ -s "$T/a/$f" ]; then ok "writes $f"; else bad "writes $f"; fi
done
node - "$F" "$T/a/trades.csv" >"$T/cmp.txt" 2>&1 <<'EOF'
// SMA cross by the rules: decide at the close of bar t (fast/slow SMAs of
// closes, both warm; a cross is a sign change of fast-slow ignoring ties),
// enter when flat / exit when long, fill at the open of bar t+1.
const fs = require('fs');
const [csv, trades] = process.argv.slice(2);
const lines = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map(l => l.split(','));
const rows = lines.map(f => f.map(Number));
// closes as exact integers (scaled 1e12) so ties are ties: the sign of
// fast - slow is the sign of 3*sum10 - sum30 (fast=10, slow=30)
const big = t => { const [a, b = ''] = t.split('.'); return BigInt(a + (b + '000000000000').slice(0, 12)); };
const cl = lines.map(f => big(f[4]));
const sum = (i, n) => { let s = 0n; for (let k = i - n + 1; k <= i; k++) s += cl[k]; return s; };
let last = 0, pos = 0, pending = 0; const want = [];
for (let i = 0; i < rows.length; i++) {
  if (pending) { want.push([rows[i][0], pending > 0 ? 'buy' : 'sell', rows[i][1]]); pos = pending > 0 ? 1 : 0; pending = 0; }
  if (i < 29) continue;
  const d = 3n * sum(i, 10) - sum(i, 30);
  let x = 0;
  if (d > 0n) { x = last < 0 ? 1 : 0; last = 1; } else if (d < 0n) { x = last > 0 ? -1 : 0; last = -1; }
  if (x > 0 && !pos) pending = 1; else if (x < 0 && pos) pending = -1;
}
const got = fs.readFileSync(trades, 'utf8').trim().split('\n').slice(1).map(l => l.split(','));
let mism = 0, checked = 0;
for (let i = 0; i < Math.min(want.length, got.length); i++) {
  const [ts, side, px] = want[i], g = got[i];
  checked++;
  if (Number(g[0]) !== ts || g[3] !== side || Number(g[5]) !== px) {
    if (mism++ < 5) console.log(`fill ${i + 1}: want ${ts} ${side} ${px}, got ${g[0]} ${g[3]} ${g[5]}`);
  }
}
// all-in with no fees: the first buy spends the whole cash
const q = Number(got[0][4]), p = Number(got[0][5]);
if (!(q * p <= 10000 && q * p > 10000 * (1 - 1e-9))) { console.log(`first buy ${q}@${p} is not all-in`); mism++; }
console.log(`fills want=${want.length} got=${got.length} checked=${checked} mismatches=${mism}`);
process.exit(mism === 0 && want.length === got.length && want.length > 10 ? 0 : 1);
EOF
if [ $? -eq 0 ]; then ok "fills equal an independent sma_cross ($(tail -1 "$T/cmp.txt"))"; else bad "fills differ from independent sma_cross" "$(cat "$T/cmp.txt")"; fi

# --- determinism: same inputs and options give byte-identical files
run_pt "${BASE[@]}" --out "$T/b" "$F"
for f in trades.csv portfolio.csv report.json session.json; do
  if cmp -s "$T/a/$f" "$T/b/$f"; then ok "deterministic $f"; else bad "deterministic $f"; fi
done
# fees change the result (the comparison above can fail)
run_pt backtest --quiet --fee-bps 25 --min-quality 0 --out "$T/c" "$F"
if cmp -s "$T/a/trades.csv" "$T/c/trades.csv"; then bad "fees change trades"; else ok "fees change trades"; fi

# --- multi-file: symbols advance together, one portfolio
run_pt backtest --quiet --json --min-quality 0 --close-at-end --out "$T/m" "$F" "$D/freqtrade_XRP-ETH_1m.csv"
expect_exit 0 "two files in one run"
if node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));process.exit(Object.keys(r.engine.quality).length===2?0:1)' <<<"$OUT"; then
  ok "--json prints the report with both symbols"; else bad "--json report" "$OUT"; fi
if awk -F, 'NR>2 && $1+0<p+0 {exit 1} {p=$1}' "$T/m/portfolio.csv"; then ok "portfolio rows in event-time order"; else bad "portfolio rows in event-time order"; fi
if tail -1 "$T/m/trades.csv" | grep -q end_of_data || ! grep -q ',buy,' "$T/m/trades.csv"; then ok "--close-at-end closes with end_of_data"; else
  n_buy=$(grep -c ',buy,' "$T/m/trades.csv"); n_sell=$(grep -c ',sell,' "$T/m/trades.csv")
  if [ "$n_buy" -eq "$n_sell" ]; then ok "--close-at-end leaves nothing open"; else bad "--close-at-end"; fi
fi

# --- exit codes
run_pt backtest --out "$T/x" "$T/missing.csv"
expect_exit 3 "missing file -> 3"
run_pt backtest --bogus "$F"
expect_exit 2 "unknown flag -> 2"
run_pt backtest --sizing half "$F"
expect_exit 2 "bad --sizing -> 2"
run_pt backtest --cash abc "$F"
expect_exit 2 "bad --cash -> 2"
run_pt backtest --param fast=40 --param slow=30 --out "$T/y" "$F"
expect_exit 2 "fast >= slow -> 2"
run_pt backtest --strategy nope "$F"
expect_exit 2 "unknown strategy -> 2"
run_pt backtest --config "$T/missing.ini" "$F"
expect_exit 2 "--config of a missing file -> 2"
expect_err "missing.ini" "--config names the file"
run_pt backtest
expect_exit 2 "no files -> 2"
printf 'hello\n' >"$T/junk.csv"
run_pt backtest --out "$T/z" "$T/junk.csv"
expect_exit 3 "not candles -> 3"
finish
