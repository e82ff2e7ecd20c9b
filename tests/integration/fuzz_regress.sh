#!/usr/bin/env bash
# Replays every seed corpus and regression input (tests/fuzz/corpus/<t>/,
# tests/fuzz/regress/<t>/) through the fuzz targets once. In a normal build
# the targets are plain regression drivers (tests/fuzz/regress_main.c); in a
# PT_FUZZ build they are libFuzzer binaries, which replay with -runs=0. A
# crash, a failed property or (in the ASan build) a sanitizer report or leak
# fails the test. See docs/hardening.md.
set -euo pipefail
: "${PT_BUILD_DIR:?}" "${PT_SOURCE_DIR:?}"
FUZZ_DIR="$PT_SOURCE_DIR/tests/fuzz"
BIN_DIR="$PT_BUILD_DIR/fuzz"
fail=0; ran=0
for src in "$FUZZ_DIR"/fuzz_*.c; do
  t=$(basename "$src" .c)
  bin="$BIN_DIR/$t"
  if [ ! -x "$bin" ]; then
    echo "FAIL $t: $bin not built (PT_FUZZ_REGRESS=OFF?)"; fail=1; continue
  fi
  dirs=()
  for d in "$FUZZ_DIR/corpus/$t" "$FUZZ_DIR/regress/$t"; do [ -d "$d" ] && dirs+=("$d"); done
  if [ ${#dirs[@]} -eq 0 ]; then
    echo "FAIL $t: no corpus under $FUZZ_DIR/corpus/$t"; fail=1; continue
  fi
  # bounded: a hang is a finding too (each input should take far below 1 s)
  if timeout 120 "$bin" -runs=0 -timeout=5 "${dirs[@]}" >"$PT_BUILD_DIR/fuzz/$t.regress.log" 2>&1; then
    echo "ok   $t: $(tail -1 "$PT_BUILD_DIR/fuzz/$t.regress.log")"
    ran=$((ran + 1))
  else
    echo "FAIL $t (exit $?):"; tail -30 "$PT_BUILD_DIR/fuzz/$t.regress.log"; fail=1
  fi
done
echo "fuzz_regress: $ran targets replayed"
exit $fail
