# The progress bar: on stderr when it is a terminal (a pty from script(1)) for
# a run longer than a second, never when stderr is not a terminal, never with
# --quiet; stdout and the output files are untouched by it.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v script >/dev/null || { echo "# SKIP: no script(1) (util-linux) for a pty"; finish; exit; }
GEN="$PT_BUILD_DIR/bench/gen_candles"
# the first draw waits 1 s unless told otherwise: tests must not race the clock
export PT_PROGRESS_AFTER_MS=0
ROWS=200000
"$GEN" --rows "$ROWS" --seed 5 -o "$T/big.csv" 2>/dev/null || { bad "gen_candles"; finish; exit; }

script -qec "'$PT_BIN' check '$T/big.csv' >'$T/c1.out'" /dev/null >"$T/pty1" 2>&1
grep -q '\[#*\.*\] *[0-9]*%' "$T/pty1" && ok "check draws a bar on a terminal" || bad "no bar on a terminal" "$(head -c 300 "$T/pty1")"
"$PT_BIN" check "$T/big.csv" >"$T/c2.out" 2>"$T/c2.err"
grep -q '%' "$T/c2.err" && bad "a bar with stderr not a terminal" || ok "silent when stderr is not a terminal"
cmp -s "$T/c1.out" "$T/c2.out" && ok "the report on stdout is the same either way" || bad "stdout differs with the bar"
script -qec "'$PT_BIN' check --quiet '$T/big.csv' >/dev/null" /dev/null >"$T/pty2" 2>&1
grep -q '%' "$T/pty2" && bad "a bar with --quiet" || ok "silent with --quiet"

script -qec "'$PT_BIN' backtest --min-quality 0 --portfolio-rows 1000 --no-report --out '$T/bt' '$T/big.csv' >/dev/null" \
  /dev/null >"$T/pty3" 2>&1
grep -q 'backtest [0-9]* candles, at ' "$T/pty3" && ok "backtest shows its progress on a terminal" ||
  bad "no backtest progress" "$(tr '\r' '\n' <"$T/pty3" | head -5)"
"$PT_BIN" backtest --quiet --min-quality 0 --portfolio-rows 1000 --no-report --out "$T/bt2" "$T/big.csv" >/dev/null 2>&1
for f in trades.csv portfolio.csv report.json; do
  cmp -s "$T/bt/$f" "$T/bt2/$f" && ok "$f the same with and without the bar" || bad "$f differs"
done
finish
