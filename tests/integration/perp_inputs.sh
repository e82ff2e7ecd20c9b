# Perpetual futures, bad input (issue 16 item 8) and the zero-funding notice
# (item 5): each mistake is refused with a message naming the option or
# file:line:field; spot runs refuse perp-only files.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
C="$T/BTCUSDT.csv"
python3 - "$C" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("timestamp,open,high,low,close,volume\n")
    for i in range(40):
        c = 100 + (i % 7) - 3
        f.write("%d,%s,%s,%s,%s,1000\n" % (1700000000000 + 3600000 * i, c, c + 1, c - 1, c))
PY
B=(backtest --market perp --min-quality 0 --strategy sma_cross --param fast=2 --param slow=4)

run_pt "${B[@]}" --out "$T/zero" "$C"
expect_exit 0 "perp without --funding runs"
expect_out "funding taken as zero" "stdout says funding was taken as zero"
if grep -q "funding_source.*none (funding taken as zero)" "$T/zero/report.json"; then
  ok "report.json says funding was taken as zero"; else bad "report.json lacks the zero-funding notice"; fi
if grep -q '"perp":{"market":"perp"' "$T/zero/report.html" && grep -q "'funding_paid', 'funding paid'" "$T/zero/report.html"; then
  ok "report.html carries the perp figures and shows funding paid/received"; else bad "report.html lacks the perp figures"; fi
if head -1 "$T/zero/trades.csv" | grep -q ',seq,leverage,margin,liquidation_price$'; then
  ok "trades.csv has the perp columns at the end"; else bad "trades.csv perp header" "$(head -1 "$T/zero/trades.csv")"; fi

run_pt "${B[@]}" --leverage 2 --symbol-leverage BTCUSDT=4,ETHUSDT=3 --out "$T/sl" "$C"
expect_exit 0 "--symbol-leverage runs"
if [ "$(tail -n +2 "$T/sl/trades.csv" | cut -d, -f15 | sort -u)" = "4" ]; then
  ok "--symbol-leverage BTCUSDT=4 is the leverage of every BTCUSDT fill"
else bad "per-symbol leverage" "$(cut -d, -f15 "$T/sl/trades.csv" | sort -u)"; fi
run_pt "${B[@]}" --symbol-leverage BTCUSDT=300 --out "$T/sl2" "$C"
expect_exit 2 "--symbol-leverage above the brackets' maximum is refused"
expect_err "'BTCUSDT=300': want SYMBOL=LEVERAGE with leverage 1 to 125" "the message names the entry and the range"

run_pt "${B[@]}" --leverage 200 --out "$T/lev" "$C"
expect_exit 2 "--leverage above the brackets' maximum is refused"
expect_err "leverage 200: above the brackets' maximum of 125" "the message names the option and the maximum"
run_pt "${B[@]}" --leverage 30 --brackets 10000:20:1,inf:10:5 --out "$T/lev2" "$C"
expect_exit 2 "--leverage above a given --brackets table's maximum is refused"
expect_err "(--brackets)" "the message names --brackets"
run_pt "${B[@]}" --brackets 10000:20:1,5000:10:5 --out "$T/br" "$C"
expect_exit 2 "--brackets with caps out of order is refused"
expect_err "tier 2: caps must be > 0 and increasing" "the message names the tier"
run_pt backtest --quiet --funding "$C" --out "$T/spot" "$C"
expect_exit 2 "--funding without --market perp is refused"
run_pt "${B[@]}" --market futures --out "$T/m" "$C"
expect_exit 2 "--market with an unknown word is refused"

printf 'ts,symbol,rate\n1700000000000,ETHUSDT,0.0001\n' >"$T/other.csv"
run_pt "${B[@]}" --funding "$T/other.csv" --out "$T/o" "$C"
expect_exit 3 "a funding file for another symbol is refused"
expect_err "other.csv:1: symbol: no funding rows for BTCUSDT (the file is for ETHUSDT" "the message names the file and both symbols"

python3 - "$T/gap.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("ts,rate\n")
    for i, h in enumerate([0, 8, 16, 32, 40]):
        f.write("%d,0.0001\n" % (1700000000000 + 3600000 * h))
PY
run_pt "${B[@]}" --funding "$T/gap.csv" --out "$T/g" "$C"
expect_exit 3 "a funding file with a gap is refused"
expect_err "gap.csv:5: ts: gap: 2023-11-15T14:13:20.000Z to 2023-11-16T06:13:20.000Z is longer than the funding period of 480 min" "the message names file:line:field and the gap"
run_pt "${B[@]}" --funding "$T/gap.csv" --funding-interval 16h --out "$T/g2" "$C"
expect_exit 0 "--funding-interval 16h accepts the same file"

printf 'ts,rate\n1700000000000,0.0001\n1700028800000,0.0001\n' >"$T/short.csv"
run_pt "${B[@]}" --funding "$T/short.csv" --out "$T/s" "$C"
expect_exit 0 "a funding file that ends early still runs (its rows are written by then)"
expect_err "short.csv: funding for BTCUSDT ends at 2023-11-15T06:13:20.000Z, more than the funding period before its last candle" "it warns that later funding was taken as zero"
if grep -q '"funding_ends_early":.1' "$T/s/report.json"; then ok "report.json counts funding_ends_early"; else bad "funding_ends_early"; fi

printf 'ts,rate\n1700000000000,0.0001\n1700000000000,0.0002\n' >"$T/dup.csv"
run_pt "${B[@]}" --funding "$T/dup.csv" --out "$T/d" "$C"
expect_exit 3 "funding rows not strictly increasing are refused"
expect_err "dup.csv:3: ts: not after the previous row" "named file:line:field"
printf 'ts,rate\n1700000000000,abc\n' >"$T/bad.csv"
run_pt "${B[@]}" --funding "$T/bad.csv" --out "$T/b" "$C"
expect_exit 3 "a funding rate that is not a number is refused"
expect_err "bad.csv:2: rate:" "named file:line:field"
printf 'rate\n0.1\n' >"$T/nots.csv"
run_pt "${B[@]}" --funding "$T/nots.csv" --out "$T/n" "$C"
expect_exit 3 "a funding file without a ts column is refused"
expect_err "nots.csv:1: header: want at least the columns ts,rate" "the header error says what is wanted"
printf 'ts,rate\n1700600000000,0.0001\n' >"$T/late.csv"
run_pt "${B[@]}" --funding "$T/late.csv" --out "$T/l" "$C"
expect_exit 3 "a funding file that starts a gap after the first candle is refused"

python3 - "$C" "$T/mark.csv" <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()
rows[5], rows[6] = rows[6], rows[5]
open(sys.argv[2], "w").write("\n".join(rows) + "\n")
PY
run_pt "${B[@]}" --mark "$T/mark.csv" --out "$T/mk" "$C"
expect_exit 3 "a mark file out of order is refused"
expect_err "mark.csv:7: ts: BTCUSDT: mark candle at" "the message names the mark file's line"
finish
