#!/usr/bin/env bash
# optimize: results.csv byte-identical whatever --jobs, after a kill -9 and
# --resume, and through plan/run/reduce; bad input refused before any work.
set -u
. "$(dirname "$0")/lib.bash"
DATA="$PT_SHARED_DATA/freqtrade_ADA-BTC_5m.csv"
BIG="$PT_SHARED_DATA/backtrader_index-future_2006_1m.csv"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
G=(--strategy sma_cross --grid fast=5,8,10,13 --grid slow=10:40:10 --quiet)

# --- determinism across --jobs
for j in 1 2 3; do
  run_pt optimize "${G[@]}" --jobs "$j" --out "$T/j$j" "$DATA"
  expect_exit 0 "optimize --jobs $j"
done
cmp -s "$T/j1/results.csv" "$T/j2/results.csv" && cmp -s "$T/j1/results.csv" "$T/j3/results.csv" &&
  ok "results.csv byte-identical for --jobs 1, 2, 3" || bad "results.csv differs across --jobs"
for f in best.json session.json report.html; do
  [ -s "$T/j2/$f" ] && ok "$f written" || bad "$f missing"
done
rows=$(($(wc -l <"$T/j1/results.csv") - 1))
[ "$rows" -eq 14 ] && ok "16 combinations, 2 with fast >= slow skipped: 14 rows" || bad "rows: $rows"
run_pt optimize "${G[@]}" --jobs 2 --out "$T/j2" "$DATA"
expect_exit 2 "a folder that holds a run is refused without --resume"
run_pt optimize --strategy sma_cross --grid fast=5,8 --grid slow=6,30 --out "$T/p" "$DATA"
expect_out "skipped by sma_cross's constraints: 1" "skipped combinations are counted in the output"
expect_out "best: papertrader backtest --strategy sma_cross --param fast=" "the best set's backtest command is printed"
expect_out "^rank" "the top table is printed"
cmd=$(grep '^best: ' <<<"$OUT" | sed 's/^best: papertrader //')
# shellcheck disable=SC2086
run_pt $cmd --quiet --json --out "$T/bestbt"
best=$(node -e 'const b=require(process.argv[1]);console.log(b.metrics.sharpe)' "$T/p/best.json")
got=$(node -e 'const b=require(process.argv[1]);console.log(b.sharpe)' "$T/bestbt/report.json")
[ "$best" = "$got" ] && ok "the printed command reproduces best.json's sharpe ($got)" || bad "best command: $best vs $got"
run_pt optimize "${G[@]}" --random 5 --seed 7 --jobs 2 --out "$T/r1" "$DATA"
run_pt optimize "${G[@]}" --random 5 --seed 7 --jobs 1 --out "$T/r2" "$DATA"
cmp -s "$T/r1/results.csv" "$T/r2/results.csv" && [ "$(wc -l <"$T/r1/results.csv")" -le 6 ] &&
  ok "--random 5 --seed 7 is reproducible" || bad "--random differs"

# --- bad input, refused before any work (no output folder created)
check_bad() { # code pattern what args...
  local code=$1 pat=$2 what=$3
  shift 3
  run_pt optimize "$@"
  expect_exit "$code" "$what"
  expect_err "$pat" "$what: message names it"
}
check_bad 2 "unknown parameter 'nope'" "unknown parameter" --strategy sma_cross --grid nope=1,2 --out "$T/b1" "$DATA"
check_bad 2 "inverted range" "inverted range" --strategy sma_cross --grid fast=20:10:1 --out "$T/b2" "$DATA"
check_bad 2 "step must be > 0" "step 0" --strategy sma_cross --grid fast=1:10:0 --out "$T/b3" "$DATA"
check_bad 2 "step must be > 0" "negative step" --strategy sma_cross --grid fast=1:10:-1 --out "$T/b4" "$DATA"
check_bad 2 "empty value" "empty list" --strategy sma_cross --grid fast=, --out "$T/b5" "$DATA"
check_bad 2 "want K=FROM:TO:STEP" "empty grid" --strategy sma_cross --grid fast= --out "$T/b6" "$DATA"
check_bad 2 "more than 1000000" "grid over 1M without --random" --strategy macd --grid fast=1:1000:1 \
  --grid slow=2:1001:1 --grid signal=1:10:1 --out "$T/b7" "$DATA"
check_bad 3 "nope.csv" "missing file" --strategy sma_cross --grid fast=5,8 --out "$T/b8" "$T/nope.csv"
check_bad 2 "outside fast's range" "value out of range" --strategy sma_cross --grid fast=0,5 --out "$T/b9" "$DATA"
check_bad 2 "unknown strategy" "unknown strategy" --strategy nope --grid fast=1,2 --out "$T/b10" "$DATA"
check_bad 2 "objective" "unknown objective" --strategy sma_cross --objective luck --out "$T/b11" "$DATA"
check_bad 2 "strategy NAME|PATH is required" "--strategy required" --grid fast=5,8 --out "$T/b12" "$DATA"
left=$(ls -d "$T"/b[0-9]* 2>/dev/null | wc -l)
[ "$left" -eq 0 ] && ok "no output folder for refused input" || bad "$left output folders left by refused runs"
run_pt optimize --strategy macd --grid fast=1:1000:1 --grid slow=2:1001:1 --grid signal=1:10:1 \
  --random 3 --seed 1 --quiet --out "$T/rnd" "$DATA"
expect_exit 0 "a 10M grid is fine with --random 3"

# --- kill -9 mid-run, then --resume: the same bytes as an uninterrupted run
K=(--strategy sma_cross --grid fast=3:30:3 --grid slow=35:60:5 --quiet --jobs 2)
run_pt optimize "${K[@]}" --out "$T/full" "$BIG"
expect_exit 0 "uninterrupted reference run"
"$PT_BIN" optimize "${K[@]}" --out "$T/killed" "$BIG" >/dev/null 2>&1 &
pid=$!
scale=$([ -n "${PT_SANITIZE:-}" ] && echo 5 || echo 1)
for _ in $(seq 1 $((600 * scale))); do
  [ "$(grep -c '^[0-9]' "$T/killed/.journal.csv" 2>/dev/null)" -ge 5 ] 2>/dev/null && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
done_rows=$(grep -c '^[0-9]' "$T/killed/.journal.csv")
[ ! -e "$T/killed/results.csv" ] && [ "$done_rows" -ge 5 ] && ok "killed with -9 after $done_rows evaluations" ||
  bad "kill -9 did not land mid-run ($done_rows rows, results.csv: $(ls "$T/killed"))"
printf '57,torn' >>"$T/killed/.journal.csv" # a torn last line, as a crash mid-write leaves
run_pt optimize --resume "$T/killed" --jobs 3
expect_exit 0 "optimize --resume after kill -9"
cmp -s "$T/full/results.csv" "$T/killed/results.csv" && ok "resumed results.csv byte-identical to the uninterrupted run" ||
  bad "resumed results.csv differs"
run_pt optimize --resume "$T/killed" --grid fast=1,2
expect_exit 2 "--resume with new search flags is refused"

# --- cluster: plan, run (flag and scheduler variables), reduce
run_pt optimize plan "${G[@]}" --tasks 4 --out "$T/plan" "$DATA"
expect_exit 0 "optimize plan --tasks 4"
[ -s "$T/plan/plan.json" ] && ok "plan.json written" || bad "no plan.json"
run_pt optimize run "$T/plan" --task-index 0
expect_exit 0 "run --task-index 0"
SLURM_ARRAY_TASK_ID=2 run_pt optimize run "$T/plan"
expect_exit 0 "run with SLURM_ARRAY_TASK_ID=2"
run_pt optimize reduce "$T/plan"
expect_exit 3 "reduce with tasks missing"
expect_err -- "--array=1,3" "reduce names the missing tasks in --array= syntax"
JOB_COMPLETION_INDEX=1 run_pt optimize run "$T/plan"
expect_exit 0 "run with JOB_COMPLETION_INDEX=1"
before=$(stat -c %Y.%s "$T/plan/tasks/1.csv")
JOB_COMPLETION_INDEX=1 run_pt optimize run "$T/plan"
expect_out "already done" "a finished task is not redone"
[ "$(stat -c %Y.%s "$T/plan/tasks/1.csv")" = "$before" ] && ok "its file is untouched" || bad "task file rewritten"
AWS_BATCH_JOB_ARRAY_INDEX=3 run_pt optimize run "$T/plan" --jobs 1
expect_exit 0 "run with AWS_BATCH_JOB_ARRAY_INDEX=3"
run_pt optimize reduce "$T/plan"
expect_exit 0 "reduce"
cmp -s "$T/j1/results.csv" "$T/plan/results.csv" && ok "reduced results.csv byte-identical to one machine" ||
  bad "reduced results.csv differs"
# a cluster task killed with -9 carries on from its journal when run again
run_pt optimize plan "${K[@]}" --tasks 2 --out "$T/kplan" "$BIG"
"$PT_BIN" optimize run "$T/kplan" --task-index 1 --jobs 2 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 $((600 * scale))); do
  [ "$(grep -c '^[0-9]' "$T/kplan/tasks/.1/journal.csv" 2>/dev/null)" -ge 3 ] 2>/dev/null && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ ! -e "$T/kplan/tasks/1.csv" ] && ok "task 1 killed with -9 mid-run" || bad "kill -9 of task 1 did not land mid-run"
run_pt optimize run "$T/kplan" --task-index 1
expect_exit 0 "task 1 run again after kill -9"
run_pt optimize run "$T/kplan" --task-index 0
run_pt optimize reduce "$T/kplan"
cmp -s "$T/full/results.csv" "$T/kplan/results.csv" && ok "reduced after a killed task: byte-identical to one machine" ||
  bad "reduced results.csv after a killed task differs"
cp "$DATA" "$T/data.csv"
run_pt optimize plan "${G[@]}" --tasks 2 --out "$T/plan2" "$T/data.csv"
echo "1517300000000,1,1,1,1,1" >>"$T/data.csv"
run_pt optimize run "$T/plan2" --task-index 0
expect_exit 3 "a plan whose input changed is refused"
expect_err "data.csv changed" "the refusal names the file"
finish
