#!/usr/bin/env bash
# papertrader config check: valid example, errors with file:line and key,
# environment precedence, secret files, exit codes.
set -u
. "$(dirname "$0")/lib.bash"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

run_pt config check "$PT_SOURCE_DIR/data/papertrader.example.ini"
expect_exit 0 "example config is valid"
expect_out "slow = 30" "strategy parameter kept"

printf '[session]\ncash = 5000\nintial_cash = 3\nfee_bps = -1\n[server]\nport = 99999\nnot a line\n' > "$tmp/bad.ini"
run_pt config check --no-env "$tmp/bad.ini"
expect_exit 2 "invalid config exits 2"
expect_err "bad.ini:3: unknown key 'intial_cash'" "unknown key with line"
expect_err "did you mean 'cash'" "suggestion"
expect_err "bad.ini:4: \[session\] fee_bps" "range error with line"
expect_err "bad.ini:6: \[server\] port" "port out of range"
expect_err "bad.ini:7: syntax error" "syntax error line"

run_pt config check "$tmp/missing.ini"
expect_exit 2 "missing file exits 2"
expect_err "missing.ini" "names the path"
run_pt config check "$tmp"
expect_exit 2 "a directory exits 2"

printf '[session]\ncash = 100\n' > "$tmp/ok.ini"
PAPERTRADER_SESSION_CASH=250 run_pt config check "$tmp/ok.ini"
expect_out "cash = 250  ; environment PAPERTRADER_SESSION_CASH" "environment beats file"
PAPERTRADER_SESSION_CASH=abc run_pt config check "$tmp/ok.ini"
expect_exit 2 "bad environment value exits 2"
expect_err "PAPERTRADER_SESSION_CASH" "names the variable"
PAPERTRADER_SERVER_TOKEN=s3cr3t-value run_pt config check "$tmp/ok.ini"
expect_exit 0 "token from environment"
expect_no_out "s3cr3t-value" "secret never printed"

# backtest --config: the file's engine keys act as flags placed before the command line's
data="$PT_SOURCE_DIR/data/freqtrade_UNITTEST-BTC_1m.csv"
printf '[session]\ncash = 5000\nfee_bps = 0\n[strategy]\nname = sma_cross\nfast = 5\nslow = 20\n[quality]\nmin_quality = 0\n' > "$tmp/bt.ini"
run_pt backtest --quiet --config "$tmp/bt.ini" --out "$tmp/bt1" "$data"
expect_exit 0 "backtest --config runs"
run_pt backtest --quiet --cash 5000 --fee-bps 0 --param fast=5 --param slow=20 --min-quality 0 --out "$tmp/bt2" "$data"
if cmp -s "$tmp/bt1/trades.csv" "$tmp/bt2/trades.csv" && [ "$(wc -l < "$tmp/bt1/trades.csv")" -gt 1 ]; then
  ok "config file == the same flags (trades.csv identical, with fills)"
else bad "config file and flags differ"; fi
run_pt backtest --quiet --config "$tmp/bt.ini" --cash 7000 --json --out "$tmp/bt3" "$data"
expect_out '"start_equity":[[:space:]]*7000' "a flag beats the file"
PAPERTRADER_SESSION_CASH=6000 run_pt backtest --quiet --config "$tmp/bt.ini" --json --out "$tmp/bt4" "$data"
expect_out '"start_equity":[[:space:]]*6000' "the environment beats the file"
run_pt backtest --quiet --resume "$tmp/bt1"
expect_exit 0 "resume needs no config file (session.json keeps the values)"
printf '[session]\ncahs = 3\n' > "$tmp/btbad.ini"
run_pt backtest --config "$tmp/btbad.ini" "$data"
expect_exit 2 "bad backtest config exits 2"
expect_err "btbad.ini:2: unknown key 'cahs'" "backtest config error names file:line"

finish
