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

# [strategy] is checked as the strategy would take it, each error at its line
printf '[strategy]\nname = sma_crossx\n' > "$tmp/s1.ini"
run_pt config check --no-env "$tmp/s1.ini"
expect_exit 2 "config check: unknown strategy exits 2"
expect_err "s1.ini:2: \[strategy\] name = 'sma_crossx': unknown strategy" "names the line of the name"
printf '[strategy]\nname = rsi\nperiod = 1\nfats = 3\n' > "$tmp/s2.ini"
run_pt config check --no-env "$tmp/s2.ini"
expect_exit 2 "config check: bad strategy parameters exit 2"
expect_err "s2.ini:3: \[strategy\].*'period' = 1 out of range" "a range error names its line"
expect_err "s2.ini:4: \[strategy\].*unknown parameter 'fats'" "an unknown key names its line"
expect_err "(2 errors)" "every error in one run"
printf '[strategy]\nname = sma_cross\nfast = 40\nslow = 30\n' > "$tmp/s3.ini"
run_pt config check --no-env "$tmp/s3.ini"
expect_exit 2 "config check: fast > slow exits 2"
expect_err "s3.ini:3, .*s3.ini:4: \[strategy\] sma_cross: fast (40) must be < slow (30)" "a relation names both lines"
run_pt backtest --quiet --config "$tmp/s3.ini" --out "$tmp/s3o" "$data"
expect_exit 2 "backtest --config with fast > slow exits 2"
expect_err "s3.ini:3, .*s3.ini:4: \[strategy\]" "backtest names the config's lines"
run_pt backtest --quiet --config "$tmp/s3.ini" --param slow=50 --out "$tmp/s3p" "$data"
expect_exit 0 "a --param on top can make the file's set valid"
PAPERTRADER_STRATEGY_FAST=0 run_pt backtest --quiet --out "$tmp/s4o" "$data"
expect_exit 2 "a bad strategy value from the environment exits 2"
expect_err "environment PAPERTRADER_STRATEGY_FAST: \[strategy\]" "names the variable"
run_pt run --config "$tmp/s3.ini" --duration 0.1 --no-dashboard
expect_exit 2 "run --config with fast > slow exits 2"
expect_err "s3.ini:3, .*s3.ini:4: \[strategy\]" "run names the config's lines"

finish
