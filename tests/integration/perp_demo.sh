# demo --market perp (issue 16 "done when"): the built-in sample through the
# live path on a perp market: the symmetric sma_cross goes short as well as
# long, trades.csv and portfolio.csv carry the perp columns at the end,
# funding.csv is there, and the session says that funding is taken as zero.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
run_pt demo --market perp --leverage 3 --speed 200000 --port 0 --out "$T/d"
expect_exit 0 "demo --market perp runs to the end of the data"
expect_err "funding is taken as zero" "it says funding is taken as zero"
if head -1 "$T/d/trades.csv" | grep -q ',seq,leverage,margin,liquidation_price$' &&
   head -1 "$T/d/portfolio.csv" | grep -q ',quality,margin,maintenance_margin,funding$'; then
  ok "perp columns at the end of trades.csv and portfolio.csv"
else
  bad "perp columns" "$(head -1 "$T/d/trades.csv")"
fi
if [ "$(head -1 "$T/d/funding.csv")" = "ts,time,symbol,rate,mark_price,position_qty,payment" ]; then
  ok "funding.csv has its header"; else bad "funding.csv header"; fi
python3 - "$T/d/trades.csv" <<'PY' && ok "both sides traded: short entries and long entries, leverage 3" || bad "one side only"
import csv, sys
pos, longs, shorts, lev = 0.0, 0, 0, set()
for r in csv.DictReader(open(sys.argv[1])):
    q = float(r["qty"]) * (1 if r["side"] == "buy" else -1)
    if pos == 0:
        longs += q > 0
        shorts += q < 0
    pos = 0.0 if abs(pos + q) < 1e-9 * abs(q) else pos + q
    lev.add(r["leverage"])
sys.exit(0 if longs and shorts and lev == {"3"} else 1)
PY
finish
