#!/usr/bin/env bash
# papertrader check: exit codes, counts on the real files of ../shared/data
# (expected values from its README), file:line messages on crafted bad files,
# and the documented --json shape (docs/check-json.md).
set -u
. "$(dirname "$0")/lib.bash"

FIX="$PT_SOURCE_DIR/tests/fixtures/check"
DATA="${PT_SHARED_DATA:?PT_SHARED_DATA not set}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# jget EXPR: evaluate a JS expression on the JSON in $OUT (as d); prints
# the value, or "JSON-ERROR ..." when $OUT does not parse.
jget() {
  node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{let d;
    try{d=JSON.parse(s)}catch(e){console.log("JSON-ERROR "+e.message);return}
    try{console.log(String(eval(process.argv[1])))}catch(e){console.log("EXPR-ERROR "+e.message)}})' "$1" <<<"$OUT"
}
expect_json() { # EXPR WANT NAME
  local got; got=$(jget "$1")
  if [ "$got" = "$2" ]; then ok "$3"; else bad "$3 ($1 = '$got', wanted '$2')" "$ERR"; fi
}

# ---------------------------------------------------------------- usage
run_pt check --help
expect_exit 0 "--help exits 0"
expect_out "min-quality" "--help describes --min-quality"
run_pt check
expect_exit 2 "no FILE exits 2"
run_pt check --frobnicate "$FIX/good.csv"
expect_exit 2 "unknown flag exits 2"
expect_err "frobnicate" "unknown flag is named"
run_pt check "$FIX/good.csv" --interval
expect_exit 2 "missing value exits 2"
for iv in 0m 5x m -1m 1.5m; do
  run_pt check --interval "$iv" "$FIX/good.csv"
  expect_exit 2 "--interval $iv exits 2"
done
for q in 101 -1 abc 50x "" 1e3 nan 100.5; do
  run_pt check --min-quality "$q" "$FIX/good.csv"
  expect_exit 2 "--min-quality '$q' exits 2"
done
run_pt check --tz Not/AZone "$FIX/good.csv"
expect_exit 2 "bad --tz exits 2"

# ---------------------------------------------------------------- input errors
run_pt check "$tmp/does-not-exist.csv"
expect_exit 3 "nonexistent file exits 3"
expect_err "does-not-exist.csv" "nonexistent file is named"
run_pt check "$FIX/empty.csv"
expect_exit 3 "empty file exits 3"
expect_err "empty.csv" "empty file is named"
run_pt check "$FIX/missing_col.csv"
expect_exit 3 "missing column exits 3"
expect_err "missing_col.csv" "missing column: file named"
expect_err "close" "missing column: column named"
run_pt check "$tmp"
expect_exit 3 "a directory exits 3"
# documented: a header and no candle is not usable (exit 4)
run_pt check "$FIX/header_only.csv"
expect_exit 4 "header only exits 4 (documented: no candle, not usable)"

# ---------------------------------------------------------------- small files
run_pt check "$FIX/good.csv"
expect_exit 0 "clean file is usable"
expect_out "usable" "clean file: verdict printed"
expect_out "interval 1m (detected)" "clean file: interval detected"

run_pt check "$FIX/bad.csv"
if [ "$RC" -eq 0 ] || [ "$RC" -eq 4 ]; then ok "bad.csv exits 0 or 4"; else bad "bad.csv exit $RC" "$ERR"; fi
if grep -q "bad.csv:5" <<<"$OUT$ERR"; then ok "bad row reported as bad.csv:5"; else bad "no bad.csv:5" "$OUT"; fi
if grep "bad.csv:5" <<<"$OUT$ERR" | grep -q "open"; then ok "bad row names the field open"; else bad "no field" "$OUT"; fi
run_pt check --strict "$FIX/bad.csv"
expect_exit 4 "--strict: one rejected row exits 4"
run_pt check --min-quality 0 "$FIX/bad.csv"
expect_exit 0 "--min-quality 0 accepts bad.csv"

run_pt check --json "$FIX/bad.csv"
expect_json 'd.files[0].rejects.bad_number' 1 "json: one bad_number"
expect_json 'd.files[0].reject_examples[0].location.endsWith("bad.csv:5")' true "json: example location"
expect_json 'd.files[0].reject_examples[0].field' open "json: example field"
expect_json 'd.files[0].rows_ok' 29 "json: 29 rows ok"

run_pt check "$FIX/corrupt.csv"
expect_exit 4 "mostly corrupted file exits 4"
run_pt check --json "$FIX/corrupt.csv"
expect_exit 4 "mostly corrupted file exits 4 with --json"
expect_json 'd.files[0].rows_rejected >= 20' true "json: corrupt rows counted"
expect_json 'd.files[0].symbols[0].issues.ohlc_inconsistent' 10 "json: 10 OHLC inconsistencies"
expect_json 'd.files[0].symbols[0].score.final < 60' true "json: corrupt score below 60"

# worst exit over several files: input error beats quality beats ok
run_pt check "$FIX/good.csv" "$FIX/corrupt.csv"
expect_exit 4 "good + corrupt exits 4"
run_pt check "$FIX/good.csv" "$FIX/corrupt.csv" "$tmp/nope.csv"
expect_exit 3 "good + corrupt + missing exits 3"
run_pt check --json "$FIX/good.csv" "$tmp/nope.csv"
expect_exit 3 "json: missing file exits 3"
expect_json 'd.files.length' 2 "json: both files reported"
expect_json 'd.files[1].status' error "json: missing file has status error"
expect_json 'd.exit_code' 3 "json: exit_code in document"

# symbol column: one checker per symbol, --symbol filters
run_pt check --json "$FIX/multi.csv"
expect_json 'd.files[0].has_symbol_column' true "multi: symbol column seen"
expect_json 'd.files[0].symbols.map(s=>s.symbol).sort().join()' AAA,BBB "multi: two symbols"
expect_json 'd.files[0].symbols.find(s=>s.symbol=="AAA").gaps' 0 "multi: AAA has no gap"
expect_json 'd.files[0].symbols.find(s=>s.symbol=="BBB").missing_bars' 2 "multi: BBB misses 2 bars"
run_pt check --json --symbol BBB "$FIX/multi.csv"
expect_json 'd.files[0].symbols.map(s=>s.symbol).join()' BBB "--symbol keeps one symbol"
expect_json 'd.files[0].rows_skipped' 20 "--symbol counts the others as skipped"

# ---------------------------------------------------------------- real data
for f in freqtrade_UNITTEST-BTC_1m freqtrade_ADA-BTC_5m freqtrade_XRP-ETH_1m; do
  if [ ! -r "$DATA/$f.csv" ]; then bad "$DATA/$f.csv missing"; fi
done
run_pt check --json "$DATA/freqtrade_UNITTEST-BTC_1m.csv"
expect_exit 0 "UNITTEST-BTC is usable"
expect_json 'd.files[0].interval' 1m "UNITTEST-BTC: interval 1m"
expect_json 'd.files[0].interval_source' detected "UNITTEST-BTC: interval detected"
expect_json 'd.files[0].time_format' "epoch milliseconds" "UNITTEST-BTC: epoch milliseconds"
expect_json 'd.files[0].rows_ok' 13681 "UNITTEST-BTC: 13681 rows"
expect_json 'd.files[0].symbols[0].gaps' 538 "UNITTEST-BTC: 538 gaps"
expect_json 'd.files[0].symbols[0].missing_bars' 717 "UNITTEST-BTC: 717 missing bars"
expect_json 'd.files[0].symbols[0].issues.flat' 1935 "UNITTEST-BTC: 1935 flat"
expect_json 'd.files[0].symbols[0].issues.zero_volume' 0 "UNITTEST-BTC: no zero volume"
expect_json 'd.files[0].symbols[0].first_time' 2017-11-04T23:02:00.000Z "UNITTEST-BTC: first bar"
expect_json 'd.files[0].symbols[0].last_time' 2017-11-14T22:59:00.000Z "UNITTEST-BTC: last bar"
expect_json 'd.files[0].symbols[0].issue_examples.filter(e=>e.issue=="flat").length' 5 "UNITTEST-BTC: 5 flat examples"
expect_json 'd.files[0].symbols[0].issue_examples.every(e=>/freqtrade_UNITTEST-BTC_1m.csv:[0-9]+$/.test(e.location))' true "UNITTEST-BTC: examples are file:line"

run_pt check --json "$DATA/freqtrade_ADA-BTC_5m.csv"
expect_exit 0 "ADA-BTC is usable"
expect_json 'd.files[0].interval' 5m "ADA-BTC: interval 5m detected"
expect_json 'd.files[0].symbols[0].gaps' 5 "ADA-BTC: 5 gaps"
expect_json 'd.files[0].symbols[0].missing_bars' 40 "ADA-BTC: 40 missing bars"
expect_json 'd.files[0].symbols[0].issues.flat' 2 "ADA-BTC: 2 flat"

run_pt check --json --interval 1m "$DATA/freqtrade_XRP-ETH_1m.csv"
expect_json 'd.files[0].interval_source' given "XRP-ETH: interval given"
expect_json 'd.files[0].symbols[0].gaps' 0 "XRP-ETH: 0 gaps"
expect_json 'd.files[0].symbols[0].issues.zero_volume' 1091 "XRP-ETH: 1091 zero volume"
expect_json 'd.files[0].symbols[0].issues.flat' 2054 "XRP-ETH: 2054 flat"

# a 5m file checked as 1m: every step is a gap of 4 missing bars at least
run_pt check --json --interval 1m "$DATA/freqtrade_ADA-BTC_5m.csv"
expect_json 'd.files[0].symbols[0].gaps > 5000' true "ADA-BTC as 1m: gaps measured against --interval"

run_pt check --tz UTC "$DATA/backtrader_index-future_2006_1m.csv"
if [ "$RC" -eq 0 ] || [ "$RC" -eq 4 ]; then ok "backtrader file read (exit $RC)"; else bad "backtrader exit $RC" "$ERR"; fi
expect_out "ISO-8601 naive" "backtrader: naive ISO timestamps named"
run_pt check --json --tz +01:00 "$DATA/backtrader_index-future_2006_1m.csv"
expect_json 'd.files[0].symbols[0].first_time' 2006-01-02T08:01:00.000Z "backtrader: --tz +01:00 applied"

# human report states what the contract asks for
run_pt check "$DATA/freqtrade_UNITTEST-BTC_1m.csv"
for w in "epoch milliseconds" "interval 1m (detected)" "2017-11-04T23:02:00.000Z" "538 (717 missing bars)" \
         "flat 1935" "final" "worst" "verdict"; do
  expect_out "$w" "text report has '$w'"
done

# --json is a single document on stdout, nothing else
run_pt check --json "$DATA/freqtrade_ADA-BTC_5m.csv" "$FIX/good.csv"
expect_json 'typeof d.version' number "json: single document with version"
expect_json '["files","usable","exit_code","min_quality","strict"].every(k=>k in d)' true "json: top-level keys"
expect_json '["file","status","usable","time_format","interval","interval_source","rows_read","rows_ok","rows_rejected","rejects","reject_examples","symbols"].every(k=>k in d.files[0])' true "json: file keys"
expect_json '["symbol","candles","first_time","last_time","gaps","missing_bars","issues","issue_examples","score","usable"].every(k=>k in d.files[0].symbols[0])' true "json: symbol keys"
expect_json '["final","final_level","worst","worst_level","worst_time"].every(k=>k in d.files[0].symbols[0].score)' true "json: score keys"
expect_json 'Object.keys(d.files[0].rejects).length' 7 "json: every reject kind counted"
expect_json 'Object.keys(d.files[0].symbols[0].issues).length' 18 "json: every issue counted"

finish
