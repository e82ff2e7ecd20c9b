# --allow-short on the built-ins (issue 13 item 7), against a reference
# written plainly here: a hand-made file where sma_cross fast=2 slow=3 crosses
# down while flat (a short) and later up (exit the short, then a long).
# The reference recomputes the SMAs, the crosses, the next-open fills, the
# quote sizing, the fees, the realized pnl and the cash on its own, in
# Python, and compares every trades.csv row with it (relative 1e-12).
# Also: without --allow-short the same run never sells first; rsi, bollinger
# and an external strategy that does not say "shorts":true get a warning.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
F="$T/HANDMADE_1m.csv"
# closes 10 11 12 13 12 10 8 7 9 12 14 15; open = previous close + 0.5
python3 - "$F" <<'PY'
import sys
closes = [10, 11, 12, 13, 12, 10, 8, 7, 9, 12, 14, 15]
with open(sys.argv[1], "w") as f:
    f.write("timestamp,open,high,low,close,volume\n")
    for i, c in enumerate(closes):
        o = closes[i - 1] + 0.5 if i else c
        f.write("%d,%s,%s,%s,%s,1000\n" % (1600000020000 + 60000 * i, o, max(o, c) + 0.25,
                                           min(o, c) - 0.25, c))
PY
ARGS=(--strategy sma_cross --param fast=2 --param slow=3 --sizing quote:1000 --fee-bps 10
      --cash 10000 --min-quality 0 --quiet)

run_pt backtest "${ARGS[@]}" --allow-short --out "$T/short" "$F"
expect_exit 0 "backtest --allow-short runs"
python3 - "$F" "$T/short/trades.csv" <<'PY' && ok "short trade equals the reference (entry, exit, fees, pnl, cash)" || bad "short trade differs from the reference"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
opens = [float(r["open"]) for r in rows]
closes = [float(r["close"]) for r in rows]
# the reference: SMA(2) vs SMA(3); a cross is a change of sign of the
# difference (ties carry the sign); a signal at close i fills at open i+1
fee, budget, cash, pos, entry = 0.001, 1000.0, 10000.0, 0.0, 0.0
want, sign = [], 0
for i in range(2, len(closes)):
    d = sum(closes[i-1:i+1]) / 2 - sum(closes[i-2:i+1]) / 3
    s = 1 if d > 0 else -1 if d < 0 else 0
    cross = s if s and sign and s != sign else 0
    sign = s or sign
    if not cross or i + 1 >= len(closes):
        continue
    px = opens[i + 1]
    if pos:  # close the open position first (a reversal)
        q = abs(pos)
        f = q * px * fee
        pnl = (px - entry) * pos - f
        cash += (q * px if pos > 0 else -q * px) - f
        want.append(("sell" if pos > 0 else "buy", q, px, f, pnl, cash))
        pos = 0.0
    q = budget / (px * (1 + fee))
    f = q * px * fee
    pos, entry = (q, px) if cross > 0 else (-q, px)
    cash += (-q * px if cross > 0 else q * px) - f
    want.append(("buy" if cross > 0 else "sell", q, px, f, -f, cash))
got = list(csv.DictReader(open(sys.argv[2])))
def same(a, b):
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
assert [w[0] for w in want] == ["sell", "buy", "buy"], want  # the file makes this story
assert len(got) == len(want), (len(got), want)
for g, w in zip(got, want):
    vals = (float(g["qty"]), float(g["price"]), float(g["fee"]), float(g["realized_pnl"]),
            float(g["cash_after"]))
    assert g["side"] == w[0] and all(same(a, b) for a, b in zip(vals, w[1:])), (g, w)
print("reference:", want, file=sys.stderr)
PY

run_pt backtest "${ARGS[@]}" --out "$T/long" "$F"
expect_exit 0 "backtest without --allow-short runs"
if [ "$(sed 1d "$T/long/trades.csv" | wc -l)" -gt 0 ] && cut -d, -f4 "$T/long/trades.csv" | sed 1d | \
     awk '{p += ($1 == "buy") ? 1 : -1; if (p < 0) exit 1}'; then
  ok "without --allow-short: long only (no sell before a buy)"
else bad "without --allow-short: no trades, or a position went short" "$(cat "$T/long/trades.csv")"; fi
expect_no_out "never goes short" "no warning for sma_cross"

for s in rsi bollinger; do
  run_pt backtest --strategy $s --allow-short --min-quality 0 --out "$T/$s" "$F"
  expect_err "strategy $s never goes short" "$s --allow-short warns that it never shorts"
done
cat >"$T/longonly.py" <<'PY'
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "hello": print(json.dumps({"type": "ready", "name": "longonly"}), flush=True)
    elif m["type"] == "end": break
    else: print('{"orders":[]}', flush=True)
PY
sed 's/"name": "longonly"}/"name": "shorter", "shorts": True}/' "$T/longonly.py" >"$T/shorter.py"
run_pt backtest --strategy "$T/longonly.py" --allow-short --min-quality 0 --out "$T/x1" "$F"
expect_err "strategy longonly never goes short" "an external strategy without \"shorts\" warns"
run_pt backtest --strategy "$T/shorter.py" --allow-short --min-quality 0 --out "$T/x2" "$F"
expect_exit 0 "an external strategy with \"shorts\":true runs"
expect_no_out "never goes short" "no warning when it says \"shorts\":true"
finish
