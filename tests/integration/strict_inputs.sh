#!/usr/bin/env bash
# Inputs that used to be taken silently are clear errors naming file:line and
# the field or option, and counted (issue 11 item 7): a duplicate INI key, a
# NUL byte in an INI value, a CSV row wider than its header, a header column
# named twice, a known column past the 256-column cap, --cash under the
# config's range; and naive times around a DST change with --tz.
set -u
. "$(dirname "$0")/lib.bash"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
HDR="timestamp,open,high,low,close,volume"

# ---------------------------------------------------------------- INI
printf '[session]\ncash = 5000\nfee_bps = 5\n[risk]\nmax_positions = 3\n[session]\ncash = 7000\n[strategy]\nfast = 3\nfast = 4\n' >"$tmp/dup.ini"
run_pt config check --no-env "$tmp/dup.ini"
expect_exit 2 "a duplicate key -> exit 2"
expect_err "dup.ini:7: \[session\] cash is set twice in this file (lines 2 and 7)" "duplicate key names both lines"
expect_err "dup.ini:10: \[strategy\] fast is set twice in this file (lines 9 and 10)" "duplicate strategy parameter names both lines"
printf '[session]\ncash = 5000\n' >"$tmp/once.ini"
run_pt config check --no-env "$tmp/once.ini"
expect_exit 0 "each key once -> exit 0"
printf '[session]\ncash = 10\0000\nfee_bps = 5\n' >"$tmp/nul.ini"
run_pt config check --no-env "$tmp/nul.ini"
expect_exit 2 "a NUL byte in a value -> exit 2"
expect_err "nul.ini:2: NUL byte in the line" "NUL byte names file:line"
expect_no_out "cash = 10 " "the cut value is not taken"

# ---------------------------------------------------------------- CSV
printf '%s\n1700000000000,1,2,0.5,1.5,10\n1700000060000,1,2,0.5,1.5,10,7\n1700000120000,1,2,0.5,1.5,10\n' "$HDR" >"$tmp/wide.csv"
run_pt check --interval 1m "$tmp/wide.csv"
expect_out "wide.csv:3: bad_csv: row: 7 fields, the header has 6" "a row wider than the header: file:line and both counts"
expect_out "2 candles, 1 rejected" "the wide row is counted as rejected"
printf 'timestamp,open,high,low,close,volume,close\n1700000000000,1,2,0.5,1.5,10,9\n' >"$tmp/twice.csv"
run_pt check "$tmp/twice.csv"
expect_exit 3 "a column named twice -> exit 3"
expect_err "twice.csv:1: header: column 'close' appears twice (columns 5 and 7)" "the repeated column is named with both positions"
cols() { local n=$1 i h="timestamp,open,high,low,close" r="1700000000000,1,2,0.5,1.5"; for ((i = 6; i < n; i++)); do h+=",x$i"; r+=",0"; done; printf '%s,volume\n%s,10\n' "$h" "$r"; }
cols 256 >"$tmp/c256.csv"; cols 257 >"$tmp/c257.csv"
run_pt check "$tmp/c256.csv"
expect_out "1 candles, 0 rejected" "volume as column 256 (the cap) is read"
run_pt check "$tmp/c257.csv"
expect_exit 3 "volume as column 257 -> exit 3"
expect_err "c257.csv:1: header: column 'volume' is column 257; at most 256 columns are read" "past the cap: says so, with the cap"
expect_no_out "missing required column" "not reported as missing"

# ---------------------------------------------------------------- --cash: one range
printf '%s\n1700000000000,1,2,0.5,1.5,10\n1700000060000,1,2,0.5,1.5,10\n' "$HDR" >"$tmp/BTCUSDT.csv"
run_pt backtest --quiet --cash 1e-9 --out "$tmp/b1" "$tmp/BTCUSDT.csv"
expect_exit 2 "backtest --cash 1e-9 (under the config's 1e-06) -> exit 2"
expect_err "in .1e-06, 1e+15." "the range is the config's"
run_pt backtest --quiet --cash 1e-6 --out "$tmp/b2" "$tmp/BTCUSDT.csv"
expect_exit 0 "backtest --cash 1e-6 (the edge) -> exit 0"
printf '[session]\ncash = 1e-9\n' >"$tmp/cash.ini"
run_pt config check --no-env "$tmp/cash.ini"
expect_exit 2 "config cash = 1e-9 -> exit 2 (the same range)"

# ---------------------------------------------------------------- --tz and DST
{ echo "datetime,open,high,low,close,volume"
  for t in "03-31 01:00" "03-31 01:30" "03-31 02:00" "03-31 02:30" "03-31 03:00" "03-31 03:30" \
           "10-27 01:30" "10-27 02:00" "10-27 02:30" "10-27 02:00" "10-27 02:30" "10-27 03:00"; do
    echo "2024-$t:00,1,2,0.5,1.5,10"; done; } >"$tmp/paris.csv"
run_pt check --json --tz Europe/Paris --interval 30m "$tmp/paris.csv"
n_rej=$(node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8"));const f=d.files[0];console.log(f.rows_rejected, f.rows_ok, JSON.stringify(f.symbols[0].issues))' <<<"$OUT" 2>&1)
case "$n_rej" in
  "2 10 "*'"duplicate":0,'*'"out_of_order":0,'*) ok "DST: only the 2 non-existent rows rejected; no duplicate, no out-of-order ($n_rej)" ;;
  *) bad "DST: only the 2 non-existent rows rejected; no duplicate, no out-of-order" "$n_rej" ;;
esac
run_pt check --tz Europe/Paris --interval 30m "$tmp/paris.csv"
expect_out "paris.csv:4: bad_timestamp: datetime: local time that does not exist" "the spring-forward hour is a clear per-row error (line 4)"
expect_out "paris.csv:5: bad_timestamp" "and line 5"
expect_no_out "paris.csv:6: " "the real rows after it are kept"
expect_no_out "paris.csv:11: " "the repeated fall-back hour is taken in order"
finish
