# Golden outputs: `check --json` and `backtest` (several strategies and option
# sets, --allow-short, a multi-file run) on every file of $PT_SHARED_DATA, each
# output file's sha256 compared with the hashes in tests/golden/<case>.sha256.
# Any refactor that changes one byte of an output fails here and names the file.
#   GOLDEN_RECORD=1 bash tests/integration/golden.sh   re-records the hashes
# (only when an output is meant to change; say why in the commit).
# Paths are made stable: inputs are named relative to the data folder, and
# before hashing the output folder's path becomes @OUT@ (report.html and the
# stdout table name it), the data folder's real path @DATA@ (session.json
# keeps each input's absolute path for --resume) and the source folder @SRC@
# (a --config path); nothing hashed holds wall-clock time. CI keeps ../shared
# somewhere else than a developer does, so nothing hashed may hold either.
set -u
. "$(dirname "$0")/lib.bash"
D="${PT_SHARED_DATA:?PT_SHARED_DATA not set}"
D_REAL=$(realpath "$D")
SRC_REAL=$(realpath "${PT_SOURCE_DIR:?PT_SOURCE_DIR not set}")
G="$PT_SOURCE_DIR/tests/golden"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
RECORD="${GOLDEN_RECORD:-0}"

# hash_case NAME DIR: one "sha256  name" line per file of DIR (sorted), with
# $DIR's path masked, compared with (or recorded into) $G/NAME.sha256
hash_case() {
  local name="$1" dir="$2" f got="$T/$1.sha256"
  : >"$got"
  for f in $(cd "$dir" && ls | LC_ALL=C sort); do
    printf '%s  %s\n' "$(sed -e "s|$dir|@OUT@|g" -e "s|$D_REAL|@DATA@|g" -e "s|$SRC_REAL|@SRC@|g" "$dir/$f" | sha256sum | cut -d' ' -f1)" "$f" >>"$got"
  done
  if [ "$RECORD" = 1 ]; then
    cp "$got" "$G/$name.sha256"; ok "$name recorded"; return
  fi
  if [ ! -f "$G/$name.sha256" ]; then bad "$name: no $G/$name.sha256 (record with GOLDEN_RECORD=1)"; return; fi
  if cmp -s "$got" "$G/$name.sha256"; then ok "$name: $(wc -l <"$got") files byte-identical"
  else bad "$name: outputs changed (- recorded, + now)" "$(diff "$G/$name.sha256" "$got" | grep '^[<>]' | sed 's/^</-/;s/^>/+/')"; fi
}

# backtest_case NAME ARGS...: a backtest into a fresh folder; its stdout and
# exit code are kept beside the files it writes
backtest_case() {
  local name="$1" out="$T/$1"; shift
  (cd "$D" && "$PT_BIN" backtest --quiet --out "$out" "$@" >"$T/$name.stdout" 2>"$T/$name.stderr"
   echo "exit $?" >>"$T/$name.stdout")
  rm -f "$out/.lock"
  mv "$T/$name.stdout" "$out/stdout"
  hash_case "$name" "$out"
}

check_case() {
  local name="$1" out="$T/$1"; shift
  mkdir -p "$out"
  (cd "$D" && "$PT_BIN" check --json "$@" >"$out/check.json" 2>/dev/null; echo "exit $?" >"$out/exit")
  hash_case "$name" "$out"
}

[ "$RECORD" = 1 ] && mkdir -p "$G"
for path in "$D"/*.csv; do
  f=$(basename "$path")
  s=${f%.csv}
  check_case "$s.check" "$f"
  check_case "$s.check-strict" --strict --min-quality 90 "$f"
  backtest_case "$s.default" "$f"
  backtest_case "$s.ema-short" --strategy ema_cross --allow-short --close-at-end "$f"
  backtest_case "$s.rsi-percent" --strategy rsi --param period=10 --sizing percent:25 \
    --fee-bps 5 --maker-fee-bps 2 --slippage-bps 3 --min-quality 0 "$f"
  backtest_case "$s.bollinger-risk" --strategy bollinger --sizing risk:1 --atr-period 10 \
    --atr-mult 3 --max-drawdown-pct 15 --cooldown-losses 2:30 --allow-short "$f"
  backtest_case "$s.donchian-limits" --strategy donchian --param entry=30 --cash 2500 \
    --max-positions 1 --max-exposure-pct 50 --daily-loss-pct 3 --max-participation-pct 10 \
    --sizing quote:500 "$f"
  backtest_case "$s.macd-json" --strategy macd --json --allow-short "$f"
done
backtest_case multi.sma --min-quality 0 freqtrade_UNITTEST-BTC_1m.csv freqtrade_ADA-BTC_5m.csv \
  freqtrade_XRP-ETH_1m.csv
backtest_case multi.short --strategy ema_cross --allow-short --sizing percent:30 --max-positions 2 \
  freqtrade_UNITTEST-BTC_1m.csv freqtrade_ADA-BTC_5m.csv freqtrade_XRP-ETH_1m.csv
PAPERTRADER_RISK_DAILY_LOSS_PCT=5 backtest_case multi.config --config "$G/engine.ini" --slippage-bps 2 \
  freqtrade_UNITTEST-BTC_1m.csv freqtrade_XRP-ETH_1m.csv
check_case multi.check freqtrade_UNITTEST-BTC_1m.csv freqtrade_ADA-BTC_5m.csv \
  freqtrade_XRP-ETH_1m.csv backtrader_index-future_2006_1m.csv
finish
