#!/usr/bin/env bash
# Scope "portfolio" (issue 13 item 6, docs/strategy-protocol.md "Scope
# portfolio"): one instance gets every symbol's candles in engine order, sees
# cash, equity and every position, and may order any symbol it has seen.
#  - on two shared files: one child, candles of both symbols in time order,
#    the portfolio object equal to portfolio.csv (cash, equity) and to the
#    positions replayed from trades.csv, every symbol seen listed;
#  - an order for the other symbol fills on that symbol's next candle;
#  - an unknown symbol stops the run (exit 1) naming it;
#  - examples/strategies/pairs.py trades both legs.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PYTHONPATH="$PT_SOURCE_DIR/sdk/python"
DATA="${PT_SHARED_DATA:-$PT_SOURCE_DIR/data}"
A="$DATA/freqtrade_XRP-ETH_1m.csv"
B="$DATA/freqtrade_UNITTEST-BTC_1m.csv"
[ -f "$A" ] || A="$PT_SOURCE_DIR/data/freqtrade_UNITTEST-BTC_1m.csv"
[ -f "$B" ] || B="$DATA/freqtrade_ADA-BTC_5m.csv"
# a partner that overlaps A in time: A's prices times 2 with a slow wobble
python3 - "$A" "$T/PARTNER_1m.csv" <<'PY'
import csv, math, sys
rows = list(csv.reader(open(sys.argv[1])))
with open(sys.argv[2], "w") as f:
    f.write(",".join(rows[0]) + "\n")
    for i, r in enumerate(rows[1:]):
        k = 2 * (1 + 0.01 * math.sin(i / 40.0))
        f.write("%s,%r,%r,%r,%r,%s\n" % (r[0], float(r[1]) * k, float(r[2]) * k, float(r[3]) * k,
                                         float(r[4]) * k, r[5]))
PY

# the recorder: logs every candle; every 300th candle buys or sells the
# candle's symbol; $TMPDIR/mode N: on its Nth candle orders the other symbol
cat >"$T/rec.py" <<'PY'
import json, os, sys
log = open(os.path.join(os.environ["TMPDIR"], "msgs.jsonl"), "w")
mode = os.path.join(os.environ["TMPDIR"], "mode")  # the child's environment is closed
other = open(mode).read().strip() if os.path.exists(mode) else ""
n, seen = 0, []
for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "hello":
        log.write(json.dumps({"hello": os.getpid()}) + "\n")
        print(json.dumps({"type": "ready", "name": "rec", "scope": "portfolio", "batch": True}),
              flush=True)
        continue
    if m["type"] == "end":
        break
    n += 1
    log.write(json.dumps({k: m[k] for k in ("symbol", "ts", "portfolio", "position")}) + "\n")
    if m["symbol"] not in seen:
        seen.append(m["symbol"])
    orders = []
    if other == "NOPE" and n == 50:
        orders = [{"intent": "enter_long", "symbol": "NOPE_NEVER_SEEN"}]
    elif other.isdigit() and n == int(other) and len(seen) == 2:
        o = [s for s in seen if s != m["symbol"]][0]
        orders = [{"intent": "enter_long", "symbol": o, "reason": "cross"}]
    elif not other and n % 300 == 0:
        held = m["portfolio"]["positions"][m["symbol"]]["qty"]
        orders = [{"intent": "exit_long" if held > 0 else "enter_long", "symbol": m["symbol"]}]
    print(json.dumps({"orders": orders}), flush=True)
log.close()
PY

mkdir -p "$T/t1"
TMPDIR="$T/t1" run_pt backtest --quiet --sizing percent:40 --out "$T/o1" --strategy "$T/rec.py" "$A" "$B"
expect_exit 0 "portfolio recorder on two shared files"
if out=$(python3 - "$T/t1/msgs.jsonl" "$T/o1" "$A" "$B" <<'PY' 2>&1
import csv, json, os, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
assert len([m for m in msgs if "hello" in m]) == 1, "one instance, one hello"
c = [m for m in msgs if "symbol" in m]
names = {os.path.basename(p)[:-4] for p in sys.argv[3:5]}
assert {m["symbol"] for m in c} == names, ("both symbols", {m["symbol"] for m in c})
assert all(a["ts"] <= b["ts"] for a, b in zip(c, c[1:])), "engine (time) order"
rows = {int(r["ts"]): r for r in csv.DictReader(open(os.path.join(sys.argv[2], "portfolio.csv")))}
fills = list(csv.DictReader(open(os.path.join(sys.argv[2], "trades.csv"))))
assert len(fills) >= 4, "the recorder traded"
def same(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
seen, qty, fi = [], {}, 0
for m in c:
    if m["symbol"] not in seen:
        seen.append(m["symbol"])
    while fi < len(fills) and int(fills[fi]["ts"]) <= m["ts"]:  # fills happen before the strategy
        f = fills[fi]
        qty[f["symbol"]] = qty.get(f["symbol"], 0) + float(f["qty"]) * (1 if f["side"] == "buy" else -1)
        fi += 1
    p = m["portfolio"]
    assert sorted(p["positions"]) == sorted(seen), ("every symbol seen", m)
    for s, v in p["positions"].items():
        assert same(v["qty"], qty.get(s, 0)), ("position", s, m, qty)
    assert p["positions"][m["symbol"]] == m["position"]
    r = rows[m["ts"]]
    assert same(p["cash"], float(r["cash"])) and same(p["equity"], float(r["equity"])), (m, r)
print(len(c))
PY
); then ok "one instance, time order, portfolio = portfolio.csv and trades.csv ($out candles)"
else bad "portfolio view wrong" "$out"; fi

P="$T/PARTNER_1m.csv"
mkdir -p "$T/t2"
echo 101 >"$T/t2/mode"
TMPDIR="$T/t2" run_pt backtest --quiet --out "$T/o2" --strategy "$T/rec.py" "$A" "$P"
expect_exit 0 "an order for the other symbol"
if out=$(python3 - "$T/t2/msgs.jsonl" "$T/o2/trades.csv" <<'PY' 2>&1
import csv, json, sys
c = [json.loads(l) for l in open(sys.argv[1])]
c = [m for m in c if "symbol" in m]
at = c[100]  # the 101st candle ordered the other symbol
other = [m for m in c if m["symbol"] != at["symbol"]][0]["symbol"]
nxt = [m["ts"] for m in c[101:] if m["symbol"] == other][0]
f = list(csv.DictReader(open(sys.argv[2])))
assert len(f) == 1 and f[0]["symbol"] == other and f[0]["reason"] == "cross", f
assert int(f[0]["ts"]) == nxt and nxt >= at["ts"], (f[0]["ts"], nxt, at["ts"])
PY
); then ok "it fills on the other symbol's next candle"
else bad "cross-symbol order wrong" "$out"; fi

mkdir -p "$T/t3"
echo NOPE >"$T/t3/mode"
TMPDIR="$T/t3" run_pt backtest --out "$T/o3" --strategy "$T/rec.py" "$A" "$P"
expect_exit 1 "an unknown symbol stops the backtest"
expect_err "unknown symbol 'NOPE_NEVER_SEEN'" "the error names the symbol"
expect_err "strategy rec: on candle" "and the strategy and the candle"

PAIRS="$PT_SOURCE_DIR/examples/strategies/pairs.py"
run_pt backtest --quiet --sizing percent:45 --out "$T/p1" --strategy "$PAIRS" "$A" "$P"
expect_exit 0 "pairs.py on a pair"
if [ "$(cut -d, -f3 "$T/p1/trades.csv" | sed 1d | sort -u | wc -l)" -eq 2 ]; then
  ok "pairs.py trades both legs"
else bad "pairs.py did not trade both legs" "$(head -5 "$T/p1/trades.csv")"; fi
run_pt backtest --quiet --out "$T/p2" --strategy "$PAIRS" "$A" "$B"
expect_exit 0 "pairs.py on two shared files that do not overlap in time"
finish
