#!/usr/bin/env bash
# Long-tier soak of the dashboard server (docs/faults.md).
# Not run by ctest: `make soak` or tests/soak/soak.sh BUILD_DIR.
#   SOAK_SECONDS  run time (default 1800)       SOAK_WARMUP  seconds ignored for the slope
#   SOAK_OUT      output folder (default BUILD_DIR/soak-<time>)   SOAK_MODE  demo|driver (default: auto)
#   SOAK_FAULTS   the demo's --faults spec (default: every kind the simulator has, oversize included)
# Runs `papertrader demo` (exchange simulator with faults + live session + dashboard) when
# the binary has it, else bench/wss_fanout at a steady rate; 5 dashboard clients churn and
# one never reads (tests/soak/soak_clients.mjs). Samples RSS and fd count every 10 s into
# samples.csv and fails if the RSS slope after warm-up exceeds 1 MB/h or the fd count grows.
set -u
BUILD=$(cd "${1:-build}" && pwd) || { echo "soak: no build dir ${1:-build}"; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
PT_BIN=${PT_BIN:-$BUILD/papertrader}
DRIVER=$BUILD/bench/wss_fanout
SECS=${SOAK_SECONDS:-1800}
WARM=${SOAK_WARMUP:-$(( SECS / 4 < 300 ? SECS / 4 : 300 ))}
OUT=${SOAK_OUT:-$BUILD/soak-$(date -u +%Y%m%dT%H%M%SZ)}
export NODE_PATH=${NODE_PATH:-$SRC/node_modules}
# An ASan build keeps up to 256 MB of freed blocks in quarantine, which RSS
# would show as growth for a long time; 4 MB keeps the slope about the server.
# A plain build ignores the variable.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
mkdir -p "$OUT" || exit 2
CSV=$OUT/samples.csv
PID="" CLI=""
cleanup() {
  [ -n "$CLI" ] && kill "$CLI" 2>/dev/null
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
}
trap cleanup EXIT INT TERM

MODE=${SOAK_MODE:-}
if [ -z "$MODE" ]; then
  if "$PT_BIN" demo --help >/dev/null 2>&1; then MODE=demo; else MODE=driver; fi
fi
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
if [ "$MODE" = demo ]; then
  # The session stops at the end of its data, so the speed is the highest at
  # which the shipped CSV (13,681 one-minute candles) lasts the run; copies of
  # it, replayed as several symbols, multiply the event rate instead.
  CSV_IN=$SRC/data/freqtrade_UNITTEST-BTC_1m.csv
  NSYM=${SOAK_SYMBOLS:-4}
  { [ "$NSYM" -ge 1 ] && [ "$NSYM" -le 64 ]; } 2>/dev/null || NSYM=4
  SPEED=$(( 13681 * 60 / (SECS + 60) )); [ "$SPEED" -lt 1 ] && SPEED=1
  SYMS="" FILES=()
  for i in $(seq "$NSYM"); do SYMS="$SYMS${SYMS:+,}SOAK$i"; FILES+=("$CSV_IN"); done
  # Every kind of feed fault the simulator has (docs/exchange-sim.md), all through the run.
  FAULTS=${SOAK_FAULTS:-drop=30s,shutdown=100s,stall=5s@45s,dup=0.02,ooo=0.01,skip=0.01,malformed=0.005,oversize=0.0003,http429=0.02,http418=0.002,retry=1,nohandshake=0.05}
  "$PT_BIN" demo --port "$PORT" --out "$OUT/session" --speed "$SPEED" --duration $((SECS + 30)) \
    --symbols "$SYMS" --updates 8 --faults "$FAULTS" \
    --heartbeat 0 --fsync none "${FILES[@]}" >"$OUT/server.out" 2>"$OUT/server.err" &
  PID=$!
  for _ in $(seq 100); do grep -q "^dashboard: http://127.0.0.1:$PORT/" "$OUT/server.out" && break; sleep 0.1; done
  grep -q "^dashboard: http://127.0.0.1:$PORT/" "$OUT/server.out" || PORT=""
  echo "soak: demo at speed $SPEED, $NSYM symbols ($SYMS)"
else
  "$DRIVER" --port "$PORT" --rate 50 --candle-ms 500 --trade-every 2 --pad 2000 \
    >"$OUT/server.out" 2>"$OUT/server.err" &
  PID=$!
  for _ in $(seq 100); do grep -q '^READY' "$OUT/server.out" && break; sleep 0.1; done
  grep -q '^READY' "$OUT/server.out" || PORT=""
fi
if [ -z "$PORT" ] || ! kill -0 "$PID" 2>/dev/null; then
  echo "soak: $MODE did not start"; tail -20 "$OUT/server.err"; exit 1
fi
echo "soak: mode $MODE, pid $PID, dashboard port $PORT, ${SECS}s (warm-up ${WARM}s), output $OUT"

node "$HERE/soak_clients.mjs" "$PORT" "$SECS" >"$OUT/clients.out" 2>&1 &
CLI=$!

echo "t_s,rss_kb,fds" >"$CSV"
T0=$(date +%s)
while :; do
  NOW=$(( $(date +%s) - T0 ))
  kill -0 "$PID" 2>/dev/null || { echo "soak: server process died at ${NOW}s"; tail -20 "$OUT/server.err"; exit 1; }
  RSS=$(awk '/^VmRSS:/{print $2}' "/proc/$PID/status" 2>/dev/null)
  FDS=$(ls "/proc/$PID/fd" 2>/dev/null | wc -l)
  echo "$NOW,${RSS:-0},$FDS" >>"$CSV"
  [ "$NOW" -ge "$SECS" ] && break
  sleep $(( SECS - NOW < 10 ? (SECS - NOW > 0 ? SECS - NOW : 1) : 10 ))
done
wait "$CLI"; CLIRC=$?; CLI=""
health=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/health" || true)
# Stop it now, so an exit-time report (LeakSanitizer) is in server.err before the checks.
kill -TERM "$PID" 2>/dev/null
for _ in $(seq 150); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID" 2>/dev/null && { echo "soak: server ignored SIGTERM for 15 s"; kill -KILL "$PID"; }
wait "$PID"; SRVRC=$?; PID=""

# Least-squares slope of RSS over samples after warm-up, in KB/h; the fd
# count compares the minimum of the first and last thirds after warm-up
# (minimums, because the churning clients come and go between samples).
# RSS grows in allocator steps of a few hundred KB, which a short run's slope
# turns into MB/h: the plateau growth (median of the last third minus median
# of the first third) is reported too, and either being small passes.
read -r SLOPE N FD_FIRST FD_LAST FD_MAX RSS_END STEP < <(awk -F, -v w="$WARM" '
  function med(lo, hi,   i, j, t, c, v) { c = 0
    for (i = lo; i <= hi; i++) v[++c] = y[i]
    for (i = 2; i <= c; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j+1] = v[j]; v[j+1] = t }
    return v[int((c + 1) / 2)] }
  NR>1 && $1>=w {
    n++; x[n]=$1; y[n]=$2; f[n]=$3 }
  END { if (n < 3) { print "nan", n, 0, 0, 0, 0, "nan"; exit }
    for (i=1;i<=n;i++){sx+=x[i];sy+=y[i]} mx=sx/n; my=sy/n
    for (i=1;i<=n;i++){sxy+=(x[i]-mx)*(y[i]-my); sxx+=(x[i]-mx)^2}
    k=int(n/3); if (k<1) k=1; a=1e9; b=1e9; m=0
    for (i=1;i<=k;i++) if (f[i]<a) a=f[i]
    for (i=n-k+1;i<=n;i++) if (f[i]<b) b=f[i]
    for (i=1;i<=n;i++) if (f[i]>m) m=f[i]
    slope = 0; if (sxx > 0) slope = sxy / sxx * 3600
    printf "%.1f %d %d %d %d %d %d\n", slope, n, a, b, m, y[n], med(n-k+1, n) - med(1, k) }' "$CSV")
echo "soak: $N samples after warm-up; RSS slope ${SLOPE} KB/h (limit 1024), plateau growth ${STEP} KB (limit 512); RSS at end ${RSS_END} KB"
echo "soak: fd count min first third ${FD_FIRST}, min last third ${FD_LAST}, max ${FD_MAX}"
echo "soak: clients $(cat "$OUT/clients.out")"
echo "soak: /health at end: ${health:0:300}"
PASS=0 FAIL=0
verdict() { if [ "$1" = 1 ]; then PASS=$((PASS + 1)); echo "ok - $2"; else FAIL=$((FAIL + 1)); echo "not ok - $2"; fi; }
verdict "$(awk -v s="$SLOPE" -v g="$STEP" 'BEGIN{print ((s ~ /^-?[0-9]/ && s+0 <= 1024) || (g ~ /^-?[0-9]/ && g+0 <= 512)) ? 1 : 0}')" \
  "RSS flat: slope ${SLOPE} KB/h <= 1 MB/h or plateau growth ${STEP} KB <= 512 KB"
verdict "$([ "${N:-0}" -ge 3 ] 2>/dev/null && [ "$FD_LAST" -le $((FD_FIRST + 2)) ] && echo 1 || echo 0)" "fd count flat (${FD_FIRST} -> ${FD_LAST})"
verdict "$([ "$CLIRC" -eq 0 ] && echo 1 || echo 0)" "dashboard clients kept connecting"
verdict "$(grep -q '"status"' <<<"$health" && echo 1 || echo 0)" "/health answers at the end"
verdict "$([ "$SRVRC" -eq 0 ] && echo 1 || echo 0)" "server exited cleanly on SIGTERM (rc $SRVRC)"
verdict "$(grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$OUT/server.err" && echo 0 || echo 1)" "no sanitizer report"
if [ "$MODE" = demo ]; then
  # The recording replays in the order the engine saw it to the same trades.csv bytes.
  S=$OUT/session
  # (the demo above runs the default engine options, so the backtest takes none)
  CTL=(); [ -f "$S/controls.csv" ] && CTL=(--controls "$S/controls.csv")
  "$PT_BIN" backtest --quiet --order "$S/candles/.order" "${CTL[@]}" --out "$OUT/replay" "$S"/candles/*.csv \
    >"$OUT/replay.out" 2>&1
  verdict "$(cmp -s "$S/trades.csv" "$OUT/replay/trades.csv" && echo 1 || echo 0)" \
    "the recording replays to byte-identical trades.csv ($(grep -c . "$S/trades.csv") rows; faults: $(grep -o 'faults:.*' "$OUT/server.err" | tail -1))"
fi
echo "samples: $CSV"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
