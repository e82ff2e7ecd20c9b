# Shared helpers for integration scripts: run the binary, check exit code and
# output, count results, and print the closing "N passed, N failed" line.
: "${PT_BIN:?PT_BIN not set (run through ctest)}"
PASS=0
FAIL=0
OUT=""
ERR=""
RC=0

run_pt() {
  local o e
  o=$(mktemp) e=$(mktemp)
  "$PT_BIN" "$@" >"$o" 2>"$e"
  RC=$?
  OUT=$(cat "$o") ERR=$(cat "$e")
  rm -f "$o" "$e"
}
ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "$2" | head -20 | sed 's/^/#   /'; }
expect_exit() { if [ "$RC" -eq "$1" ]; then ok "$2"; else bad "$2 (exit $RC, wanted $1)" "$ERR"; fi; }
expect_out() { if grep -q -- "$1" <<<"$OUT"; then ok "$2"; else bad "$2 (stdout lacks '$1')" "$OUT"; fi; }
expect_no_out() { if grep -q -- "$1" <<<"$OUT$ERR"; then bad "$2 (output has '$1')"; else ok "$2"; fi; }
expect_err() { if grep -q -- "$1" <<<"$ERR"; then ok "$2"; else bad "$2 (stderr lacks '$1')" "$ERR"; fi; }
# free TCP port on loopback: ask the kernel
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}
