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

finish
