#!/usr/bin/env bash
# papertrader check on generated files (bench/gen_candles): injected faults
# are found and counted exactly; a clean file is usable; a very faulty one is
# not; the generator is deterministic.
set -u
. "$(dirname "$0")/lib.bash"

GEN="${PT_BUILD_DIR:?}/bench/gen_candles"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ ! -x "$GEN" ]; then bad "gen_candles not built at $GEN"; finish; exit 1; fi

jget() {
  node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{let d;
    try{d=JSON.parse(s)}catch(e){console.log("JSON-ERROR "+e.message);return}
    try{console.log(String(eval(process.argv[1])))}catch(e){console.log("EXPR-ERROR "+e.message)}})' "$1" <<<"$OUT"
}
expect_json() { local got; got=$(jget "$1")
  if [ "$got" = "$2" ]; then ok "$3"; else bad "$3 ($1 = '$got', wanted '$2')" "$ERR"; fi; }

"$GEN" --rows 20000 --seed 7 -o "$tmp/a.csv" && "$GEN" --rows 20000 --seed 7 -o "$tmp/b.csv"
if cmp -s "$tmp/a.csv" "$tmp/b.csv"; then ok "generator is deterministic"; else bad "generator output differs"; fi
"$GEN" --rows 20000 --seed 8 -o "$tmp/c.csv"
if cmp -s "$tmp/a.csv" "$tmp/c.csv"; then bad "seed has no effect"; else ok "seed changes the data"; fi

run_pt check --json "$tmp/a.csv"
expect_exit 0 "clean generated file is usable"
expect_json 'd.files[0].rows_ok' 20000 "clean: all rows read"
expect_json 'd.files[0].symbols[0].gaps' 0 "clean: no gaps"
expect_json 'd.files[0].symbols[0].rejected' 0 "clean: nothing rejected"

"$GEN" --rows 20000 --seed 11 --faults 0.02 -o "$tmp/f.csv" 2>"$tmp/f.log"
n() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" "$tmp/f.log"; }
nbad=$(n bad_number) nohlc=$(n ohlc_inconsistent) ndup=$(n duplicate) ngap=$(n gap)
if [ -n "$nbad" ] && [ "$nbad" -gt 0 ] && [ "$ngap" -gt 0 ]; then ok "faults injected ($(cat "$tmp/f.log"))"
else bad "generator reported no faults" "$(cat "$tmp/f.log")"; fi
run_pt check --json "$tmp/f.csv"
expect_json 'd.files[0].rows_rejected' "$nbad" "faulty: every bad number rejected by the reader"
expect_json 'd.files[0].symbols[0].issues.row_rejected' "$nbad" "faulty: rejected rows reach the checker"
expect_json 'd.files[0].symbols[0].issues.ohlc_inconsistent' "$nohlc" "faulty: every OHLC inconsistency found"
expect_json 'd.files[0].symbols[0].issues.duplicate' "$ndup" "faulty: every duplicate found"
expect_json "d.files[0].symbols[0].gaps >= $ngap" true "faulty: at least the injected gaps"
expect_json 'd.files[0].reject_examples.every(e=>/f\.csv:[0-9]+$/.test(e.location))' true "faulty: examples are file:line"
run_pt check --strict "$tmp/f.csv"
expect_exit 4 "--strict: faulty file not usable"

"$GEN" --rows 5000 --seed 3 --faults 0.6 -o "$tmp/g.csv" 2>/dev/null
run_pt check "$tmp/g.csv"
expect_exit 4 "60% faults: not usable"

finish
