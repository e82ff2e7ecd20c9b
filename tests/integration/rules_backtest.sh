# Trading rules in backtests (issue 15 item 10, docs/rules.md): [symbol.NAME]
# keys of --config and a saved --rules FILE give the same trades, every
# quantity on the lot step (checked here independently, in exact decimal
# arithmetic with Python's decimal module, against the no-rules run's
# quantity rounded down); a min_notional above every entry refuses them all
# with the order_rules alert, counted; --resume keeps the rules; a bad key or
# file is a clear error naming it; without rules the outputs do not change.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
F="$T/ALT.csv"
head -1500 "$PT_SHARED_DATA/freqtrade_UNITTEST-BTC_1m.csv" > "$F"
BASE=(--strategy sma_cross --param fast=5 --param slow=12 --sizing quote:1000 --min-quality 0)
ARGS=("${BASE[@]}" --quiet)

run_pt backtest "${ARGS[@]}" --out "$T/plain" "$F"
expect_exit 0 "backtest without rules"
[ ! -e "$T/plain/rules.json" ] && ok "no rules: no rules.json" || bad "no rules: no rules.json"
grep -q rules_refused "$T/plain/report.json" && bad "no rules: report.json unchanged" || ok "no rules: report.json has no rules keys"

printf '[symbol.ALT]\ntick_size = 0.00000001\nlot_step = 0.1\nmin_qty = 0.1\n' > "$T/c.ini"
run_pt backtest --config "$T/c.ini" "${ARGS[@]}" --out "$T/cfg" "$F"
expect_exit 0 "backtest with [symbol.ALT] keys"
python3 - "$T/plain/trades.csv" "$T/cfg/trades.csv" <<'PY' && ok "every entry is the no-rules quantity rounded down to 0.1, exactly" || bad "quantities on the lot step"
import csv, sys
from decimal import Decimal, ROUND_FLOOR
a = [r for r in csv.DictReader(open(sys.argv[1]))]
b = [r for r in csv.DictReader(open(sys.argv[2]))]
assert len(a) == len(b) and len(a) > 4, (len(a), len(b))
for x, y in zip(a, b):
    want = Decimal(x["qty"]).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
    assert Decimal(y["qty"]) == want, (x["qty"], y["qty"])
PY
grep -q '"lot_step":	"0.1"' "$T/cfg/rules.json" && ok "the backtest records its rules in DIR/rules.json" || bad "DIR/rules.json" "$(cat "$T/cfg/rules.json" 2>&1)"

# all-in sizing on a coarse lot step: the rounded-down entry is the whole
# order (its rest once stayed open and was blocked as insufficient_cash at
# every following candle, and, with cash left, could have filled later)
run_pt backtest --strategy sma_cross --param fast=5 --param slow=12 --min-quality 0 --quiet \
  --rule ALT:lot_step=100 --out "$T/allin" "$F"
expect_exit 0 "all-in entries on a lot step of 100"
if grep -q '"insufficient_cash":[[:space:]]*0' "$T/allin/report.json" &&
   grep -q '"rules_rounded":[[:space:]]*[1-9]' "$T/allin/report.json"; then ok "rounded entries leave no rest open (no insufficient_cash blocks)"
else bad "rounded entries leave no rest open" "$(grep -o '"insufficient_cash":[^,]*\|"rules_rounded":[^,]*' "$T/allin/report.json")"; fi

run_pt backtest "${ARGS[@]}" --rules "$T/cfg/rules.json" --out "$T/file" "$F"
expect_exit 0 "backtest --rules FILE"
cmp -s "$T/cfg/trades.csv" "$T/file/trades.csv" && ok "--rules FILE trades as the config's keys" || bad "--rules FILE vs config"

run_pt backtest "${ARGS[@]}" --rule ALT:min_notional=5000 --out "$T/min" "$F"
expect_exit 0 "backtest --rule ALT:min_notional=5000"
[ "$(wc -l < "$T/min/trades.csv")" -eq 1 ] && ok "entries of 1000 quote under a minimum of 5000: none filled" || bad "min_notional refuses"
grep -q '"rules_refused":	[1-9]' "$T/min/report.json" && ok "report.json counts the refusals" || bad "rules_refused" "$(grep rules_ "$T/min/report.json")"
run_pt backtest "${BASE[@]}" --rule ALT:min_notional=5000 --out "$T/min2" "$F"
expect_err "order_rules ALT: buy order 1 refused: order value .* is below the minimum order value 5000 (min_notional)" "the refusal is an order_rules alert with the reason"

run_pt backtest --resume "$T/cfg"
expect_exit 0 "resume of a finished backtest with rules"
grep -q -- '--rule' "$T/cfg/session.json" && ok "session.json records the --rule flags (resume uses them)" || bad "session.json args"

run_pt backtest "${ARGS[@]}" --rule ALT:lot_step=1e-5 --out "$T/bad" "$F"
expect_exit 2 "a rule in exponent form is refused"
expect_err "plain decimal" "the error says why"
printf '[symbol.ALT]\nlot_stepp = 0.1\n' > "$T/bad.ini"
run_pt backtest --config "$T/bad.ini" "${ARGS[@]}" --out "$T/bad2" "$F"
expect_exit 2 "an unknown [symbol.NAME] key is refused"
expect_err "unknown key 'lot_stepp' in \[symbol.ALT\] (did you mean 'lot_step'?)" "naming the key with a suggestion"
echo '{"symbols":{"ALT":{"tick_size":"x"}}}' > "$T/bad.json"
run_pt backtest "${BASE[@]}" --rules "$T/bad.json" --out "$T/bad3" "$F"
expect_exit 3 "a bad rules file is an input error"
expect_err "symbols.ALT.tick_size" "naming the field"
run_pt config check "$T/c.ini"
expect_out "\[symbol.ALT\]" "config check prints the symbol section"
expect_out "lot_step = 0.1" "with its values"
finish
