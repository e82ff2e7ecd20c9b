#!/usr/bin/env bash
# Higher timeframes (issue 13 item 5, docs/strategy-protocol.md "Higher
# timeframes"): a strategy asks for 15m, 1h and 4h and logs every candle
# message it gets, in order. On every shared data file:
#  - each higher candle equals the file resampled by the plain reference
#    below (UTC-aligned buckets: first open, max high, min low, last close,
#    summed volume), wherever no base candle of its period is missing;
#  - no higher candle arrives before its close: every base candle of its
#    period was delivered before it, none after, and count says how many;
#  - a period with no base candle at all is never delivered, an unfinished
#    last period neither.
# Then trend_filter.py (SDK on_timeframe) runs, and bad timeframes are refused.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PYTHONPATH="$PT_SOURCE_DIR/sdk/python"
DATA="${PT_SHARED_DATA:-}"
files=()
[ -d "$DATA" ] && for f in "$DATA"/*.csv; do files+=("$f"); done
[ ${#files[@]} -gt 0 ] || files=("$PT_SOURCE_DIR/data/freqtrade_UNITTEST-BTC_1m.csv")

cat >"$T/logger.py" <<'PY'
import json, os, sys
log = open(os.path.join(os.environ["TMPDIR"], "msgs.jsonl"), "w")
for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "hello":
        log.write(json.dumps({"base": m["interval"]}) + "\n")
        print(json.dumps({"type": "ready", "name": "tflog", "batch": True,
                          "timeframes": [m["interval"], "15m", "1h", "4h"]}), flush=True)
    elif m["type"] == "end":
        break
    else:
        log.write(json.dumps({k: m[k] for k in ("interval", "ts", "open", "high", "low", "close",
                                                "volume", "count") if k in m}) + "\n")
        print('{"orders":[]}', flush=True)
log.close()
PY

cat >"$T/check.py" <<'PY'
import csv, json, sys
from datetime import datetime, timezone
def ms(t):  # epoch ms, or an ISO time in UTC (the backtrader file)
    if t.isdigit():
        return int(t)
    return int(datetime.fromisoformat(t).replace(tzinfo=timezone.utc).timestamp() * 1000)
INTERVALS = {"1m": 60000, "5m": 300000, "15m": 900000, "1h": 3600000, "4h": 14400000}
msgs = [json.loads(l) for l in open(sys.argv[2])]
base = INTERVALS[msgs[0]["base"]]
# the plain reference: resample the file by UTC bucket
rows = []
with open(sys.argv[1]) as f:
    for r in csv.DictReader(f):
        rows.append((ms(r["timestamp"]), float(r["open"]), float(r["high"]), float(r["low"]),
                     float(r["close"]), float(r["volume"])))
def resample(p):
    out = {}
    for ts, o, h, l, c, v in rows:
        b = ts - ts % p
        if b not in out:
            out[b] = [o, h, l, c, v, 1]
        else:
            a = out[b]
            a[1], a[2], a[3], a[4], a[5] = max(a[1], h), min(a[2], l), c, a[4] + v, a[5] + 1
    return out
compared = 0
basemsgs = [m for m in msgs[1:] if m["interval"] == msgs[0]["base"]]
last_base = max(m["ts"] for m in basemsgs)
for name in ("15m", "1h", "4h"):
    p = INTERVALS[name]
    if p <= base:
        continue
    ref, full = resample(p), p // base
    seen = set()
    delivered = []  # base candle ts delivered so far
    for m in msgs[1:]:
        if m["interval"] != name:
            delivered.append(m["ts"]) if m["interval"] == msgs[0]["base"] else None
            continue
        b = m["ts"]
        assert b % p == 0 and b not in seen, ("not aligned or twice", name, m)
        seen.add(b)
        inside = [t for t in delivered if b <= t < b + p]
        later = [x["ts"] for x in basemsgs if b <= x["ts"] < b + p]
        # no look-ahead: every base candle of the period came before it
        assert len(inside) == len(later) == m["count"], ("delivered before its close", name, m)
        if ref[b][5] == full and m["count"] == full:
            got = [m["open"], m["high"], m["low"], m["close"], m["volume"]]
            assert got == ref[b][:5], ("differs from the reference", name, b, got, ref[b])
            compared += 1
    # every complete reference period was delivered; the unfinished last one not
    for b, a in ref.items():
        if a[5] == full:
            assert b in seen, ("complete period not delivered", name, b)
    assert not any(b + p > last_base + base for b in seen), ("unfinished period delivered", name)
assert compared > 0
print(compared)
PY

for f in "${files[@]}"; do
  mkdir -p "$T/tmp"
  TMPDIR="$T/tmp" run_pt backtest --quiet --out "$T/o.$(basename "$f")" --strategy "$T/logger.py" "$f"
  expect_exit 0 "logger runs on $(basename "$f")"
  if n=$(python3 "$T/check.py" "$f" "$T/tmp/msgs.jsonl" 2>&1); then
    ok "$(basename "$f"): $n higher candles equal the reference, none before its close"
  else bad "$(basename "$f"): higher candles wrong" "$n"; fi
  rm -rf "$T/tmp"
done

# a gap: drop minutes 10..59 of one hour and the 30th minute of another
F="$DATA/freqtrade_UNITTEST-BTC_1m.csv"  # epoch ms, 1m, about ten days
[ -f "$F" ] || F="$PT_SOURCE_DIR/data/freqtrade_UNITTEST-BTC_1m.csv"
awk -F, 'NR == 1 { print; next } { m = int($1 / 60000) % 60; h = int($1 / 3600000) % 24;
  if ((h == 3 && m >= 10) || (h == 5 && m == 30)) next; print }' "$F" >"$T/GAP_1m.csv"
mkdir -p "$T/tmp"
TMPDIR="$T/tmp" run_pt backtest --quiet --min-quality 0 --out "$T/gap" --strategy "$T/logger.py" "$T/GAP_1m.csv"
expect_exit 0 "logger runs on a file with gaps"
if n=$(python3 "$T/check.py" "$T/GAP_1m.csv" "$T/tmp/msgs.jsonl" 2>&1); then
  ok "with gaps: complete periods equal the reference, partial ones after their last candle"
else bad "with gaps: higher candles wrong" "$n"; fi
if grep -q '"interval": "1h", "ts": [0-9]*, .*"count": 10}' "$T/tmp/msgs.jsonl" &&
   grep -q '"interval": "1h", "ts": [0-9]*, .*"count": 59}' "$T/tmp/msgs.jsonl"; then
  ok "partial hours are delivered with their count (10 and 59 base candles)"
else bad "partial hours missing or miscounted" "$(grep '"1h"' "$T/tmp/msgs.jsonl" | head -8)"; fi

# ---------------------------------------------------------------- the SDK example
TF="$PT_SOURCE_DIR/examples/strategies/trend_filter.py"
run_pt backtest --quiet --out "$T/tf" --strategy "$TF" "$F"
expect_exit 0 "trend_filter.py runs"
if [ "$(sed 1d "$T/tf/trades.csv" | wc -l)" -gt 0 ] && grep -q "1h uptrend" "$T/tf/trades.csv"; then
  ok "trend_filter.py trades, entries only in a 1h uptrend"
else bad "trend_filter.py made no trades"; fi
run_pt backtest --quiet --out "$T/tf2" --strategy "$TF" --param trend=500 "$F"
if [ "$(sed 1d "$T/tf2/trades.csv" | wc -l)" -eq 0 ]; then
  ok "trend=500 hours never warms on this file: no entries (the filter is used)"
else bad "trend_filter.py entered without a warm 1h trend"; fi

# ---------------------------------------------------------------- refused
for tf in '"7m"' '"90s"' '"1w"' '"banana"'; do
  sed "s/\"timeframes\": \[m\[\"interval\"\], \"15m\", \"1h\", \"4h\"\]/\"timeframes\": [$tf]/" \
    "$T/logger.py" >"$T/bad.py"
  mkdir -p "$T/tmp"
  TMPDIR="$T/tmp" run_pt backtest --out "$T/bad$RANDOM" --strategy "$T/bad.py" "$F"
  if [ "$RC" -ne 0 ] && grep -q "timeframes" <<<"$ERR"; then ok "timeframe $tf refused with a message"
  else bad "timeframe $tf accepted (exit $RC)" "$ERR"; fi
done
finish
