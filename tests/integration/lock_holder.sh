#!/usr/bin/env bash
# The folder lock names only a live holder (issue 11 item 8; session/session_ledger.c
# session_lock). DIR/.lock keeps the PID of whoever held it last; after a
# crash or restart that PID is dead, and the kernel has dropped the dead
# process's flock: the lock must be taken. While a live process holds the
# flock (here flock(1), which never writes its PID) with a dead PID still
# in the file, exit 6 must name the live holder, not the dead PID.
set -u
. "$(dirname "$0")/lib.bash"

DATA="${PT_SHARED_DATA:?PT_SHARED_DATA not set}"
tmp=$(mktemp -d); holder=""
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT
head -200 "$DATA/freqtrade_UNITTEST-BTC_1m.csv" >"$tmp/BTCUSDT.csv"
sh -c 'exit 0' & dead=$!; wait "$dead" # a PID that no longer runs
kill -0 "$dead" 2>/dev/null && { bad "PID $dead should be dead"; finish; exit; }

# a dead holder's PID in the file, no flock: the lock is taken
mkdir "$tmp/d1" && echo "$dead" >"$tmp/d1/.lock"
run_pt backtest --quiet --out "$tmp/d1" "$tmp/BTCUSDT.csv"
expect_exit 0 "a dead holder's PID in .lock: the lock is taken (exit 0)"
expect_no_out "locked" "no 'locked' message for a dead holder"

# a live holder that never wrote its PID, a dead PID in the file
if command -v flock >/dev/null; then
  mkdir "$tmp/d2" && echo "$dead" >"$tmp/d2/.lock"
  # -o: the lock fd stays in flock(1) only, not in its sleep child
  flock -o -n "$tmp/d2/.lock" sleep 60 & holder=$!
  for _ in $(seq 100); do grep -q " $holder " /proc/locks 2>/dev/null && break; sleep 0.05; done
  run_pt backtest --quiet --out "$tmp/d2" "$tmp/BTCUSDT.csv"
  expect_exit 6 "a live holder -> exit 6"
  expect_err "locked by PID $holder\$" "exit 6 names the live holder (PID $holder)"
  if grep -q "PID $dead\b" <<<"$ERR"; then bad "the dead PID $dead is not named" "$ERR"; else ok "the dead PID $dead is not named"; fi
  child=$(pgrep -P "$holder")
  kill "$holder"; wait "$holder" 2>/dev/null; holder=""
  [ -n "$child" ] && kill "$child" 2>/dev/null
  run_pt backtest --quiet --out "$tmp/d2" "$tmp/BTCUSDT.csv"
  expect_exit 0 "once the holder is gone the lock is taken"
  # the locker dies and a child that inherited its descriptor holds the lock:
  # neither /proc/locks (the locker) nor the file names a live process
  echo "$dead" >"$tmp/d2/.lock"
  flock -n "$tmp/d2/.lock" sleep 60 & holder=$!
  for _ in $(seq 100); do child=$(pgrep -P "$holder"); [ -n "$child" ] && grep -q " $holder " /proc/locks && break; sleep 0.05; done
  kill "$holder"; wait "$holder" 2>/dev/null; holder=$child
  run_pt backtest --quiet --out "$tmp/d2" "$tmp/BTCUSDT.csv"
  expect_exit 6 "an inheritor holds the lock -> exit 6"
  expect_err "locked by a process whose PID is unknown" "no dead PID is named when the holder is unknown"
  kill "$holder" 2>/dev/null; holder=""
else
  ok "# SKIP flock(1) not installed: live-holder case not run"
fi

# a live papertrader holder that wrote its PID is named by it
mkdir "$tmp/d3"
port=$(free_port)
"$PT_BIN" demo --port "$port" --out "$tmp/d3" --speed 1 --quiet "$tmp/BTCUSDT.csv" >/dev/null 2>&1 & holder=$!
for _ in $(seq 200); do [ "$(cat "$tmp/d3/.lock" 2>/dev/null)" = "$holder" ] && break; sleep 0.05; done
run_pt backtest --quiet --out "$tmp/d3" "$tmp/BTCUSDT.csv"
expect_exit 6 "a live session -> exit 6"
expect_err "locked by PID $holder\$" "exit 6 names the live session (PID $holder)"
# the live commands take the same lock the same way: a folder in use is exit 6
# even though it also holds a run (which alone would be exit 2)
run_pt run --quiet --duration 0.1 --no-dashboard --ws-url ws://127.0.0.1:9 --symbols BTCUSDT --out "$tmp/d3"
expect_exit 6 "run --out on a folder a live session holds -> exit 6, not 2"
expect_err "run: $tmp/d3: state dir locked by PID $holder\$" "with the same message as backtest"
kill "$holder"; wait "$holder" 2>/dev/null; holder=""
finish
