# Simulated power loss (docs/durability.md "Power loss"). A backtest with
# --fsync fill runs under tests/peers/powerloss_shim.c (LD_PRELOAD), which
# journals what each fsync/fdatasync made durable, the creations and the
# renames (DIR/.powerloss). After a kill -9 (random moment, or the
# --crash-after-fills hook) the disk "loses power": creations and renames no
# directory fsync made durable are undone, each file is cut to its durable
# length, sometimes keeping a random part of the unsynced tail (a partial
# write-back, sometimes zero-filled). Then `--resume DIR`. Checks: every fill
# the session had reported as done (synced, or announced by the hook) is in
# the final trades.csv with the same bytes; trades.csv and portfolio.csv
# are byte-identical to an uninterrupted run; no partial line; the resume
# never refuses. Seed: PT_SEED (printed). docs/durability.md "Power loss".
set -u
. "$(dirname "$0")/lib.bash"
GEN="$PT_BUILD_DIR/bench/gen_candles"
SHIM="$PT_BUILD_DIR/tests/powerloss_shim.so"
for f in "$GEN" "$SHIM"; do
  [ -e "$f" ] || { bad "needs $f (build targets gen_candles, powerloss_shim)"; finish; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SEED=${PT_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
echo "# seed $SEED"
SCALE=1
if [ -n "${PT_SANITIZE:-}" ]; then
  SCALE=3
  # the shim is preloaded ahead of the sanitizer runtime
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
fi
"$GEN" --rows 40000 --seed 11 -o "$T/c.csv" 2>/dev/null
OPTS=(--min-quality 0 --sizing percent:50 --fee-bps 5)

# "What the disk holds after power loss", from the snapshot of the sizes at
# the start of the segment (durable then) and the shim's journal.
powercut() { # DIR SNAPSHOT SEED
  node - "$@" <<'EOF'
const fs = require('fs'), path = require('path');
const [dir, snapFile, seedArg] = process.argv.slice(2);
let seed = Number(seedArg) >>> 0;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
const durable = new Map(); // path -> durable length
for (const l of fs.readFileSync(snapFile, 'utf8').split('\n').filter(Boolean)) {
  const i = l.indexOf(' ');
  durable.set(l.slice(i + 1), Number(l.slice(0, i)));
}
const jf = path.join(dir, '.powerloss');
const journal = fs.existsSync(jf) ? fs.readFileSync(jf, 'utf8').split('\n') : [];
const pending = []; // creations and renames not yet made durable by a directory fsync
for (const l of journal) {
  if (l === '') continue;
  const f = l.split(' ');
  if (f[0] === 'S') durable.set(f.slice(2).join(' '), Number(f[1]));
  else if (f[0] === 'C') { pending.push({ op: 'C', p: f[1] }); durable.set(f[1], 0); }
  else if (f[0] === 'R') {
    pending.push({ op: 'R', a: f[1], b: f[2], keep: f[3], lenB: durable.get(f[2]) });
    durable.set(f[2], durable.get(f[1]) ?? 0); durable.delete(f[1]);
  } else if (f[0] === 'D') {
    for (let i = pending.length - 1; i >= 0; i--) {
      const e = pending[i];
      const parents = e.op === 'C' ? [path.dirname(e.p)] : [path.dirname(e.a), path.dirname(e.b)];
      if (parents.every((d) => d === f[1])) pending.splice(i, 1);
    }
  }
}
const log = [];
for (const e of pending.reverse()) { // undo, newest first
  if (e.op === 'R') {
    if (!fs.existsSync(e.b)) continue;
    fs.renameSync(e.b, e.a); durable.set(e.a, durable.get(e.b) ?? 0); durable.delete(e.b);
    if (e.keep !== '-' && fs.existsSync(e.keep)) { fs.renameSync(e.keep, e.b); durable.set(e.b, e.lenB ?? 0); }
    log.push(`undo rename ${path.relative(dir, e.a)} -> ${path.relative(dir, e.b)}`);
  } else if (fs.existsSync(e.p)) {
    fs.rmSync(e.p, { recursive: true, force: true }); durable.delete(e.p);
    log.push(`undo create ${path.relative(dir, e.p)}`);
  }
}
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((x) => {
  const p = path.join(d, x.name);
  return x.isDirectory() ? walk(p) : x.isFile() ? [p] : [];
});
for (const p of walk(dir)) {
  if (path.basename(p).startsWith('.powerloss')) { fs.rmSync(p); continue; }
  const size = fs.statSync(p).size;
  const L = Math.min(size, durable.get(p) ?? 0);
  if (L === size) continue;
  // a partial write-back: a random prefix of the unsynced bytes survives;
  // sometimes what follows its last newline reads back as zeros
  const keep = rnd(2) ? L + rnd(size - L + 1) : L;
  fs.truncateSync(p, keep);
  let junk = 0;
  if (keep > L && rnd(3) === 0) {
    const fd = fs.openSync(p, 'r+');
    const b = Buffer.alloc(keep - L);
    fs.readSync(fd, b, 0, b.length, L);
    const from = b.lastIndexOf(10) + 1;
    if (from < b.length) { junk = b.length - from; fs.writeSync(fd, Buffer.alloc(junk), 0, junk, L + from); }
    fs.closeSync(fd);
  }
  log.push(`${path.relative(dir, p)} ${size} -> ${keep} (durable ${L}${junk ? `, ${junk} zero bytes` : ''})`);
}
console.log(log.join('; ') || 'nothing lost');
EOF
}
# first N bytes of trades.csv that are durable per the journal (0 if none)
durable_trades() {
  if [ -f "$1/.powerloss" ]; then awk -v f="$1/trades.csv" '$1 == "S" && $3 == f { n = $2 } END { print n + 0 }' "$1/.powerloss"; else echo 0; fi
}

run_pt backtest --quiet "${OPTS[@]}" --fsync none --out "$T/gold" "$T/c.csv"
expect_exit 0 "uninterrupted run"
TOTAL=$(($(wc -l <"$T/gold/trades.csv") - 1))
if [ "$TOTAL" -gt 300 ]; then ok "golden run has $TOTAL fills"; else bad "golden run has only $TOTAL fills"; fi

S=$(mkdir -p "$T/s" && cd "$T/s" && pwd -P)
started=0 cuts=0 refused=0 hooks=0 t0=$SECONDS
for i in 1 2 3 4 5; do
  find "$S" -type f -printf '%s %p\n' >"$T/snap.$i"
  if [ "$started" -eq 0 ]; then args=(backtest "${OPTS[@]}" --fsync fill --out "$S" "$T/c.csv")
  else args=(backtest --resume "$S" --fsync fill); fi
  have=0
  [ -f "$S/trades.csv" ] && have=$(($(wc -l <"$S/trades.csv") - 1))
  n=0
  if [ "$have" -ge "$TOTAL" ]; then have=0 # finished: the next kill lands in the verify replay
  elif [ $((i % 2)) -eq 0 ]; then
    n=$((have + 1 + RANDOM % ((TOTAL - have) / 3 + 1)))
    args+=(--crash-after-fills "$n")
  fi
  PT_POWERLOSS_DIR="$S" LD_PRELOAD="$SHIM" "$PT_BIN" "${args[@]}" >/dev/null 2>"$T/err.$i" &
  pid=$!
  if [ "$n" -eq 0 ]; then
    # kill -9 around a random later fill (polled: independent of the speed)
    k=$((have + 1 + RANDOM % (TOTAL - have + 1))) w=0
    while kill -0 "$pid" 2>/dev/null && [ "$w" -lt $((1500 * SCALE)) ] &&
      [ "$( (wc -l <"$S/trades.csv") 2>/dev/null || echo 1)" -le "$k" ]; do
      sleep 0.01; w=$((w + 1))
    done
    sleep "0.0$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null
  fi
  wait "$pid"
  rc=$?
  case $rc in
    0|137) ;;
    2) [ -f "$S/session.json" ] && bad "attempt $i exited 2" "$(cat "$T/err.$i")" ;; # killed before session.json was durable
    *) refused=$((refused + 1)); bad "attempt $i exited $rc" "$(tail -5 "$T/err.$i")" ;;
  esac
  [ "$rc" -eq 0 ] || [ -f "$S/session.json" ] && started=1
  # fills reported as done: the synced prefix (the engine learns of a fill
  # only after its fdatasync); with the hook, fill n was announced
  dl=$(durable_trades "$S")
  head -c "$dl" "$S/trades.csv" >"$T/done.$i" 2>/dev/null
  echo "# attempt $i: exit $rc, $(wc -l <"$T/done.$i") durable lines of trades.csv; power cut: $(powercut "$S" "$T/snap.$i" $((SEED + i)))"
  cuts=$((cuts + 1))
  if grep -q "test hook: exiting after fill $n\$" "$T/err.$i"; then
    hooks=$((hooks + 1))
    got=$(($(wc -l <"$S/trades.csv") - 1))
    if [ "$got" -ge "$n" ] && cmp -s -n "$(head -n $((n + 1)) "$T/gold/trades.csv" | wc -c)" "$T/gold/trades.csv" "$S/trades.csv"; then
      ok "cut $i: fill $n, announced by the hook, survives the cut"
    else bad "cut $i: the hook announced fill $n; after the cut trades.csv has $got rows (or other bytes)"; fi
  fi
done
echo "# $cuts power cuts, $hooks hook exits, $((SECONDS - t0)) s"
[ "$refused" -eq 0 ] && ok "no start or resume refused after a power cut"

run_pt backtest --resume "$S" --fsync fill
expect_exit 0 "final resume completes"
lost=0
for i in 1 2 3 4 5; do
  [ -s "$T/done.$i" ] || continue
  if ! cmp -s -n "$(stat -c %s "$T/done.$i")" "$T/done.$i" "$S/trades.csv"; then
    lost=1; bad "fills durable before cut $i are not in the final trades.csv" "$(cmp "$T/done.$i" "$S/trades.csv" 2>&1)"; fi
done
[ "$lost" -eq 0 ] && ok "every fill durable (reported) before a cut is in the final trades.csv, same bytes"
for f in trades.csv portfolio.csv; do
  if cmp -s "$T/gold/$f" "$S/$f"; then ok "$f byte-identical to the uninterrupted run"; else
    bad "$f differs from the uninterrupted run" "$(cmp "$T/gold/$f" "$S/$f" 2>&1)"; fi
done
partial=0
for f in trades.csv portfolio.csv; do
  [ "$(tail -c1 "$S/$f" | od -An -c | tr -d ' ')" = '\n' ] || partial=1
  [ "$(tr -d '\000' <"$S/$f" | wc -c)" -eq "$(stat -c %s "$S/$f")" ] || partial=1
done
if [ "$partial" -eq 0 ]; then ok "no partial line or zero bytes after the last resume"; else bad "partial line or zero bytes left"; fi

# ---- live: `run` (default --fsync every) against `exchange-sim`, two cuts.
# A fill is reported by its "fill:" log line, written after its fdatasync.
SRC="$PT_SHARED_DATA/freqtrade_UNITTEST-BTC_1m.csv"
XS_PID="" RUN_PID=""
trap 'for p in $RUN_PID $XS_PID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
"$PT_BIN" exchange-sim --port 0 --speed 300 --symbols XRPETH "$SRC" >"$T/xs.out" 2>"$T/xs.err" &
XS_PID=$!
port="" w=0
while [ -z "$port" ] && [ "$w" -lt $((100 * SCALE)) ]; do
  sleep 0.1; w=$((w + 1)); port=$(sed -n 's/^listening port=\([0-9]*\).*/\1/p' "$T/xs.out")
done
[ -n "$port" ] || { bad "exchange-sim did not listen" "$(cat "$T/xs.err")"; finish; exit 1; }
export PAPERTRADER_FEED_BACKOFF_BASE_MS=50 PAPERTRADER_FEED_BACKOFF_CAP_MS=400
FEED=(--ws-url "ws://127.0.0.1:$port" --rest-url "http://127.0.0.1:$port" --symbols XRPETH --interval 1m)
ENG=(--strategy sma_cross --param fast=1 --param slow=2 --fee-bps 7 --sizing percent:50 --min-quality 0)
L=$(mkdir -p "$T/live" && cd "$T/live" && pwd -P)
rows() { if [ -f "$1" ]; then echo $(($(wc -l <"$1") - 1)); else echo 0; fi; }
livebug=0 kept=0
for i in 1 2; do
  find "$L" -type f -printf '%s %p\n' >"$T/lsnap.$i"
  before=$(rows "$L/trades.csv")
  if [ "$i" -eq 1 ]; then args=(run --out "$L" "${FEED[@]}" "${ENG[@]}"); else args=(run --resume "$L"); fi
  PT_POWERLOSS_DIR="$L" LD_PRELOAD="$SHIM" "$PT_BIN" "${args[@]}" --no-dashboard --heartbeat 0 >"$T/lout.$i" 2>"$T/lerr.$i" &
  RUN_PID=$!
  # wait for at least one new reported fill, then a random moment more
  w=0
  while kill -0 "$RUN_PID" 2>/dev/null && [ "$w" -lt $((100 * SCALE)) ] && ! grep -q ' fill: ' "$T/lerr.$i"; do
    sleep 0.1; w=$((w + 1))
  done
  sleep "$((RANDOM % 2)).$((RANDOM % 10))"
  kill -9 "$RUN_PID" 2>/dev/null; wait "$RUN_PID" 2>/dev/null; RUN_PID=""
  reported=$(grep -c ' fill: ' "$T/lerr.$i")
  echo "# live $i: $reported fills reported; power cut: $(powercut "$L" "$T/lsnap.$i" $((SEED + 10 + i)))"
  have=$(rows "$L/trades.csv")
  if [ "$have" -ge $((before + reported)) ]; then ok "live cut $i: all $((before + reported)) reported fills survive the cut"
  else bad "live cut $i: $((before + reported)) fills reported, $have on disk after the cut"; fi
  [ "$reported" -gt 0 ] && kept=1
  # the resume after the cut must not refuse
  PAPERTRADER_FEED_BACKOFF_BASE_MS=50 "$PT_BIN" run --resume "$L" --no-dashboard --heartbeat 0 --duration 0.5 \
    >"$T/lres.$i" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then ok "live cut $i: resume after the cut works"
  else bad "live cut $i: resume after the cut exited $rc" "$(tail -5 "$T/lres.$i")"; break; fi
done
[ "$kept" -eq 1 ] || bad "live: no fill was reported before a cut (nothing tested)"
if [ "$livebug" -eq 0 ] && [ -f "$L/candles/XRPETH.csv" ]; then
  run_pt backtest --quiet --out "$T/lbt" "${ENG[@]}" "$L/candles/XRPETH.csv"
  if [ "$RC" -eq 0 ] && cmp -s "$T/lbt/trades.csv" "$L/trades.csv"; then ok "live: backtest on the recording gives the same trades.csv"
  else bad "live: parity with backtest on the recording" "$ERR$(cmp "$T/lbt/trades.csv" "$L/trades.csv" 2>&1)"; fi
fi
kill "$XS_PID" 2>/dev/null; wait "$XS_PID" 2>/dev/null; XS_PID=""
finish
