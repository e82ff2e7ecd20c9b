#!/usr/bin/env bash
# External strategies (docs/strategy-protocol.md): the Python SDK's and the
# node sma_cross give the built-in's trades.csv byte for byte on every shared
# data file (default and other params, batched and one-candle lockstep);
# --param is checked against ready; hostile children (exit, crash, hang,
# garbage, over-long line, unknown intent or symbol, stderr flood) stop a
# backtest with exit 1, a message naming the strategy, the candle and the
# text, the rows written so far intact and the child reaped; in a live
# session a failed strategy is restarted with backoff and re-warmed, and
# stays down after 8 failed restarts. Columnar batches with resumes, row
# batches and lockstep decide alike.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PY="$PT_SOURCE_DIR/examples/strategies/sma_cross.py"
MJS="$PT_SOURCE_DIR/examples/strategies/sma_cross.mjs"
export PYTHONPATH="$PT_SOURCE_DIR/sdk/python"
DATA="${PT_SHARED_DATA:-}"
files=()
[ -d "$DATA" ] && for f in "$DATA"/*.csv; do files+=("$f"); done
[ ${#files[@]} -gt 0 ] || files=("$PT_SOURCE_DIR/data/freqtrade_UNITTEST-BTC_1m.csv")

same_trades() { # $1 label, $2 dir a, $3 dir b
  if [ -s "$2/trades.csv" ] && cmp -s "$2/trades.csv" "$3/trades.csv" &&
     cmp -s "$2/portfolio.csv" "$3/portfolio.csv"; then ok "$1"
  else bad "$1" "$(diff "$2/trades.csv" "$3/trades.csv" 2>&1 | head -5)"; fi
}

n=0
for f in "${files[@]}"; do
  for p in "" "--param fast=5 --param slow=21"; do
    n=$((n + 1))
    run_pt backtest --quiet --out "$T/b$n" $p "$f"
    expect_exit 0 "built-in sma_cross $p on $(basename "$f")"
    run_pt backtest --quiet --out "$T/p$n" --strategy "$PY" $p "$f"
    expect_exit 0 "sma_cross.py $p on $(basename "$f")"
    same_trades "sma_cross.py = built-in (batched) $p $(basename "$f")" "$T/b$n" "$T/p$n"
    # batches must decide exactly like one candle at a time
    PT_STRATEGY_BATCH=0 run_pt backtest --quiet --out "$T/l$n" --strategy "$PY" $p "$f"
    same_trades "sma_cross.py = built-in (lockstep) $p $(basename "$f")" "$T/b$n" "$T/l$n"
    [ "$n" -le 2 ] || continue
    PT_STRATEGY_PIN=0 run_pt backtest --quiet --out "$T/u$n" --strategy "$PY" $p "$f"
    same_trades "sma_cross.py = built-in (not pinned) $p $(basename "$f")" "$T/b$n" "$T/u$n"
  done
  run_pt backtest --quiet --out "$T/m$n" --strategy "$MJS" "$f"
  expect_exit 0 "sma_cross.mjs on $(basename "$f")"
  same_trades "sma_cross.mjs = built-in $(basename "$f")" "$T/b$((n - 1))" "$T/m$n"
done
F="${files[0]}"

# ---------------------------------------------------------------- parameters
run_pt strategies "$PY"
expect_exit 0 "strategies PATH describes a Python strategy"
expect_out "fast .*default 10 .*integer \[1, 1000\]" "its declared parameter and range"
run_pt backtest --quiet --out "$T/e1" --strategy "$PY" --param nope=3 "$F"
expect_exit 2 "unknown parameter exits 2"
expect_err "unknown parameter 'nope' (known: fast, slow)" "names the key and the known ones"
run_pt backtest --quiet --out "$T/e2" --strategy "$PY" --param fast=5000 "$F"
expect_exit 2 "out of range exits 2"
expect_err "'fast' = 5000 out of range \[1, 1000\]" "names the range"
run_pt backtest --quiet --out "$T/e3" --strategy "$PY" --param fast=2.5 "$F"
expect_exit 2 "non-integer exits 2"
expect_err "must be a whole number" "says whole number"
cat >"$T/noparams.py" <<'PY'
import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "hello": print(json.dumps({"type": "ready"}), flush=True)
    elif m["type"] == "end": break
    else: print('{"orders":[]}', flush=True)
PY
run_pt backtest --quiet --out "$T/e4" --strategy "$T/noparams.py" --param x=1 "$F"
expect_exit 2 "a strategy without params accepts none"
expect_err "unknown parameter 'x' (known: none)" "says none"
run_pt backtest --out "$T/e5" --strategy "$PY" --param fast=40 "$F"
expect_exit 1 "a parameter set the strategy refuses"
expect_err "refused to start: fast (40) must be < slow (30)" "with the strategy's reason"

printf '[strategy]\nname = %s\nnope = 5\n' "$PY" >"$T/bad.ini"
run_pt config check "$T/bad.ini"
expect_exit 2 "config check runs the program and checks [strategy] keys"
expect_err "unknown parameter 'nope'" "config check names the key"
printf '[strategy]\nname = %s\nfast = 5\n' "$PY" >"$T/good.ini"
run_pt config check "$T/good.ini"
expect_exit 0 "config check accepts declared keys"

# ---------------------------------------------------------------- rsi_revert.py: stops
RSI="$PT_SOURCE_DIR/examples/strategies/rsi_revert.py"
run_pt backtest --quiet --out "$T/rb" --strategy rsi "$F"
run_pt backtest --quiet --out "$T/rp" --strategy "$RSI" "$F"
expect_exit 0 "rsi_revert.py runs"
same_trades "rsi_revert.py without a stop = built-in rsi" "$T/rb" "$T/rp"
run_pt backtest --quiet --out "$T/rs" --strategy "$RSI" --param stop_pct=0.3 "$F"
expect_exit 0 "rsi_revert.py with a stop-loss"
if grep -q ",stop_loss," "$T/rs/trades.csv"; then ok "the engine fills its stop-losses"
else bad "the engine fills its stop-losses" "$(head -3 "$T/rs/trades.csv")"; fi
PT_STRATEGY_BATCH=0 run_pt backtest --quiet --out "$T/rl" --strategy "$RSI" --param stop_pct=0.3 "$F"
same_trades "rsi_revert.py with stops: batched = lockstep" "$T/rs" "$T/rl"

# ---------------------------------------------------------------- engine indicators on the wire
cat >"$T/ind.py" <<'PY'
import json, sys
from papertrader import Strategy, param, run, sma, ema, rsi, atr, bollinger, donchian, macd
class Ind(Strategy):
    params = {"n": param(14, 2, 100, integer=True), "k": param(2, 0.5, 5)}
    indicators = {"s": sma("n"), "e": ema(5), "r": rsi("n"), "a": atr(), "bb": bollinger("n", "k"),
                  "d": donchian(10), "m": macd(), "early": sma(10)}
    def setup(self):
        self.i = 0
    def on_candle(self, c):
        self.i += 1
        if self.i in (5, 200):
            sys.stderr.write("IND%d %s\n" % (self.i, json.dumps(c.indicators, sort_keys=True)))
run(Ind)
PY
run_pt backtest --out "$T/ind" --strategy "$T/ind.py" --param n=20 --param k=2.5 "$F"
expect_exit 0 "a strategy asking for every indicator kind"
expect_err 'IND5 {"a": null, "bb": {"lower": null, "middle": null, "upper": null}, "d": {"lower": null'   "not warm: null"
expect_err 'IND200 {"a": [0-9.e-]*, "bb": {"lower": [0-9.e-]*, "middle": [0-9.e-]*, "upper": [0-9.e-]*}, "d": {"lower": [0-9.e-]*, "middle": [0-9.e-]*, "upper": [0-9.e-]*}, "e": [0-9.e-]*, "early": [0-9.e-]*, "m": {"hist": [0-9.e-]*, "macd": [0-9.e-]*, "signal": [0-9.e-]*}, "r": [0-9.e-]*, "s": [0-9.e-]*}' \
  "warm: every value, multi-valued ones as objects"

# ---------------------------------------------------------------- batch forms
# columnar batches with resumes, row batches and lockstep decide alike: a
# strategy on multi-output indicators, two symbols in one run
cat >"$T/forms.py" <<'PY'
import os
from papertrader import Strategy, param, run, bollinger, macd, rsi, buy, sell
class Forms(Strategy):
    name = "forms"
    columns = os.environ.get("FORMS_COLUMNS", "1") == "1"
    params = {"n": param(20, 2, 100, integer=True)}
    indicators = {"bb": bollinger("n", 2), "m": macd(), "r": rsi(14)}
    def on_candle(self, c):
        bb, m, r = c.indicators["bb"], c.indicators["m"], c.indicators["r"]
        if bb["lower"] is None or m["hist"] is None or r is None:
            return None
        if c.position.qty == 0 and c.close < bb["lower"]:
            return [buy(reason="below band")]
        if c.position.qty > 0 and (c.close > bb["middle"] or r > 70 or m["hist"] < -1):
            return [sell(reason="back to middle")]
        return None
run(Forms)
PY
for form in "columns:1:1" "rows:1:0" "lockstep:0:1"; do
  IFS=: read -r label batch cols <<<"$form"
  FORMS_COLUMNS=$cols PT_STRATEGY_BATCH=$batch run_pt backtest --quiet --min-quality 0 --out "$T/f$label" \
    --strategy "$T/forms.py" "${files[@]:0:2}"
  expect_exit 0 "forms.py, $label"
done
if [ "$(grep -c ',' "$T/flockstep/trades.csv")" -gt 20 ]; then ok "forms.py trades ($(wc -l <"$T/flockstep/trades.csv") rows)"
else bad "forms.py trades too little to compare" "$(wc -l <"$T/flockstep/trades.csv")"; fi
same_trades "columnar batches with resumes = lockstep" "$T/flockstep" "$T/fcolumns"
same_trades "row batches = lockstep" "$T/flockstep" "$T/frows"

# ---------------------------------------------------------------- a live session
# demo runs sma_cross.py live; the built-in replaying the session's own
# recording must write the same trades.csv (the replay guarantee of docs/session.md)
run_pt demo --no-dashboard --quiet --speed 200000 --out "$T/live" --strategy "$PY"
expect_exit 0 "demo with sma_cross.py"
run_pt backtest --quiet --out "$T/relive" --order "$T/live/candles/.order" "$T"/live/candles/*.csv
expect_exit 0 "built-in replays the demo's recording"
same_trades "live sma_cross.py = built-in on the same candles" "$T/relive" "$T/live"

# live: a strategy that dies is started again and re-warmed, and trades on
cat >"$T/once.py" <<'PY'
import os, sys
from papertrader import Strategy, param, run, sma, buy, sell, Cross
MARK = sys.argv[0] + ".crashed"
class Once(Strategy):
    name = "once"
    params = {"at": param(300, 1, 100000, integer=True)}
    indicators = {"fast": sma(10), "slow": sma(30)}
    def setup(self):
        self.n, self.x = 0, Cross()
    def on_candle(self, c):
        self.n += 1
        if self.n == self.p.at and not os.path.exists(MARK):
            open(MARK, "w").close()
            os._exit(3)  # once: the restarted program goes on
        f, s = c.indicators["fast"], c.indicators["slow"]
        if f is None or s is None: return None
        x = self.x.update(f - s)
        if x > 0 and c.position.qty == 0: return [buy(reason="cross up")]
        if x < 0 and c.position.qty > 0: return [sell(reason="cross down")]
run(Once)
PY
run_pt demo --no-dashboard --speed 200000 --duration 4 --out "$T/once" --strategy "$T/once.py"
expect_exit 0 "live: the session survives a strategy that exits"
expect_err "strategy once: on candle UNITTESTBTC [0-9T:.-]*Z: .*exit" "live: the failure names the candle"
expect_err "strategy_restart: strategy once restarted (attempt 1 of 8), re-warmed from 31 candles" \
  "live: restarted at once, re-warmed from its warm-up's worth of candles"
restart_at=$(sed -n 's/.* \([0-9T:.-]*Z\) strategy_restart: strategy once restarted.*/\1/p' <<<"$ERR" | head -1)
last_trade=$(tail -1 "$T/once/trades.csv" | cut -d, -f2)
if [ -n "$restart_at" ] && [[ "$last_trade" > "$restart_at" ]]; then ok "live: it trades after the restart ($restart_at < $last_trade)"
else bad "live: it trades after the restart" "restart '$restart_at', last trade '$last_trade'"; fi
if ps -eo args | grep -v grep | grep -q "$T/once.py"; then bad "live: the restarted child was reaped at the end"
else ok "live: the restarted child was reaped at the end"; fi

# ---------------------------------------------------------------- caps
cat >"$T/caps.py" <<'PY'
import json, sys
N, K, O = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
done = False
for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "hello":
        print(json.dumps({"type": "ready", "name": "caps",
            "params": [{"name": "p%d" % i, "default": i, "min": 0, "max": 1000} for i in range(N)],
            "indicators": [{"name": "i%d" % i, "kind": "sma", "period": i + 1} for i in range(K)]}), flush=True)
    elif m["type"] == "end":
        break
    else:
        warm = m["indicators"]["i%d" % (K - 1)] is not None
        o = [{"intent": "enter_long", "type": "limit", "limit_price": m["close"] / 2, "tif_candles": 1}] * O
        print(json.dumps({"orders": o if warm and not done else []}), flush=True)
        done = done or warm
PY
printf '#!/bin/sh
exec python3 "%s" 64 32 16
' "$T/caps.py" >"$T/caps_ok"
printf '#!/bin/sh
exec python3 "%s" 65 1 0
' "$T/caps.py" >"$T/caps_params"
printf '#!/bin/sh
exec python3 "%s" 1 33 0
' "$T/caps.py" >"$T/caps_ind"
printf '#!/bin/sh
exec python3 "%s" 1 1 17
' "$T/caps.py" >"$T/caps_orders"
chmod +x "$T"/caps_*
run_pt backtest --json --out "$T/c1" --strategy "$T/caps_ok" --param p63=7 "$F"
expect_exit 0 "64 parameters, 32 indicators, 16 orders in one answer"
expect_out '"orders":[[:space:]]*16,' "all 16 orders were placed"
run_pt strategies "$T/caps_params"
expect_exit 2 "65 parameters refused"
expect_err "at most 64" "says the bound"
run_pt strategies "$T/caps_ind"
expect_exit 2 "33 indicators refused"
run_pt backtest --out "$T/c2" --strategy "$T/caps_orders" "$F"
expect_exit 1 "17 orders in one answer stop the run"
expect_err "17 orders in one answer (at most 16)" "says the bound"

# ---------------------------------------------------------------- hostile children
cat >"$T/hostile.py" <<'PY'
import json, os, signal, sys, time
from papertrader import Strategy, param, run, buy, sell, sma, Cross
class Hostile(Strategy):
    name = "hostile"
    params = {"mode": param(0, 0, 9, integer=True), "after": param(300, 1, 10**9, integer=True)}
    indicators = {"f": sma(10), "s": sma(30)}
    def setup(self):
        self.n, self.x = 0, Cross()
    def on_candle(self, c):
        self.n += 1
        m = self.p.mode
        if m == 8 and self.n % 50 == 0:
            sys.stderr.write(("noise %d " % self.n) * 1000 + "\n")
        if self.n == self.p.after:
            if m == 1: sys.exit(3)
            if m == 2: os.kill(os.getpid(), signal.SIGSEGV)
            if m == 3: time.sleep(3600)
            if m == 4: sys.stdout.write("this is not json\n"); sys.stdout.flush(); return None
            if m == 5: sys.stdout.write("x" * 70000 + "\n"); sys.stdout.flush(); return None
            if m == 6: return [{"intent": "buy_the_moon"}]
            if m == 7: return [{"intent": "enter_long", "symbol": "NOPE"}]
            if m == 9:  # two lines in one write: both are there when the engine reads the first
                sys.stdout.write('{"orders":[],"extra":1}\n{"orders":[],"extra":2}\n')
        f, s = c.indicators["f"], c.indicators["s"]
        if f is None or s is None: return None
        x = self.x.update(f - s)
        if x > 0 and c.position.qty == 0: return [buy(reason="cross up")]
        if x < 0 and c.position.qty > 0: return [sell(reason="cross down")]
run(Hostile)
PY
# the hostile strategy without a fault makes the built-in's trades
run_pt backtest --quiet --out "$T/h0" --strategy "$T/hostile.py" "$F"
expect_exit 0 "hostile.py mode 0 runs"
same_trades "hostile.py mode 0 = built-in" "$T/b1" "$T/h0"
check_fault() { # $1 mode, $2 label, $3 expected text; extra args: flags
  local mode=$1 label=$2 want=$3
  shift 3
  for batch in 1 0; do
    PT_STRATEGY_BATCH=$batch run_pt backtest --out "$T/h$mode$batch" --strategy "$T/hostile.py" \
      --param mode="$mode" --param after=700 "$@" "$F"
    expect_exit 1 "$label (batch=$batch): exit 1"
    expect_err "strategy hostile: on candle [^ ]* 20[0-9-]*T[0-9:.]*Z: .*$want" \
      "$label (batch=$batch): names strategy, candle and why"
    local rows; rows=$(($(wc -l <"$T/h$mode$batch/trades.csv") - 1))
    if [ "$rows" -gt 0 ] && head -n $((rows + 1)) "$T/b1/trades.csv" | cmp -s - "$T/h$mode$batch/trades.csv"
    then ok "$label (batch=$batch): $rows rows kept, as the built-in wrote them"
    else bad "$label (batch=$batch): rows kept" "$(tail -2 "$T/h$mode$batch/trades.csv")"; fi
  done
}
check_fault 1 "exit" "strategy exited with status 3"
check_fault 2 "crash" "killed by signal 11"
check_fault 3 "hang" "no answer within 1000 ms" --strategy-timeout 1000
check_fault 4 "malformed line" "answer is not {\"orders\":\[...\]}: 'this is not json'"
check_fault 5 "over-long line" "line longer than 65536 bytes: 'xxxxxxxx.*\[cut\]'"
check_fault 6 "unknown intent" "unknown \"intent\".*buy_the_moon"
check_fault 7 "unknown symbol" "unknown symbol 'NOPE'"
check_fault 9 "two answers" "more than one answer line to the previous message: '{\"orders\":"
# a resume answered at a candle before the one resumed from is refused
cat >"$T/backwards.py" <<'PY'
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "hello":
        print(json.dumps({"type": "ready", "name": "backwards", "batch": True, "columns": True, "resume": True}), flush=True)
    elif m["type"] == "batch":
        buy = m["positions"][0]["qty"] == 0
        print(json.dumps({"orders": [{"intent": "enter_long" if buy else "exit_long"}], "at": 5}), flush=True)
    elif m["type"] == "resume":
        print(json.dumps({"orders": [{"intent": "exit_long"}], "at": m["from"] - 1}), flush=True)
    elif m["type"] == "end":
        break
PY
run_pt backtest --out "$T/bw" --strategy "$T/backwards.py" "$F"
expect_exit 1 "a resume answered before its start: exit 1"
expect_err "strategy backwards: on candle .*a resumed batch's answer needs \"at\" >= 6, got 5" "names the rule"
if ps -eo args | grep -v grep | grep -q "$T/hostile.py"; then bad "every child reaped"
else ok "every child reaped"; fi

# live: a hang past [session] strategy_timeout_ms opens the circuit breaker, the session goes on
run_pt demo --no-dashboard --speed 200000 --duration 4 --out "$T/hlive" --strategy "$T/hostile.py" \
  --param mode=3 --param after=50 --set session.strategy_timeout_ms=300
expect_exit 0 "live: the session survives a hung strategy"
expect_err "strategy hostile: on candle UNITTESTBTC [0-9T:.-]*Z: no answer within 300 ms" "live: names strategy and candle"
expect_err "circuit_breaker: opened: strategy hostile failed; entries blocked until it restarts" "live: the circuit breaker opens"
expect_err "strategy_restart: strategy hostile restarted (attempt 1 of 8)" "live: the hung strategy is restarted"
if ps -eo args | grep -v grep | grep -q "$T/hostile.py"; then bad "live: the hung child was killed"
else ok "live: the hung child was killed"; fi

# live: a strategy whose restarts all fail stays down after 8 attempts, the session goes on
cat >"$T/dies.py" <<'PY'
import os, sys
MARK = sys.argv[0] + ".crashed"
if os.path.exists(MARK):
    sys.exit(4)  # every restart fails at once
from papertrader import Strategy, run
class Dies(Strategy):
    name = "dies"
    def setup(self):
        self.n = 0
    def on_candle(self, c):
        self.n += 1
        if self.n == 100:
            open(MARK, "w").close()
            os._exit(3)
run(Dies)
PY
run_pt demo --no-dashboard --speed 200000 --duration 6 --out "$T/dies" --strategy "$T/dies.py"
expect_exit 0 "live: the session survives a strategy that cannot be restarted"
expect_err "strategy_restart: strategy dies: restart 1 of 8 failed" "live: a failed restart is an alert"
expect_err "strategy_down: strategy dies failed 8 restarts in a row: it stays down" "live: it gives up after 8"
if [ "$(grep -c 'strategy_restart: strategy dies: restart' <<<"$ERR")" -eq 14 ]; then ok "live: 7 failed attempts before the last (alert and log line each)"
else bad "live: 7 failed attempts before the last" "$(grep -c 'strategy_restart: strategy dies: restart' <<<"$ERR")"; fi

run_pt backtest --out "$T/h8" --strategy "$T/hostile.py" --param mode=8 "$F"
expect_exit 0 "stderr flood: the run completes"
same_trades "stderr flood: same trades" "$T/b1" "$T/h8"
expect_err "strategy hostile: noise 50 noise" "stderr is logged with the strategy's name"
expect_err "\[line cut\]" "over-long stderr lines are cut"
expect_err "further stderr bytes not logged (bound 65536)" "stderr is bounded in total"
finish
