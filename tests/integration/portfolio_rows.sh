# backtest --portfolio-rows every|change|N thins portfolio.csv (the metrics
# and report.json see every snapshot), --no-report skips report.html, and a
# thinned backtest resumes to the same bytes as an uninterrupted one.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
F="$PT_SHARED_DATA/freqtrade_UNITTEST-BTC_1m.csv"
B=(backtest --quiet --min-quality 0 --sizing percent:50)

run_pt "${B[@]}" --out "$T/all" "$F"
expect_exit 0 "full backtest"
run_pt "${B[@]}" --portfolio-rows every --out "$T/every" "$F"
cmp -s "$T/all/portfolio.csv" "$T/every/portfolio.csv" && ok "every = the default bytes" || bad "every differs"
run_pt "${B[@]}" --portfolio-rows 10 --out "$T/n10" "$F"
expect_exit 0 "--portfolio-rows 10"
if diff -q <(awk 'NR == 1 || (NR - 2) % 10 == 0' "$T/all/portfolio.csv") "$T/n10/portfolio.csv" >/dev/null; then
  ok "N=10 keeps rows 1, 11, 21, ... of the full file ($(wc -l <"$T/n10/portfolio.csv") lines)"
else bad "N=10 rows are not every 10th row"; fi
for f in report.json trades.csv; do
  cmp -s "$T/all/$f" "$T/n10/$f" && ok "$f unchanged by thinning" || bad "$f changed by thinning"
done
run_pt "${B[@]}" --portfolio-rows change --out "$T/chg" "$F"
expect_exit 0 "--portfolio-rows change"
full=$(wc -l <"$T/all/portfolio.csv") chg=$(wc -l <"$T/chg/portfolio.csv")
# every kept row is a row of the full file; two kept rows in a row differ
# beyond time (col 1) and quality (last col)
if [ "$chg" -lt "$full" ] && [ "$chg" -gt 10 ] && [ -z "$(comm -13 <(sort "$T/all/portfolio.csv") <(sort "$T/chg/portfolio.csv"))" ] &&
   awk -F, 'NR > 1 { $1 = ""; $NF = ""; if ($0 == prev) bad = 1; prev = $0 } END { exit bad }' "$T/chg/portfolio.csv"; then
  ok "change keeps $chg of $full lines, each a real change"
else bad "change: $chg of $full lines"; fi
cmp -s "$T/all/report.json" "$T/chg/report.json" && ok "report.json unchanged by change" || bad "report.json changed"
run_pt "${B[@]}" --portfolio-rows 0 --out "$T/bad" "$F"
expect_exit 2 "--portfolio-rows 0 refused"
run_pt "${B[@]}" --portfolio-rows sometimes --out "$T/bad2" "$F"
expect_exit 2 "--portfolio-rows sometimes refused"

run_pt "${B[@]}" --no-report --out "$T/norep" "$F"
expect_exit 0 "--no-report"
[ ! -e "$T/norep/report.html" ] && [ -s "$T/norep/report.json" ] && ok "no report.html, report.json kept" ||
  bad "--no-report wrote report.html or lost report.json"

# resume of a thinned run: same bytes as the uninterrupted thinned run
"$PT_BIN" "${B[@]}" --portfolio-rows 7 --out "$T/r" --crash-after-fills 30 "$F" >/dev/null 2>&1
[ $? -eq 137 ] && ok "crash hook stopped the thinned run" || bad "crash hook did not fire"
run_pt backtest --quiet --resume "$T/r"
expect_exit 0 "thinned run resumes"
run_pt "${B[@]}" --portfolio-rows 7 --out "$T/r7" "$F"
for f in portfolio.csv trades.csv report.json; do
  cmp -s "$T/r/$f" "$T/r7/$f" && ok "resumed $f = uninterrupted" || bad "resumed $f differs"
done
finish
