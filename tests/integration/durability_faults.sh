# Durability faults (docs/durability.md): torn tails, corruption
# in the middle (D8), a stale or missing portfolio.csv (D9), a second
# instance (D10), disk full (D5), and resume refusing changed inputs.
set -u
. "$(dirname "$0")/lib.bash"
GEN="$PT_BUILD_DIR/bench/gen_candles"
[ -x "$GEN" ] || { bad "needs $GEN (build target gen_candles)"; finish; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$GEN" --rows 20000 --seed 3 -o "$T/c.csv" 2>/dev/null
OPTS=(--min-quality 0 --sizing percent:50 --fee-bps 5 --fsync none)
last_byte() { tail -c1 "$1" | od -An -c | tr -d ' '; }
same_as_gold() { # dir label
  local f
  for f in trades.csv portfolio.csv report.json; do
    if ! cmp -s "$T/gold/$f" "$1/$f"; then bad "$2: $f differs from the uninterrupted run" "$(cmp "$T/gold/$f" "$1/$f" 2>&1)"; return; fi
  done
  ok "$2: result byte-identical to the uninterrupted run"
}
sums() { (cd "$1" && sha256sum trades.csv portfolio.csv session.json 2>/dev/null); }

run_pt backtest --quiet "${OPTS[@]}" --out "$T/gold" "$T/c.csv"
expect_exit 0 "uninterrupted run"
TOTAL=$(($(wc -l <"$T/gold/trades.csv") - 1))
HALF=$((TOTAL / 2))
run_pt backtest "${OPTS[@]}" --out "$T/crashed" --crash-after-fills "$HALF" "$T/c.csv"
expect_exit 137 "crash hook after fill $HALF"
if node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const ok = s.args.join(" ") === "--min-quality 0 --sizing percent:50 --fee-bps 5" &&
    s.files.length === 1 && s.files[0] === process.argv[2] && !JSON.stringify(s).includes("fsync");
  process.exit(ok ? 0 : 1);' "$T/crashed/session.json" "$(realpath "$T/c.csv")"; then
  ok "session.json keeps every result-shaping option and the absolute input path"
else bad "session.json content" "$(cat "$T/crashed/session.json")"; fi
fresh() { rm -rf "$T/w"; cp -a "$T/crashed" "$T/w"; }

# --- D7: the last line of trades.csv cut at several byte offsets
LAST=$(tail -n1 "$T/crashed/trades.csv")
LEN=${#LAST}
for off in 1 2 $((LEN / 3)) $((LEN / 2)) $((LEN - 1)) "$LEN"; do # LEN: everything but the '\n'
  fresh
  size=$(stat -c %s "$T/w/trades.csv")
  truncate -s $((size - LEN - 1 + off)) "$T/w/trades.csv"
  run_pt backtest --resume "$T/w" --fsync none
  if [ "$RC" -eq 0 ] && [ "$(stat -c %s "$T/w/trades.csv.torn" 2>/dev/null)" = "$off" ] &&
     grep -q "repaired a torn last line: $off bytes" <<<"$ERR"; then
    ok "torn tail at offset $off/$LEN: repaired, $off bytes kept in trades.csv.torn"
  else bad "torn tail at offset $off (exit $RC)" "$ERR"; fi
  same_as_gold "$T/w" "torn tail at offset $off"
done
fresh
size=$(stat -c %s "$T/w/portfolio.csv")
truncate -s $((size - 7)) "$T/w/portfolio.csv"
run_pt backtest --resume "$T/w" --fsync none
expect_exit 0 "torn portfolio.csv tail: resumes"
same_as_gold "$T/w" "torn portfolio.csv tail"

# --- D8: corruption in the middle refuses (exit 5, file:line), files untouched
corrupt_case() { # label, then a command that damages $T/w/trades.csv; wants line $WANT
  local label=$1
  shift
  fresh
  "$@"
  local before
  before=$(sums "$T/w")
  run_pt backtest --resume "$T/w" --fsync none
  expect_exit 5 "$label: refuses to start (exit 5)"
  expect_err "trades.csv:$WANT" "$label: names trades.csv:$WANT"
  if [ "$before" = "$(sums "$T/w")" ]; then ok "$label: files untouched"; else bad "$label: files changed"; fi
}
flip_digit() { # first digit of cash_after (field 12) on line 10: still parses
  awk -F, -v OFS=, 'NR == 10 { d = substr($12, 1, 1); $12 = (d == "9" ? "8" : "9") substr($12, 2) } 1' \
    "$T/w/trades.csv" >"$T/flip" && cat "$T/flip" >"$T/w/trades.csv"
  cmp -s "$T/crashed/trades.csv" "$T/w/trades.csv" && bad "the flip changed nothing"
}
WANT=10 # the row still parses; the byte-exact replay finds it
corrupt_case "changed digit in line 10" flip_digit
WANT=12 # a byte that does not parse: the strict reader finds it
corrupt_case "garbage byte in line 12" sed -i '12s/,buy,/,b#y,/; 12s/,sell,/,s#ll,/' "$T/w/trades.csv"
WANT=20 # two lines swapped: seq runs backwards
corrupt_case "swapped lines 20/21" sed -i '20{h;d};21{G}' "$T/w/trades.csv"
fresh # the recorded fills came from other options: the first one differs
sed -i 's/"--fee-bps", "5"/"--fee-bps", "7"/' "$T/w/session.json"
run_pt backtest --resume "$T/w" --fsync none
expect_exit 5 "changed options in session.json: refuses"
expect_err "trades.csv:2:" "changed options: names the first differing fill"

# --- D9: portfolio.csv is derived: missing or garbage -> rebuilt, with a warning
fresh
rm "$T/w/portfolio.csv"
run_pt backtest --resume "$T/w" --fsync none
expect_exit 0 "missing portfolio.csv: resumes"
expect_err "rebuilding it from the journal" "missing portfolio.csv: warns"
same_as_gold "$T/w" "missing portfolio.csv"
fresh
sed -i '500s/,[0-9]/,7/' "$T/w/portfolio.csv"
run_pt backtest --resume "$T/w" --fsync none
expect_exit 0 "stale portfolio.csv row: resumes"
expect_err "portfolio.csv:500: differs from the replay" "stale portfolio.csv row: warns with file:line"
same_as_gold "$T/w" "stale portfolio.csv row"
# a finished session resumes to the same bytes and touches nothing
rm -rf "$T/w" && cp -a "$T/gold" "$T/w"
before=$(sums "$T/w")
run_pt backtest --resume "$T/w" --fsync none
expect_exit 0 "resume of a finished session"
if [ "$before" = "$(sums "$T/w")" ]; then ok "finished session: files unchanged"; else bad "finished session: files changed"; fi
run_pt backtest --resume "$T/w" --cash 5
expect_exit 2 "--resume with a result-shaping option is a usage error"

# --- D10: a second process on the same dir exits 6 within 1 s naming the PID
"$GEN" --rows 400000 --seed 5 -o "$T/big.csv" 2>/dev/null
"$PT_BIN" backtest --quiet "${OPTS[@]}" --out "$T/lk" "$T/big.csv" >/dev/null 2>&1 &
first=$!
for _ in $(seq 1 200); do [ -s "$T/lk/.lock" ] && break; sleep 0.01; done
t0=$(date +%s%N)
run_pt backtest --resume "$T/lk"
ms=$((($(date +%s%N) - t0) / 1000000))
if kill -0 "$first" 2>/dev/null; then
  expect_exit 6 "second instance exits 6"
  expect_err "state dir locked by PID $first" "second instance names the holder's PID"
  if [ "$ms" -lt 1000 ]; then ok "second instance exits within 1 s (${ms} ms)"; else bad "second instance took ${ms} ms"; fi
else
  bad "first instance ended before the second started (cannot test the lock)"
fi
wait "$first"
rc=$?
if [ "$rc" -eq 0 ]; then ok "first instance unaffected"; else bad "first instance exited $rc"; fi

# --- D5: disk full (a 64 KiB tmpfs in a private mount namespace)
if unshare -m true 2>/dev/null; then
  mkdir -p "$T/mnt"
  unshare -m bash -c '
    mount -t tmpfs -o size=64k tmpfs "$1" || exit 99
    "$2" backtest "${@:5}" --out "$1/s" "$3" >/dev/null 2>"$4/full.err"
    echo $? >"$4/full.rc"
    cp -a "$1/s" "$4/healthy"' _ "$T/mnt" "$PT_BIN" "$T/c.csv" "$T" "${OPTS[@]}"
  if [ -f "$T/full.rc" ]; then
    RC=$(cat "$T/full.rc") ERR=$(cat "$T/full.err")
    expect_exit 1 "disk full: exits 1"
    expect_err "stopped trading: cannot write .*\(trades\|portfolio\)\.csv: no space left on device" "disk full: names the file and the reason"
    if [ "$(last_byte "$T/healthy/trades.csv")" = '\n' ] && [ "$(last_byte "$T/healthy/portfolio.csv")" = '\n' ]; then
      ok "disk full: the ledger ends at a complete line"; else bad "disk full: partial line left"; fi
    run_pt backtest --resume "$T/healthy" --fsync none
    expect_exit 0 "disk full: resume on a healthy disk"
    same_as_gold "$T/healthy" "disk full then resume"
  else
    ok "disk full: skipped (cannot mount a tmpfs here)"
  fi
else
  ok "disk full: skipped (no unshare -m here)"
fi

finish
