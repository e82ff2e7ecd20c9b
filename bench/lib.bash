# Shared by bench/bench_*.sh: argument handling, peak RSS of a command, medians.
# Usage in a script: NAME=bench_x; . "$(dirname "$0")/lib.bash" "$@"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${1:-build}
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000 10000000)
BIN="$BUILD/papertrader"
GEN="$BUILD/bench/gen_candles"
[ -x "$GEN" ] || cmake --build "$BUILD" --target gen_candles >/dev/null
[ -x "$BIN" ] || { echo "$NAME: $BIN not built" >&2; exit 1; }

# peak RSS of a command in KiB: GNU time if present (apt-get install time),
# else poll VmHWM of the process in /proc until it exits.
peak_rss_run() { # OUTFILE CMD...
  local out=$1; shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%M" -o "$out" "$@" >/dev/null 2>&1 || true
  else
    "$@" >/dev/null 2>&1 &
    local pid=$! hwm=0 v
    while kill -0 "$pid" 2>/dev/null; do
      v=$(awk '/^VmHWM:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
      sleep 0.01
    done
    wait "$pid" || true
    echo "$hwm" >"$out"
  fi
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

tmp=$(mktemp -d "/tmp/pt-$NAME.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
