#!/usr/bin/env bash
# Static analysis of the project's C code with cppcheck (2.10 on Debian 12)
# and the checked-in suppressions (scripts/cppcheck-suppressions.txt: only
# verified false positives, each with a reason). Exit 1 on any finding.
# `make lint` runs this. docs/hardening.md says how to handle a finding.
#
# Environment: LINT_DIRS to narrow the folders; CPPCHECK to pick a binary.
set -euo pipefail
cd "$(dirname "$0")/.."
CPPCHECK=${CPPCHECK:-cppcheck}
DIRS=${LINT_DIRS:-"core feed quality sim portfolio ws_server ops session app"}
command -v "$CPPCHECK" >/dev/null || { echo "lint: cppcheck not found (apt-get install cppcheck)" >&2; exit 2; }

incs=()
for d in core feed quality sim portfolio ws_server ops session app; do [ -d "$d" ] && incs+=(-I "$d"); done
cache=${LINT_CACHE:-build-lint}
mkdir -p "$cache"

# warning,style,performance,portability: everything but "information".
# One configuration (-D__GNUC__ -D_GNU_SOURCE), as the build compiles it.
# shellcheck disable=SC2086
out=$("$CPPCHECK" --enable=warning,style,performance,portability --std=c11 --library=posix \
        -D_GNU_SOURCE -D__GNUC__ --inline-suppr --suppressions-list=scripts/cppcheck-suppressions.txt \
        --cppcheck-build-dir="$cache" -j "${JOBS:-2}" --quiet "${incs[@]}" \
        --template='{file}:{line}:{column}: {severity}: {message} [{id}]' $DIRS 2>&1) || true
# unusedFunction: a second pass over the whole program (cppcheck skips the
# check under -j), with the tests, fuzz targets, benches and examples as
# callers too; only findings in the project's own folders count (a plugin's
# entry point in examples/ is called by dlsym).
users=""
for d in tests/unit tests/fuzz bench examples; do [ -d "$d" ] && users+=" $d"; done
# shellcheck disable=SC2086
dead=$("$CPPCHECK" --enable=unusedFunction --std=c11 --library=posix -D_GNU_SOURCE -D__GNUC__ \
         --inline-suppr --suppressions-list=scripts/cppcheck-suppressions.txt --quiet "${incs[@]}" \
         --template='{file}:{line}:{column}: {severity}: {message} [{id}]' $DIRS $users 2>&1 |
       grep '\[unusedFunction\]$' | grep -E "^($(echo $DIRS | tr ' ' '|'))/" || true)
[ -n "$dead" ] && out="${out:+$out
}$dead"
# Layering (docs/session.md "Modules"): no library module includes a header
# of app/, the command line; app/ calls them, never the other way round.
app_h=$(cd app && ls ./*.h 2>/dev/null | sed 's|^\./||' | paste -sd'|' -)
if [ -n "$app_h" ]; then
  back=$(grep -nE "^#include \"($app_h)\"" core/*.[ch] feed/*.[ch] quality/*.[ch] sim/*.[ch] portfolio/*.[ch] \
           ws_server/*.[ch] ops/*.[ch] session/*.[ch] 2>/dev/null | sed 's/$/: error: includes a header of app\/ [layering]/' || true)
  [ -n "$back" ] && out="${out:+$out
}$back"
fi
if [ -n "$out" ]; then
  echo "$out"
  echo "lint: $(echo "$out" | grep -c ': \(error\|warning\|style\|performance\|portability\):') finding(s)" >&2
  exit 1
fi
echo "lint: cppcheck clean ($DIRS)"
